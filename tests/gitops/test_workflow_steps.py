"""Run the GitHub recipes' steps against the emulator: reconciler's action with each
recipe's own `with:` inputs (its steps run here as a runner runs them, see
tests/integrations/action_runner.py), and the recipes' shell steps as written, with
`bash -e -o pipefail`, the action's outputs in their `${{ steps... }}` places."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.plan.render_markdown import DRIFT_MARKER, MARKER
from tests.checkout import LOCAL_STATE
from tests.integrations.action_runner import ActionRun, Runner, local_install

from .conftest import EXAMPLES, FINGERPRINT_KEY, REPO, Cli
from .test_workflows import OUR_ACTION

WORKFLOWS = EXAMPLES / "github-actions"
CLASSIC_SOURCE = REPO / "manifests/workers/hello-classic.js"
OUTPUT = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}")


def _steps(workflow: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return [dict(s) for job in doc["jobs"].values() for s in job["steps"]]


def _step(workflow: str, name: str) -> dict[str, Any]:
    return next(s for s in _steps(workflow) if s.get("name", "").startswith(name))


class Recipes:
    def __init__(self, cli: Cli, tmp_path: Path) -> None:
        self.cli = cli
        self.runner = Runner(REPO, github={"token": "unused"}, runner_temp=tmp_path / "temp")
        self.env = {**local_install(tmp_path), **cli.env}
        self.outputs: dict[str, dict[str, str]] = {}

    def action(self, workflow: str, name: str, **env: str) -> ActionRun:
        """The recipe's step that uses reconciler's action, with its own inputs."""
        step = _step(workflow, name)
        assert step["uses"] == OUR_ACTION
        done = self.runner.run(step.get("with", {}), {**self.env, **env}, Path.cwd())
        self.outputs[step.get("id", name)] = done.outputs
        return done

    def shell(self, workflow: str, name: str) -> subprocess.CompletedProcess[str]:
        """A `run:` step as written, its `env:` taken from the actions' outputs."""
        step = _step(workflow, name)
        env = {k: OUTPUT.sub(lambda m: self.outputs[m[1]][m[2]], v) for k, v in step["env"].items()}
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )


@pytest.fixture
def recipes(served_cli: Cli, tmp_path: Path) -> Recipes:
    """The working directory looks like a checkout: the repository's manifests/."""
    shutil.copytree(REPO / "manifests", "manifests", ignore=LOCAL_STATE)
    return Recipes(served_cli, tmp_path)


def test_plan_then_apply_on_merge_then_a_stale_plan_is_refused(recipes: Recipes) -> None:
    plan = recipes.action("reconciler-plan.yml", "Plan")
    assert plan.failed is None, plan.failed
    assert plan.outputs["exit-code"] == "0"
    kept = recipes.shell("reconciler-plan.yml", "Keep the plan")
    assert kept.returncode == 0, kept.stderr
    assert Path("plan.md").read_text().startswith(MARKER)
    assert json.loads(Path("plan.json").read_text())["summary"]["create"] > 0

    applied = recipes.action("reconciler-apply.yml", "Apply the reviewed plan")
    assert applied.failed is None, applied.failed
    report = json.loads(applied.outputs["json"])
    assert report["ok"] is True and report["summary"]["done"] > 0
    # The same plan again: the account changed since it was made, so it is refused.
    stale = recipes.action("reconciler-apply.yml", "Apply the reviewed plan")
    assert stale.outputs["exit-code"] == "1"
    assert stale.failed is not None and stale.failed.returncode == 1
    assert "nothing was changed" in stale.step("Run reconciler").stderr

    # A manual run plans the manifests on main and applies that plan: nothing left to do.
    manual = recipes.action("reconciler-apply.yml", "Plan and apply the manifests on main")
    assert manual.failed is None
    assert json.loads(manual.outputs["json"])["outcomes"] == []


def test_plan_with_conflicts_fails_the_job_after_the_outputs(recipes: Recipes) -> None:
    plan = recipes.action("reconciler-plan.yml", "Plan", RECONCILER_MAX_STORES="0")
    assert plan.outputs["exit-code"] == "3"
    assert "Conflicts" in Path(plan.outputs["markdown-file"]).read_text()
    assert plan.failed is not None and plan.failed.returncode == 3


def test_plan_fails_on_errors(recipes: Recipes) -> None:
    plan = recipes.action("reconciler-plan.yml", "Plan", CLOUDFLARE_API_TOKEN="wrong-token")
    assert plan.outputs["exit-code"] == "1"
    assert plan.failed is not None and plan.failed.returncode == 1


def test_drift_exits_2_on_drift_and_keeps_the_report(recipes: Recipes) -> None:
    cli = recipes.cli
    assert cli("apply", "manifests", "--auto-approve").exit_code == 0
    clean = recipes.action("reconciler-drift.yml", "Detect drift")
    assert clean.failed is None, clean.failed
    assert recipes.shell("reconciler-drift.yml", "Keep the report").returncode == 0
    assert "### reconciler: In sync" in Path("drift.md").read_text()

    cf = Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    cf.workers.scripts.update(
        "hand-made",
        account_id=DEFAULT_ACCOUNT_ID,
        metadata={"main_module": "index.js"},
        files=[("index.js", b"export default {};\n", "application/javascript+module")],
    )
    unmanaged = recipes.action("reconciler-drift.yml", "Detect drift")
    assert unmanaged.outputs["exit-code"] == "2"  # --fail-on unmanaged
    assert unmanaged.failed is not None and unmanaged.failed.returncode == 2
    recipes.shell("reconciler-drift.yml", "Keep the report")
    assert "hand-made" in Path("drift.md").read_text()  # the unmanaged worker is listed

    # Someone edits a managed worker by hand: the report says which field differs.
    cf.workers.scripts.update(
        "hello-classic",
        account_id=DEFAULT_ACCOUNT_ID,
        metadata={
            "body_part": "script",
            "compatibility_date": "2025-01-01",
            "bindings": [{"type": "plain_text", "name": "GREETING", "text": "edited by hand"}],
            "tags": ["reconciler-managed"],
        },
        files=[("script", CLASSIC_SOURCE.read_bytes(), "application/javascript")],
    )
    drifted = recipes.action("reconciler-drift.yml", "Detect drift")
    assert drifted.outputs["exit-code"] == "2"
    recipes.shell("reconciler-drift.yml", "Keep the report")
    report = Path("drift.md").read_text()
    assert report.startswith(DRIFT_MARKER + "\n") and MARKER not in report
    assert "Drift detected" in report
    assert "bindings.GREETING" in report and "edited by hand" in report
    assert json.loads(drifted.outputs["json"])["summary"]["update"] >= 1
    # The action put the report in the job summary too.
    summary = recipes.runner.runner_temp / "step_summary"
    assert summary.read_text().endswith(report)


def test_fingerprint_key_in_tests_is_not_a_real_secret() -> None:
    assert FINGERPRINT_KEY.startswith("gitops-test")
