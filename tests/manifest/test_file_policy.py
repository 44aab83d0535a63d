"""The one file policy (`reconciler/file_policy.py`), checked again when a file is opened.

The TOCTOU cases swap the file between the check and the open (by wrapping the step that
opens), the way an attacker racing the run would, and expect a refusal, never the new target.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reconciler import file_policy as files
from reconciler.errors import ValueSourceError
from reconciler.file_policy import FileRefusedError, read_manifest_file
from reconciler.values import ValueSource


def _read(path: Path, root: Path | None, limit: int = 1000) -> bytes:
    return read_manifest_file(path, root=root, limit=limit, too_large="is too large")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "m"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.js").write_text("inside\n")
    (tmp_path / "secret.txt").write_text("outside-sentinel\n")
    return root


def test_inside_files_are_read(tree: Path) -> None:
    assert _read(tree / "sub" / "ok.js", tree) == b"inside\n"


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("../secret.txt", "leaves the manifest's directory"),
        ("sub/../../secret.txt", "leaves the manifest's directory"),
        ("/etc/passwd", "leaves the manifest's directory (an absolute path)"),
        ("nope.js", "does not exist"),
        ("sub", "is a directory, not a regular file"),
        (".", "is the manifest's directory itself"),
    ],
)
def test_paths_that_break_the_policy(tree: Path, relative: str, reason: str) -> None:
    with pytest.raises(FileRefusedError, match=re.escape(reason)):
        _read(tree / relative, tree)


def test_dotdot_that_stays_inside_is_still_refused(tree: Path) -> None:
    """`..` is refused as written, even when it would come back in: one simple rule."""
    with pytest.raises(FileRefusedError, match="leaves the manifest's directory"):
        _read(tree / "sub" / ".." / "sub" / "ok.js", tree)


def test_links_out_are_refused_links_within_are_followed(tree: Path, tmp_path: Path) -> None:
    (tree / "out.txt").symlink_to(tmp_path / "secret.txt")
    (tree / "outdir").symlink_to(tmp_path, target_is_directory=True)
    (tree / "in.js").symlink_to("sub/ok.js")
    for link in ("out.txt", "outdir/secret.txt"):
        with pytest.raises(FileRefusedError, match=r"symbolic link .* leads outside"):
            _read(tree / link, tree)
    assert _read(tree / "in.js", tree) == b"inside\n"
    # --allow-outside-files (root None) lifts the location rule only.
    assert _read(tree / "out.txt", None) == b"outside-sentinel\n"


def test_reads_stop_at_the_limit(tree: Path) -> None:
    (tree / "big").write_bytes(b"x" * 1001)
    (tree / "edge").write_bytes(b"x" * 1000)
    with pytest.raises(FileRefusedError, match="is too large"):
        _read(tree / "big", tree)
    assert len(_read(tree / "edge", tree)) == 1000


def test_a_file_swapped_for_a_link_after_the_check_is_refused(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_walk = files._open_walk

    def swap_then_open(real_root: Path, parts: tuple[str, ...]) -> int:
        target = real_root.joinpath(*parts)
        target.unlink()
        target.symlink_to(tmp_path / "secret.txt")
        return real_walk(real_root, parts)

    monkeypatch.setattr(files, "_open_walk", swap_then_open)
    with pytest.raises(FileRefusedError, match="changed into a symbolic link") as info:
        _read(tree / "sub" / "ok.js", tree)
    assert "outside-sentinel" not in str(info.value)


def test_a_directory_swapped_for_a_link_after_the_check_is_refused(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "ok.js").write_text("outside-sentinel\n")
    real_walk = files._open_walk

    def swap_then_open(real_root: Path, parts: tuple[str, ...]) -> int:
        (real_root / "sub").rename(real_root / "was-sub")
        (real_root / "sub").symlink_to(tmp_path / "evil", target_is_directory=True)
        return real_walk(real_root, parts)

    monkeypatch.setattr(files, "_open_walk", swap_then_open)
    with pytest.raises(FileRefusedError, match="changed into a symbolic link"):
        _read(tree / "sub" / "ok.js", tree)


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_without_blocking(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NONBLOCK makes the open return at once; fstat of the opened fd refuses the FIFO."""
    real_walk = files._open_walk

    def swap_then_open(real_root: Path, parts: tuple[str, ...]) -> int:
        target = real_root.joinpath(*parts)
        target.unlink()
        os.mkfifo(target)
        return real_walk(real_root, parts)

    monkeypatch.setattr(files, "_open_walk", swap_then_open)
    with pytest.raises(FileRefusedError, match="is a FIFO"):
        _read(tree / "sub" / "ok.js", tree)


def test_value_files_are_checked_again_when_read(tree: Path, tmp_path: Path) -> None:
    """validate passed; the plan's read, later, sees the file replaced by a link out."""
    source = ValueSource(file=tree / "sub" / "ok.js", root=tree)
    assert source.read() == "inside"
    (tree / "sub" / "ok.js").unlink()
    (tree / "sub" / "ok.js").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ValueSourceError, match="symbolic link") as info:
        source.read()
    assert "outside-sentinel" not in str(info.value)


def test_an_env_value_with_a_bad_byte_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.environ holds b'\\xff' as a lone surrogate; encoding it raised UnicodeEncodeError."""
    monkeypatch.setitem(os.environb, b"BAD_BYTES", b"ab\xffcd-sentinel")  # type: ignore[attr-defined]
    with pytest.raises(ValueSourceError) as info:
        ValueSource(env="BAD_BYTES").read()
    assert str(info.value) == (
        "the environment variable BAD_BYTES is not UTF-8 text (bad byte at offset 2); "
        "a secret value is text"
    )
