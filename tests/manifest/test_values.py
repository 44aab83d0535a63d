"""Value sources: read only when needed; errors name the source, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ValueSourceError
from reconciler.values import ValueSource


def test_env_and_file_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SECRET", "abc")
    (tmp_path / "v.txt").write_text("from-file\n")
    assert ValueSource(env="SOME_SECRET").read() == "abc"
    assert ValueSource(file=tmp_path / "v.txt").read() == "from-file"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"env": "UNSET_VAR"}, "the environment variable UNSET_VAR is not set"),
        ({"env": "EMPTY_VAR"}, "the environment variable EMPTY_VAR is empty"),
        ({"file": "missing.txt"}, "the file .*missing.txt does not exist"),
        ({"file": "empty.txt"}, "is empty; a secret needs a value"),
        ({"file": "binary.bin"}, "is not UTF-8 text"),
    ],
)
def test_unusable_sources_name_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: dict[str, str], message: str
) -> None:
    monkeypatch.delenv("UNSET_VAR", raising=False)
    monkeypatch.setenv("EMPTY_VAR", "")
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe secret-ish")
    source = (
        ValueSource(env=setup["env"])
        if "env" in setup
        else ValueSource(file=tmp_path / setup["file"])
    )
    with pytest.raises(ValueSourceError, match=message) as info:
        source.read()
    assert "secret-ish" not in str(info.value)
