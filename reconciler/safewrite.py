"""The one way reconciler writes a file inside a chosen directory: never through a link.

The write-side twin of `manifest/files.py`. A directory reconciler writes into (an export's
`--out`, the MCP workspace, the read cache, the local emulator's state) may hold links
planted by whoever could write there: a link named like a file we write would be written
through, a dangling one would create a file wherever it points, a linked subdirectory would
receive what belongs below it. So each path is walked from the chosen directory one step at a
time with O_NOFOLLOW, missing directories are created on the way, and the file is written to
a fresh temporary name (O_EXCL) and renamed over the target: a rename replaces a link that
appears in the meantime, it never follows it. A link met at any step is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path, PurePosixPath

from reconciler.errors import ConfigError

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC


class LinkRefusedError(ConfigError):
    """A path reconciler was to write is, or passes through, a symbolic link."""


def _parts(rel: PurePosixPath) -> tuple[str, ...]:
    parts = rel.parts
    if not parts or rel.is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(f"refusing to write {str(rel)!r}: not a plain relative path")
    return parts


def _refuse(root: Path, parts: tuple[str, ...]) -> LinkRefusedError:
    shown = root.joinpath(*parts)
    return LinkRefusedError(
        f"{shown} is a symbolic link; reconciler never writes through a link (it could lead "
        "outside the directory): remove it, or choose another directory"
    )


def existing(root: Path, rel: PurePosixPath) -> bool:
    """Whether `root/rel` exists (a dangling link counts); a link on the way is refused."""
    parts = _parts(rel)
    here = root
    for i, part in enumerate(parts):
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            return False
        except NotADirectoryError:
            return True  # a file where a directory belongs: the write will say so
        if stat.S_ISLNK(mode):
            raise _refuse(root, parts[: i + 1])
    return True


def write_file(root: Path, rel: PurePosixPath, data: bytes, *, mode: int = 0o666) -> Path:
    """Write `data` at `root/rel`, creating directories on the way; never through a link."""
    parts = _parts(rel)
    if not (os.open in os.supports_dir_fd and _O_NOFOLLOW and _O_DIRECTORY):
        return _write_by_path(root, parts, data, mode)  # no dir_fd walk here (Windows)
    dir_fd = os.open(root, _DIR_FLAGS)
    try:
        for i, part in enumerate(parts[:-1]):
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, dir_fd=dir_fd)
            try:
                step = os.open(part, _DIR_FLAGS | _O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                raise _walk_error(exc, root, parts[: i + 1], dir_fd) from None
            os.close(dir_fd)
            dir_fd = step
        name = parts[-1]
        if _is_link(name, dir_fd):
            raise _refuse(root, parts)
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
            mode,
            dir_fd=dir_fd,
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return root.joinpath(*parts)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except FileNotFoundError:
        return False


def _walk_error(exc: OSError, root: Path, parts: tuple[str, ...], dir_fd: int) -> ConfigError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(parts[-1], dir_fd):
        return _refuse(root, parts)
    if exc.errno == errno.ENOTDIR:
        return ConfigError(f"cannot write below {root.joinpath(*parts)}: it is not a directory")
    return ConfigError(f"cannot write below {root.joinpath(*parts)}: {exc.strerror or exc}")


def _write_by_path(root: Path, parts: tuple[str, ...], data: bytes, mode: int) -> Path:
    existing(root, PurePosixPath(*parts))
    target = root.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)
    return target


def private_dir(path: Path) -> Path:
    """Create (or reuse) a directory only its owner can enter: the read cache, the local
    emulator's state. The directory itself must not be a link: a `.reconciler` committed as
    a link would have us chmod and fill whatever it points at."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise LinkRefusedError(
                f"{path} is a symbolic link; reconciler keeps its state only in a real "
                "directory (a link could lead anywhere): remove it and run again"
            )
    except FileNotFoundError:
        pass
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path
