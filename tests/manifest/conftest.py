from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.merge import ManifestSet, load_manifests

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write a file under tmp_path (dedented when text); tests run with tmp_path as cwd."""
    monkeypatch.chdir(tmp_path)

    def _write(relative: str, content: str | bytes) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"))
        return path

    return _write


def problems_of(*paths: str | Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(list(paths))
    return [str(p) for p in info.value.problems]


def load(*paths: str | Path) -> ManifestSet:
    return load_manifests(list(paths))
