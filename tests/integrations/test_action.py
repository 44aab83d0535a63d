"""The composite action (action.yml), its steps run here against the emulator and a fake
GitHub API on loopback: install, run, one pull-request comment created then edited, outputs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer
from reconciler.plan.render_markdown import MARKER
from tests.checkout import LOCAL_STATE

from .action_runner import ActionRun, Runner, local_install
from .fake_github import FakeGitHub

REPO = Path(__file__).resolve().parents[2]
GITHUB_TOKEN = "ghs_fake-token-for-the-loopback-api"


@dataclass
class Setup:
    runner: Runner
    env: dict[str, str]
    github: FakeGitHub
    work: Path
    calls: Path

    def run(self, **inputs: str) -> ActionRun:
        return self.runner.run(inputs, self.env, self.work)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "manifests", work / "manifests", ignore=LOCAL_STATE)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    github = FakeGitHub(GITHUB_TOKEN).start()
    # Comments already on the pull request: more than one page of them, and a person
    # quoting the marker, none of which the action may edit.
    github.comments[7] = [
        {"id": i, "body": f"comment {i}", "user": {"login": "dev", "type": "User"}}
        for i in range(1, 131)
    ]
    github.comments[7].insert(60, {"id": 500, "body": f"{MARKER} quoted", "user": {"type": "User"}})
    server = EmulatorServer().start()
    env = {
        **local_install(tmp_path),
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_EVENT_PATH": str(event),
        "CLOUDFLARE_API_TOKEN": DEFAULT_TOKEN,
        "CLOUDFLARE_API_BASE_URL": server.base_url,
        "CLOUDFLARE_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
        "RECONCILER_FINGERPRINT_KEY": "action-test-fingerprint-key-0123456789",
    }
    runner = Runner(
        REPO,
        github={
            "token": GITHUB_TOKEN,
            "server_url": "https://github.com",
            "action_repository": "your-org/reconciler",
        },
        runner_temp=tmp_path / "runner-temp",
    )
    try:
        yield Setup(runner, env, github, work, Path(env["PYTHON_CALLS"]))
    finally:
        server.stop()
        github.stop()


def test_plan_posts_one_comment_then_edits_it_on_every_push(setup: Setup) -> None:
    first = setup.run(command="plan", manifests="manifests")
    assert first.failed is None, first.failed
    assert first.outputs["exit-code"] == "0"
    plan = json.loads(first.outputs["json"])
    assert plan["version"] == 1 and plan["summary"]["create"] > 0
    assert json.loads(Path(first.outputs["json-file"]).read_text()) == plan
    assert setup.github.writes() == [("POST", "/repos/o/r/issues/7/comments")]
    ours = [c for c in setup.github.comments[7] if c["user"]["type"] == "Bot"]
    assert len(ours) == 1 and ours[0]["body"].startswith(MARKER)
    assert ours[0]["body"] == Path(first.outputs["markdown-file"]).read_text()
    assert first.outputs["comment-id"] == str(ours[0]["id"])

    # Two more pushes: the same comment is edited each time, never a new one; the person's
    # comment that quotes the marker is left alone.
    (setup.work / "manifests" / "extra.yaml").write_text("stores:\n  - name: second-store\n")
    second = setup.run(command="plan", manifests="manifests", args="--max-stores 2")
    third = setup.run(command="plan", manifests="manifests")
    assert second.failed is None and third.failed is not None  # third: store limit, exit 3
    comment = f"/repos/o/r/issues/comments/{ours[0]['id']}"
    assert setup.github.writes() == [
        ("POST", "/repos/o/r/issues/7/comments"),
        ("PATCH", comment),
        ("PATCH", comment),
    ]
    assert [c for c in setup.github.comments[7] if c["user"]["type"] == "Bot"] == ours
    assert "second-store" in ours[0]["body"] and "Conflicts" in ours[0]["body"]
    assert next(c for c in setup.github.comments[7] if c["id"] == 500)["body"].endswith("quoted")
    # Every listing page was read with the token (130 comments: two pages of 100).
    pages = [p for m, p, _ in setup.github.calls if m == "GET"]
    assert len(pages) == 2 * 3

    # Conflicts: the comment is posted, the outputs are set, and the last step fails with 3.
    assert third.outputs["exit-code"] == "3"
    assert third.failed.name == "Exit with reconciler's exit code"
    assert third.failed.returncode == 3
    assert "::error::reconciler plan exited 3" in third.failed.stdout
    assert json.loads(third.outputs["json"])["conflicts"][0]["kind"] == "store_limit"


def test_install_step_installs_cf_reconciler_from_this_repository(setup: Setup) -> None:
    done = setup.run(command="plan", version="v9.9.9", comment="false")
    assert done.failed is None
    calls = setup.calls.read_text().splitlines()
    venv = setup.runner.runner_temp / "reconciler-venv"
    assert calls[0].endswith(f"python3 -m venv {venv}")
    assert calls[1] == (
        f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check "
        "cf-reconciler @ git+https://github.com/your-org/reconciler.git@v9.9.9"
    )
    assert setup.github.calls == []  # comment: false

    # No version: the action's own checkout (the ref in `uses:`), by the distribution's name.
    setup.calls.unlink()
    setup.run(command="validate", comment="false")
    assert f"cf-reconciler @ file://{REPO}" in setup.calls.read_text()


def test_drift_outputs_its_json_and_exit_code(setup: Setup) -> None:
    done = setup.run(command="drift", **{"ok-exit-codes": "0 2"})
    assert done.failed is None
    assert done.outputs["exit-code"] == "2"  # nothing applied yet: everything is missing
    report = json.loads(done.outputs["json"])
    assert report["options"] == {"fail_on": None}
    assert report["summary"]["create"] > 0
    assert setup.github.calls == []  # only plan comments

    failing = setup.run(command="drift")
    assert failing.outputs["exit-code"] == "2"
    assert failing.failed is not None and failing.failed.returncode == 2


def test_an_error_fails_the_step_and_posts_nothing(setup: Setup) -> None:
    setup.env["CLOUDFLARE_API_TOKEN"] = "wrong-token"
    done = setup.run(command="plan")
    assert done.outputs["exit-code"] == "1"
    assert done.outputs["json"] == ""
    assert done.failed is not None and done.failed.returncode == 1
    assert setup.github.calls == []
    assert "Error:" in done.step("Run reconciler").stderr


def test_an_unknown_command_is_refused_before_anything_runs(setup: Setup) -> None:
    done = setup.run(command="destroy")
    assert done.failed is not None and done.failed.name == "Run reconciler"
    assert "command must be plan, apply, drift, validate or export" in done.failed.stdout
