"""Drift's JSON and Markdown say what drift is: its own options, its own comment marker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reconciler.plan.render_markdown import DRIFT_MARKER, MARKER
from tests.checkout import LOCAL_STATE

from .conftest import REPO, Cli


def test_drift_json_shows_drifts_own_options(served_cli: Cli, tmp_path: Path) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    plain = served_cli("drift", "manifests", "--format", "json")
    assert plain.exit_code == 2, plain.output
    doc = json.loads(plain.stdout)
    assert doc["options"] == {"fail_on": None}
    assert doc["summary"]["create"] == 5
    strict = served_cli("drift", "manifests", "--format", "json", "--fail-on", "unmanaged")
    assert json.loads(strict.stdout)["options"] == {"fail_on": "unmanaged"}
    # The plan keeps its own options.
    planned = served_cli("plan", "manifests", "--format", "json", "--prune")
    assert json.loads(planned.stdout)["options"] == {"prune": True, "force": False, "replace": []}


def test_drift_markdown_has_its_own_marker(served_cli: Cli, tmp_path: Path) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    drift = served_cli("drift", "manifests", "--format", "markdown")
    assert drift.stdout.startswith(DRIFT_MARKER + "\n")
    assert MARKER not in drift.stdout
    plan = served_cli("plan", "manifests", "--format", "markdown")
    assert plan.stdout.startswith(MARKER + "\n") and DRIFT_MARKER not in plan.stdout
