"""Issue 21, part 1: after an apply the next plan is empty, for manifests that leave every
optional key out (a classic Worker without `compatibility_date` planned
`compatibility_date: "" -> (none)` after every apply, so `drift` exited 2 forever)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from tests.e2e.conftest import Env

BARE = """\
stores:
  - name: main
secrets:
  - name: TOKEN
    store: main
    scopes: [workers]
    value_from: {file: token.txt}
workers:
  - name: legacy
    script: legacy.js
  - name: modern
    script: modern.js
"""


def _bare_project(root: Path) -> Path:
    m = root / "bare"
    m.mkdir()
    (m / "m.yaml").write_text(BARE)
    (m / "token.txt").write_text("t0k3n")
    (m / "legacy.js").write_text(
        "addEventListener('fetch', e => e.respondWith(new Response('')))\n"
    )
    (m / "modern.js").write_text("export default { fetch() { return new Response('') } }\n")
    return m


def test_bare_manifests_converge_against_the_emulator(env: Env) -> None:
    project = _bare_project(env.root)
    applied = env.run("apply", "--auto-approve", str(project))
    assert applied.exit_code == 0, applied.output
    for _ in range(2):  # the second plan, and the drift check after it, stay empty
        plan = env.run("plan", "--detailed-exitcode", "--format", "json", str(project))
        assert plan.exit_code == 0, plan.output
        assert json.loads(plan.output)["actions"] == []
    drift = env.run("drift", str(project))
    assert drift.exit_code == 0, drift.output


def test_bare_manifests_converge_with_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick start's own path: the embedded emulator of `--local`."""
    project = _bare_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_BASE_URL", "CLOUDFLARE_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    applied = runner.invoke(cli, ["apply", "--local", "--auto-approve", str(project)])
    assert applied.exit_code == 0, applied.output
    plan = runner.invoke(cli, ["plan", "--local", "--detailed-exitcode", str(project)])
    assert plan.exit_code == 0, plan.output
    assert "compatibility_date" not in plan.output
