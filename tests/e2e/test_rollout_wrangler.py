"""wrangler reads what reconciler rolls out, and what wrangler changes out of band shows in
drift: `wrangler deployments status` shows the split with reconciler's message, `versions list`
its tag, and a `wrangler rollback` (or `versions deploy`) is a drift (exit 2)."""

from __future__ import annotations

import os

import pytest

from benchmarks._common import WRANGLER, run_wrangler
from tests.e2e.conftest import Env
from tests.e2e.test_rollout import WORKER, A, _change_code, _rollout, _run, _sdk

pytestmark = pytest.mark.skipif(
    not WRANGLER.exists() and not os.environ.get("CI"), reason="wrangler not installed"
)


def _wrangler(env: Env, *args: str) -> str:
    proc = run_wrangler([*args, "--name", WORKER], cwd=env.root, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _ids(env: Env) -> dict[int, str]:
    with _sdk(env) as cf:
        return {
            int(v.number or 0): v.id or ""
            for v in cf.workers.scripts.versions.list(WORKER, account_id=A)
        }


def test_wrangler_sees_the_rollout_and_drift_sees_wrangler(env: Env) -> None:
    assert _run(env, "apply", "--auto-approve")[0] == 0
    _change_code(env, "v2")
    _rollout(env, '{percentage: 10, message: "canary of v2"}')
    assert _run(env, "apply", "--auto-approve")[0] == 0
    ids = _ids(env)

    status = _wrangler(env, "deployments", "status")
    assert f"(90%) {ids[1]}" in status and f"(10%) {ids[2]}" in status, status
    assert "Message:     canary of v2" in status, status
    listed = _wrangler(env, "versions", "list")
    assert "Tag:         reconciler " in listed, listed

    _wrangler(env, "rollback", ids[1], "-y")
    code, out = _run(env, "drift")
    assert code == 2, out
    assert 'deployment: "v1 100%" -> "v1 90% / v2 10%"' in out, out

    _wrangler(env, "versions", "deploy", f"{ids[1]}@50%", f"{ids[2]}@50%", "-y")
    code, out = _run(env, "drift")
    assert code == 2 and 'deployment: "v1 50% / v2 50%" -> "v1 90% / v2 10%"' in out, out
    assert _run(env, "apply", "--auto-approve")[0] == 0
    assert _run(env, "drift")[0] == 0
