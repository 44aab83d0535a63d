"""A Worker's static-asset directory as the API's upload manifest: every file's path, hash
and size, exactly as wrangler builds it, so a directory wrangler deployed matches ours.

wrangler (workers-sdk `src/assets.ts` `buildAssetManifest`, `pages/hash.ts` `hashFile`,
`workers-shared/utils` `createAssetsIgnoreFunction`, `normalizeFilePath`):

- the hash is the first 32 hex characters of BLAKE3 over the file's base64 content followed
  by its extension without the dot (`path.extname`); here the base64 is fed to the hasher in
  3-byte-aligned chunks as the file streams, so no file is ever held whole;
- paths are `/` + the path relative to the directory with `/` separators;
- `.assetsignore` (gitignore syntax) lists what to leave out; `/.assetsignore`, `/_headers`
  and `/_redirects` are always left out (the last two go in the upload's config as text);
- a file is at most 25 MiB; a directory at most 20,000 files (the session token may allow
  another count: wrangler reads `max_file_count_allowed` from it; 20,000 is its default).

Every file is also read through the manifest file policy (`file_policy`): inside the
manifest's directory, a regular file, no link that leaves it. A link to a directory is not
followed (Node's recursive readdir does not descend into one either).
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.file_policy import (
    FileRefusedError,
    _confined_parts,
    _kind,
    open_manifest_file,
    read_manifest_file,
)

MAX_ASSET_BYTES = 25 * 1024 * 1024
ASSET_TOO_LARGE = "is larger than 25 MiB, the Workers static asset size limit"
MAX_ASSET_COUNT = 20_000
IGNORE_FILE = ".assetsignore"
HEADERS_FILE = "_headers"
REDIRECTS_FILE = "_redirects"
# `_headers`, `_redirects` and `.assetsignore` are small text files read whole.
MAX_RULES_BYTES = 1024 * 1024
_RULES_TOO_LARGE = "is larger than 1 MiB"
# A multiple of 3, so each chunk's base64 is the base64 of the whole file's piece.
CHUNK = 3 * 256 * 1024
HASH_HEX_CHARS = 32


class AssetError(ReconcilerError):
    """A file of an asset directory breaks the file policy or the API's limits."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} {reason}" if path else reason)
        self.path = path
        self.reason = reason


def extension(name: str) -> str:
    """Node's `path.extname(name).substring(1)`: what follows the last dot of the base name,
    unless that dot starts the name (".env" has none)."""
    base = posixpath.basename(name)
    dot = base.rfind(".")
    if dot <= 0 or base.strip(".") == "":
        return ""
    return base[dot + 1 :]


class AssetHasher:
    """wrangler's asset hash, fed with the file's raw bytes piece by piece."""

    def __init__(self, name: str) -> None:
        from blake3 import blake3

        self._hash = blake3()
        self._ext = extension(name).encode()
        self._carry = b""
        self.size = 0

    def update(self, data: bytes) -> bytes:
        """Add raw bytes; returns the base64 text they complete (for an upload)."""
        self.size += len(data)
        if self._carry:
            data = self._carry + data
        cut = len(data) - len(data) % 3
        # No copy of the chunk when it is whole (reads are CHUNK long, a multiple of 3).
        self._carry = data[cut:]
        encoded = base64.b64encode(memoryview(data)[:cut])
        self._hash.update(encoded)
        return encoded

    def finish(self) -> tuple[str, bytes]:
        """The hash, and the last base64 text (the padded tail)."""
        tail = base64.b64encode(self._carry)
        self._hash.update(tail)
        self._hash.update(self._ext)
        return self._hash.hexdigest()[:HASH_HEX_CHARS], tail


def hash_bytes(name: str, content: bytes) -> str:
    """The hash of a file held in memory (the emulator checks uploads with it)."""
    hasher = AssetHasher(name)
    hasher.update(content)
    return hasher.finish()[0]


def hash_base64(name: str, encoded: bytes) -> str:
    """The hash of a file given as its base64 text (as the upload sends it)."""
    from blake3 import blake3

    h = blake3(encoded)
    h.update(extension(name).encode())
    return h.hexdigest()[:HASH_HEX_CHARS]


def content_type(path: str) -> str:
    """The part's type as wrangler sends it (mime type, text with charset, else null)."""
    guessed, _ = mimetypes.guess_type(path, strict=False)
    if guessed is None:
        return "application/null"
    if guessed.startswith("text/") and "charset" not in guessed:
        return f"{guessed}; charset=utf-8"
    return guessed


@dataclass(frozen=True)
class AssetFile:
    path: str  # "/index.html"
    hash: str
    size: int


@dataclass(frozen=True)
class AssetTree:
    """An asset directory as planned: its files (sorted by path), the `_headers` and
    `_redirects` texts, and a digest of both."""

    files: tuple[AssetFile, ...]
    headers: str | None
    redirects: str | None

    def manifest(self) -> dict[str, dict[str, object]]:
        """The upload session's body: `{"/path": {"hash", "size"}}`."""
        return {f.path: {"hash": f.hash, "size": f.size} for f in self.files}

    def digest(self) -> str:
        return tree_digest({f.path: f.hash for f in self.files}, self.headers, self.redirects)


def tree_digest(hashes: dict[str, str], headers: str | None, redirects: str | None) -> str:
    """One hash of every path with its content hash and the rules texts."""
    doc = {"files": sorted(hashes.items()), "_headers": headers, "_redirects": redirects}
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _ignore_spec(directory: Path, root: Path | None) -> object:
    import pathspec

    patterns = [f"/{IGNORE_FILE}", f"/{HEADERS_FILE}", f"/{REDIRECTS_FILE}"]
    path = directory / IGNORE_FILE
    if os.path.lexists(path):
        try:
            text = read_manifest_file(
                path, root=root, limit=MAX_RULES_BYTES, too_large=_RULES_TOO_LARGE
            )
        except FileRefusedError as exc:
            raise AssetError(f"/{IGNORE_FILE}", str(exc)) from None
        patterns += text.decode("utf-8", "replace").split("\n")
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _rules(directory: Path, root: Path | None, name: str) -> str | None:
    path = directory / name
    if not os.path.lexists(path):
        return None
    try:
        data = read_manifest_file(
            path, root=root, limit=MAX_RULES_BYTES, too_large=_RULES_TOO_LARGE
        )
    except FileRefusedError as exc:
        raise AssetError(f"/{name}", str(exc)) from None
    return data.decode("utf-8", "replace")


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _walk(dir_fd: int, prefix: str = "") -> Iterator[tuple[str, int, os.DirEntry[str]]]:
    """(relative path with `/`, the directory's descriptor, the entry) of every entry but
    directories, in sorted order. Directories are opened one step at a time from the asset
    directory, never through a link (a link to a directory is not descended, as in wrangler),
    so every file met this way lies inside it: no per-file path resolution."""
    try:
        with os.scandir(dir_fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise AssetError("/" + prefix, f"cannot be listed: {exc.strerror or exc}") from None
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            try:
                sub = os.open(entry.name, _DIR_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                raise AssetError("/" + rel, f"cannot be opened: {exc.strerror or exc}") from None
            try:
                yield from _walk(sub, rel + "/")
            finally:
                os.close(sub)
        else:
            yield rel, dir_fd, entry


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def check_directory(directory: Path, root: Path | None) -> None:
    """The directory itself: inside the manifest's directory, and a directory."""
    if root is not None:
        try:
            _confined_parts(directory, root)
        except FileRefusedError as exc:
            if str(exc) != "is the manifest's directory itself, not a file":
                raise AssetError("", f"directory {exc}") from None
    if not directory.is_dir():
        what = "does not exist" if not os.path.lexists(directory) else "is not a directory"
        raise AssetError("", f"directory {what}")


def read_tree(
    directory: Path, root: Path | None, *, max_files: int = MAX_ASSET_COUNT
) -> tuple[AssetTree, list[AssetError]]:
    """Hash every file of the directory (streamed, never held); the problems, each naming its
    file, come back rather than stop the walk, so `validate` lists them all at once."""
    check_directory(directory, root)
    ignore = _ignore_spec(directory, root)
    problems: list[AssetError] = []
    files: list[AssetFile] = []
    top = os.open(directory, _DIR_FLAGS)
    try:
        for rel, dir_fd, entry in _walk(top):
            if ignore.match_file(rel):  # type: ignore[attr-defined]
                continue
            try:
                found = _hash_entry(directory, root, rel, dir_fd, entry)
            except AssetError as exc:
                problems.append(exc)
                continue
            if found is not None:
                files.append(AssetFile("/" + rel, *found))
    finally:
        os.close(top)
    if len(files) > max_files:
        problems.append(
            AssetError(
                "",
                f"has {len(files):,} files; Workers static assets allow {max_files:,} per "
                f"Worker: leave build output out with {IGNORE_FILE} or split the site",
            )
        )
    headers = redirects = None
    try:
        headers = _rules(directory, root, HEADERS_FILE)
        redirects = _rules(directory, root, REDIRECTS_FILE)
    except AssetError as exc:
        problems.append(exc)
    files.sort(key=lambda f: f.path)
    return AssetTree(tuple(files), headers, redirects), problems


def _hash_entry(
    directory: Path, root: Path | None, rel: str, dir_fd: int, entry: os.DirEntry[str]
) -> tuple[str, int] | None:
    """A walked entry's hash and size; None for a link to a directory (skipped)."""
    if entry.is_symlink():
        if _is_dir(entry.path):
            return None
        return hash_file(directory / rel, root, rel)  # a link: the whole file policy
    try:
        kind = _kind(entry.stat(follow_symlinks=False).st_mode)
    except OSError as exc:
        raise AssetError("/" + rel, f"cannot be read: {exc.strerror or exc}") from None
    if kind is not None:
        # Refused before open: opening a FIFO or a device may block or have side effects.
        raise AssetError("/" + rel, f"is {kind}, not a regular file")
    try:
        fd = os.open(entry.name, _FILE_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        raise AssetError("/" + rel, f"cannot be read: {exc.strerror or exc}") from None
    hasher = AssetHasher(rel)
    for _ in _stream_fd(fd, rel, hasher):
        pass
    return hasher.finish()[0], hasher.size


def stream_file(path: Path, root: Path | None, name: str, hasher: AssetHasher) -> Iterator[bytes]:
    """The file's base64 text piece by piece (all but the padded tail, `hasher.finish`),
    through the file policy and the size limit."""
    try:
        fd = open_manifest_file(path, root=root)
    except FileRefusedError as exc:
        raise AssetError("/" + name, str(exc)) from None
    return _stream_fd(fd, name, hasher)


def _stream_fd(fd: int, name: str, hasher: AssetHasher) -> Iterator[bytes]:
    """Read an open file (closed at the end) in chunks, within the size limit."""
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise AssetError("/" + name, f"is {kind}, not a regular file")
        while True:
            try:
                chunk = os.read(fd, CHUNK)
            except OSError as exc:
                raise AssetError("/" + name, f"cannot be read: {exc.strerror or exc}") from None
            if not chunk:
                return
            if hasher.size + len(chunk) > MAX_ASSET_BYTES:
                raise AssetError("/" + name, ASSET_TOO_LARGE)
            yield hasher.update(chunk)
    finally:
        os.close(fd)


def hash_file(path: Path, root: Path | None, name: str) -> tuple[str, int]:
    """One file's hash and size, streamed."""
    hasher = AssetHasher(name)
    for _ in stream_file(path, root, name, hasher):
        pass
    return hasher.finish()[0], hasher.size


def encode_file(path: Path, root: Path | None, name: str, expected: str) -> bytes:
    """The file's base64 content for the upload, re-hashed as it streams: a file that is no
    longer what the plan hashed is refused."""
    hasher = AssetHasher(name)
    pieces = list(stream_file(path, root, name, hasher))
    digest, tail = hasher.finish()
    if digest != expected:
        raise AssetError("/" + name, "changed after the plan read it")
    pieces.append(tail)
    return b"".join(pieces)
