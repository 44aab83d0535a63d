"""The one way to read a file a manifest names (`script`, `modules`, `value_from: {file}`).

A manifest is input from whoever can open a pull request, so every path it names is checked
against one policy: inside the manifest's directory (no absolute path, no `..`, no symbolic
link that leads out), a regular file (never a FIFO, device, socket or directory), and at most
a known number of bytes. `--allow-outside-files` lifts the location rule only; the type and
size rules always hold. The policy is checked when `validate` runs and again when the file is
opened (the path is walked from the directory with O_NOFOLLOW and the opened descriptor is
checked with fstat), so a file swapped after the check is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from reconciler.errors import ReconcilerError

# The Workers script size limit (paid plan; the emulator's request limit uses the same figure).
MAX_SCRIPT_BYTES = 10 * 1024 * 1024
SCRIPT_TOO_LARGE = (
    f"is larger than {MAX_SCRIPT_BYTES // (1024 * 1024)} MiB, the Workers script size limit"
)
# Secrets Store values are at most 65,536 bytes; a file may add the line ending editors write.
MAX_VALUE_BYTES = 65_536
MAX_VALUE_FILE_BYTES = MAX_VALUE_BYTES + len("\r\n")
# Far beyond any real manifest (2,000 workers take about 400 KB), far below a memory problem.
MAX_MANIFEST_BYTES = 8 * 1024 * 1024

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | _O_NOCTTY
_WALK = os.open in os.supports_dir_fd and bool(_O_NOFOLLOW and _O_DIRECTORY)

OUTSIDE_HINT = "keep such files beside the manifests or pass --allow-outside-files"


class FileRefusedError(ReconcilerError):
    """A file a manifest names breaks the file policy or cannot be read.

    The message is the reason only ("is a FIFO, not a regular file"); the caller adds what the
    file is for and where the manifest names it.
    """


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _confined_parts(path: Path, root: Path) -> tuple[Path, tuple[str, ...]]:
    """The resolved manifest directory and the resolved file's steps below it.

    Raises FileRefusedError when the path as written, or the file a link leads to, is outside.
    """
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise FileRefusedError(
            f"leaves the manifest's directory (an absolute path); {OUTSIDE_HINT}"
        ) from None
    if ".." in relative.parts:
        raise FileRefusedError(f"leaves the manifest's directory; {OUTSIDE_HINT}")
    real_root = root.resolve()
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        raise FileRefusedError("does not exist") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        raise FileRefusedError(f"cannot be resolved: {_reason(exc)}") from None
    try:
        parts = target.relative_to(real_root).parts
    except ValueError:
        raise FileRefusedError(
            "is a symbolic link (or lies below one) that leads outside the manifest's "
            f"directory; {OUTSIDE_HINT}"
        ) from None
    if not parts:
        raise FileRefusedError("is the manifest's directory itself, not a file")
    return real_root, parts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[0].isupper() else exc.strerror
    return str(exc)


def _open_walk(real_root: Path, parts: tuple[str, ...]) -> int:
    """Open root/parts... one step at a time, never following a link: a swap fails here."""
    dir_fd = os.open(real_root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts[:-1]:
            step = os.open(
                part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dir_fd
            )
            os.close(dir_fd)
            dir_fd = step
        return os.open(parts[-1], _FILE_FLAGS | _O_NOFOLLOW, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def _open(path: Path, root: Path | None) -> int:
    if root is None:
        return os.open(path, _FILE_FLAGS)
    real_root, parts = _confined_parts(path, root)
    kind = _kind(os.lstat(real_root.joinpath(*parts)).st_mode)
    if kind is not None:
        # Refused before open: opening a FIFO or a device may block or have side effects.
        raise FileRefusedError(f"is {kind}, not a regular file")
    if _WALK:
        return _open_walk(real_root, parts)
    return os.open(real_root.joinpath(*parts), _FILE_FLAGS | _O_NOFOLLOW)


def _check_type(path: Path, root: Path | None) -> None:
    """Without confinement the path may be anything: look before opening (no FIFO hang)."""
    if root is None:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return  # open reports it
        kind = _kind(mode)
        if kind is not None:
            raise FileRefusedError(f"is {kind}, not a regular file")


def read_manifest_file(path: Path, *, root: Path | None, limit: int, too_large: str) -> bytes:
    """Read a file a manifest names: at most `limit` bytes, or FileRefusedError.

    `path` is the manifest's directory joined with the path as written; `root` is that
    directory, or None with --allow-outside-files (then only the type and size rules apply).
    Never reads more than limit + 1 bytes, whatever the file is; a larger file is refused with
    the `too_large` reason.
    """
    fd = open_manifest_file(path, root=root)
    try:
        data = _read_at_most(fd, limit + 1)
    except OSError as exc:
        raise FileRefusedError(f"cannot be read: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileRefusedError(too_large)
    return data


def open_manifest_file(path: Path, *, root: Path | None) -> int:
    """Open a file a manifest names, by the same policy, for reading in a stream: the
    descriptor of a regular file (the caller closes it), or FileRefusedError."""
    _check_type(path, root)
    try:
        fd = _open(path, root)
    except FileRefusedError:
        raise
    except FileNotFoundError:
        raise FileRefusedError("does not exist") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            # O_NOFOLLOW met a link that was not there when the path was checked.
            raise FileRefusedError(
                f"changed into a symbolic link while being read; {OUTSIDE_HINT}"
            ) from None
        raise FileRefusedError(f"cannot be read: {_reason(exc)}") from None
    try:
        kind = _kind(os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise FileRefusedError(f"cannot be read: {_reason(exc)}") from None
    if kind is not None:
        os.close(fd)
        raise FileRefusedError(f"is {kind}, not a regular file")
    return fd


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
