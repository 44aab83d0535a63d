"""Export writes never follow a planted link (issue 21).

`export --force` into a directory holding a link wrote through it; a dangling link created a
file outside; a linked subdirectory received the scripts. Every file export writes is created
inside the chosen directory without following a link, or refused with one sentence.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from reconciler.errors import ConfigError
from reconciler.export import Export

FILES = {
    PurePosixPath("stores.yaml"): b"stores: []\n",
    PurePosixPath("scripts/api/index.js"): b"export default {}\n",
}


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    return out, outside


def _export() -> Export:
    return Export(account_id="a" * 32, files=dict(FILES))


@pytest.mark.parametrize("force", [True, False])
def test_a_link_to_a_file_outside_is_not_written_through(
    dirs: tuple[Path, Path], force: bool
) -> None:
    out, outside = dirs
    victim = outside / "victim.txt"
    victim.write_text("precious\n")
    (out / "stores.yaml").symlink_to(victim)
    with pytest.raises(ConfigError, match=r"stores\.yaml is a symbolic link"):
        _export().write(out, force=force)
    assert victim.read_text() == "precious\n"
    assert not (out / "scripts").exists(), "nothing is written when one target is refused"


def test_a_dangling_link_creates_no_file_outside(dirs: tuple[Path, Path]) -> None:
    out, outside = dirs
    (out / "stores.yaml").symlink_to(outside / "created.yaml")
    with pytest.raises(ConfigError, match=r"stores\.yaml is a symbolic link"):
        _export().write(out, force=True)
    assert os.listdir(outside) == []


def test_a_linked_subdirectory_does_not_receive_the_scripts(dirs: tuple[Path, Path]) -> None:
    out, outside = dirs
    (out / "scripts").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"scripts is a symbolic link"):
        _export().write(out, force=True)
    assert os.listdir(outside) == []


def test_a_link_planted_between_the_check_and_the_write_is_not_followed(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write itself refuses a link (O_NOFOLLOW walk), not only the check before it."""
    out, outside = dirs
    from reconciler import safewrite

    real = safewrite.write_file

    def plant_then_write(root: Path, rel: PurePosixPath, data: bytes) -> Path:
        if rel == PurePosixPath("scripts/api/index.js") and not (out / "scripts").exists():
            (out / "scripts").symlink_to(outside, target_is_directory=True)
        return real(root, rel, data)

    monkeypatch.setattr(safewrite, "write_file", plant_then_write)
    with pytest.raises(ConfigError, match="symbolic link"):
        _export().write(out, force=True)
    assert os.listdir(outside) == []


def test_force_still_overwrites_regular_files(dirs: tuple[Path, Path]) -> None:
    out, _ = dirs
    (out / "stores.yaml").write_text("old\n")
    written = _export().write(out, force=True)
    assert (out / "stores.yaml").read_bytes() == FILES[PurePosixPath("stores.yaml")]
    assert (out / "scripts/api/index.js").read_bytes() == FILES[
        PurePosixPath("scripts/api/index.js")
    ]
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "scripts/api/index.js",
        "stores.yaml",
    ]


# --- the read cache and the local emulator's state -----------------------------------------


def test_the_read_cache_is_not_written_through_a_linked_directory(dirs: tuple[Path, Path]) -> None:
    from reconciler.cloudflare.cache import CachedScript, ScriptCache

    out, outside = dirs
    (out / "cache").symlink_to(outside, target_is_directory=True)
    cache = ScriptCache.open(out / "cache", "a" * 32)
    cache.put("w", CachedScript("etag", "2026-01-01T00:00:00Z", {}, None))
    with pytest.raises(ConfigError, match=r"cache is a symbolic link"):
        cache.save("a" * 32)
    assert os.listdir(outside) == []


def test_the_read_cache_file_is_not_written_through_a_planted_link(
    dirs: tuple[Path, Path],
) -> None:
    from reconciler.cloudflare.cache import CachedScript, ScriptCache

    out, outside = dirs
    cache = ScriptCache.open(out / "cache", "a" * 32)
    assert cache.path is not None
    (out / "cache").mkdir()
    victim = outside / "victim.json"
    victim.write_text("precious")
    cache.path.symlink_to(victim)
    cache.put("w", CachedScript("etag", "2026-01-01T00:00:00Z", {}, None))
    with pytest.raises(ConfigError, match="is a symbolic link"):
        cache.save("a" * 32)
    assert victim.read_text() == "precious"


def test_a_linked_state_directory_is_neither_chmodded_nor_filled(dirs: tuple[Path, Path]) -> None:
    from reconciler.local import private_dir

    out, outside = dirs
    outside.chmod(0o755)
    (out / ".reconciler").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"\.reconciler is a symbolic link"):
        private_dir(out / ".reconciler")
    assert outside.stat().st_mode & 0o777 == 0o755


def test_a_linked_emulator_database_is_refused(dirs: tuple[Path, Path]) -> None:
    from reconciler.emulator.db import Database

    out, outside = dirs
    (out / "local.db").symlink_to(outside / "elsewhere.db")
    with pytest.raises(ConfigError, match="it is a symbolic link"):
        Database(str(out / "local.db"))
    assert os.listdir(outside) == []
