"""The README's manifest reference documents the assets key, with an example that validates
and sets every field of it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.manifest.assets_models import AssetsSpec
from reconciler.manifest.models import ManifestDocument

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_assets_example_validates_and_sets_every_field() -> None:
    text = README.read_text()
    start = text.index("### Static assets (`assets`)")
    section = text[start : text.index("\n### ", start + 1)]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    doc = ManifestDocument.model_validate(yaml.safe_load(block.group(1)))
    (worker,) = doc.workers
    assert worker.assets is not None
    assert all(getattr(worker.assets, key) is not None for key in AssetsSpec.model_fields)


def test_assets_only_worker_and_the_rules() -> None:
    only = {"workers": [{"name": "docs", "assets": {"directory": "public"}}]}
    assert ManifestDocument.model_validate(only).workers[0].script is None
    for first in (True, False, ["/api/*"]):
        AssetsSpec.model_validate({"directory": "d", "run_worker_first": first})
    for bad in ({"run_worker_first": ["api/*"]}, {"run_worker_first": ["/x"] * 101},
                {"binding": "1X"}, {"html_handling": "sometimes"}):  # fmt: skip
        try:
            AssetsSpec.model_validate({"directory": "d", **bad})
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
    neither = {"workers": [{"name": "x"}]}
    try:
        ManifestDocument.model_validate(neither)
    except ValueError as exc:
        assert "script" in str(exc) and "assets" in str(exc)
    else:
        raise AssertionError("a worker with neither script nor assets was accepted")
