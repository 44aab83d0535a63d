"""Run the workflows' own shell steps and comment script, as written, against the emulator.

The `run:` text is taken from the YAML and executed with bash the way GitHub runs it
(`bash -e -o pipefail`), with `reconciler` on PATH and the API pointed at a served
emulator. The github-script step runs under node with a stand-in for the GitHub API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.plan.render_markdown import DRIFT_MARKER, MARKER
from tests.checkout import LOCAL_STATE

from .conftest import EXAMPLES, FINGERPRINT_KEY, REPO, Cli

WORKFLOWS = EXAMPLES / "github-actions"
CLASSIC_SOURCE = REPO / "manifests/workers/hello-classic.js"


def _step(workflow: str, predicate: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / workflow).read_text())
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if any(predicate in step.get(k, "") for k in ("name", "run", "uses")):
                return dict(step)
    raise AssertionError(f"no step with {predicate!r} in {workflow}")


def _bash(cli: Cli, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(Path.cwd()),
        "GITHUB_OUTPUT": str(Path("github_output").resolve()),
        "GITHUB_STEP_SUMMARY": str(Path("step_summary").resolve()),
        **cli.env,
        **extra,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _outputs() -> dict[str, str]:
    lines = Path("github_output").read_text().splitlines() if Path("github_output").exists() else []
    Path("github_output").unlink(missing_ok=True)
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def repo_checkout(served_cli: Cli) -> Cli:
    """The working directory looks like a checkout: the repository's manifests/."""
    shutil.copytree(REPO / "manifests", "manifests", ignore=LOCAL_STATE)
    return served_cli


def test_plan_step_then_apply_step_then_stale_plan_refused(repo_checkout: Cli) -> None:
    cli = repo_checkout
    plan = _step("reconciler-plan.yml", "reconciler plan")["run"]
    done = _bash(cli, plan)
    assert done.returncode == 0, done.stderr
    assert _outputs() == {"exit_code": "0"}
    assert Path("plan.md").read_text().startswith(MARKER)
    assert json.loads(Path("plan.json").read_text())["summary"]["create"] > 0

    apply = _step("reconciler-apply.yml", "--plan plan.json")["run"]
    applied = _bash(cli, apply)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete" in applied.stdout
    # The same plan again: the account changed since it was made, so it is refused.
    stale = _bash(cli, apply)
    assert stale.returncode == 1
    assert "nothing was changed" in stale.stderr


def test_plan_step_posts_conflicts_and_reports_exit_3(repo_checkout: Cli) -> None:
    plan = _step("reconciler-plan.yml", "reconciler plan")["run"]
    done = _bash(repo_checkout, plan, RECONCILER_MAX_STORES="0")
    assert done.returncode == 0, done.stderr  # the comment step still runs ...
    assert _outputs() == {"exit_code": "3"}  # ... and the last step fails the job
    assert "Conflicts" in Path("plan.md").read_text()
    fail = _step("reconciler-plan.yml", "Fail on conflicts")
    assert fail["if"] == "steps.plan.outputs.exit_code == '3'"
    assert _bash(repo_checkout, fail["run"]).returncode == 3


def test_plan_step_fails_on_errors(repo_checkout: Cli) -> None:
    plan = _step("reconciler-plan.yml", "reconciler plan")["run"]
    done = _bash(repo_checkout, plan, CLOUDFLARE_API_TOKEN="wrong-token")
    assert done.returncode == 1
    assert _outputs() == {"exit_code": "1"}


def test_drift_step_exits_2_on_drift_and_writes_the_report(repo_checkout: Cli) -> None:
    cli = repo_checkout
    assert cli("apply", "manifests", "--auto-approve").exit_code == 0
    drift = _step("reconciler-drift.yml", "reconciler drift")["run"]
    clean = _bash(cli, drift)
    assert clean.returncode == 0, clean.stderr
    assert "### reconciler: In sync" in Path("drift.md").read_text()

    cf = Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    cf.workers.scripts.update(
        "hand-made",
        account_id=DEFAULT_ACCOUNT_ID,
        metadata={"main_module": "index.js"},
        files=[("index.js", b"export default {};\n", "application/javascript+module")],
    )
    unmanaged = _bash(cli, drift)
    assert unmanaged.returncode == 2  # --fail-on unmanaged
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
    drifted = _bash(cli, drift)
    assert drifted.returncode == 2
    report = Path("drift.md").read_text()
    assert report.startswith(DRIFT_MARKER + "\n") and MARKER not in report
    assert "Drift detected" in report
    assert "bindings.GREETING" in report and "edited by hand" in report
    summary = _bash(cli, _step("reconciler-drift.yml", "GITHUB_STEP_SUMMARY")["run"])
    assert summary.returncode == 0
    assert Path("step_summary").read_text().endswith(report)


def _comment_script() -> str:
    script = _step("reconciler-plan.yml", "actions/github-script")["with"]["script"]
    assert isinstance(script, str)
    return script


HARNESS = """
const calls = [];
const existing = JSON.parse(process.env.EXISTING);
const github = {
  paginate: async (method, args) => { calls.push(["list", args.issue_number]); return existing; },
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (a) => calls.push(["update", a.comment_id, a.body.length]),
    createComment: async (a) => calls.push(["create", a.issue_number, a.body.length]),
  } },
};
const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
(async () => { %s })().then(() => console.log(JSON.stringify(calls)));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([], ["create", 7]),
        ([{"id": 11, "user": {"type": "User"}, "body": "LGTM"}], ["create", 7]),
        # A person quoting the marker is not our comment; the bot's comment is edited.
        (
            [
                {"id": 12, "user": {"type": "User"}, "body": f"{MARKER} quoted"},
                {"id": 13, "user": {"type": "Bot"}, "body": f"{MARKER}\\n### old plan"},
            ],
            ["update", 13],
        ),
    ],
)
def test_comment_script_edits_its_one_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: list[Any], expected: list[Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("plan.md").write_text(f"{MARKER}\n### reconciler: 1 to create\n" + "x" * 70_000)
    Path("harness.js").write_text(HARNESS % _comment_script())
    done = subprocess.run(
        ["node", "harness.js"],
        env={**os.environ, "EXISTING": json.dumps(existing)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)
    assert calls[0] == ["list", 7]
    assert calls[1][:2] == expected
    assert len(calls) == 2  # exactly one comment written
    assert calls[1][2] < 65_536  # truncated under GitHub's limit


def test_fingerprint_key_in_tests_is_not_a_real_secret() -> None:
    assert FINGERPRINT_KEY.startswith("gitops-test")
