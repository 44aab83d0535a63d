"""The README's manifest reference documents every settings key, with an example that validates."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.manifest.models import ManifestDocument
from reconciler.settings_forms import KEYS

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("### Worker settings")
    return text[start : text.index("\n### ", start + 1)]


def test_the_settings_example_validates_and_sets_every_key() -> None:
    block = re.search(r"```yaml\n(.*?)```", _section(), re.S)
    assert block is not None
    doc = ManifestDocument.model_validate(yaml.safe_load(block.group(1)))
    (worker,) = doc.workers
    assert all(getattr(worker, key) is not None for key in KEYS)


def test_the_settings_table_has_a_row_per_key() -> None:
    rows = [line for line in _section().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(KEYS)
