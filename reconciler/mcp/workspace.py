"""Paths an agent names are confined to the workspace (the directory the server runs in).

A tool argument is hostile input: `..`, absolute paths and symbolic links that lead
out of the workspace are refused before anything is read or written.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import ConfigError


def confine(raw: str, root: Path, *, what: str) -> Path:
    """`raw` resolved inside `root` (symbolic links followed), or a ConfigError naming it."""
    if not raw or "\x00" in raw:
        raise ConfigError(
            f"the {what} path is empty or holds a NUL byte; name a path inside {root}"
        )
    base = root.resolve()
    try:
        target = (base / raw).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        raise ConfigError(f"cannot resolve the {what} path {raw!r}: {exc}") from None
    if not target.is_relative_to(base):
        raise ConfigError(
            f"the {what} path {raw!r} leads outside the workspace {base}; "
            "name a path inside it (relative paths are relative to the workspace)"
        )
    return target


def relative(path: Path, root: Path) -> str:
    """How results name a path: relative to the workspace when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return str(path)
