"""Conformance: wrangler (npm, pinned in tests/wrangler) against the served emulator.

`.ci/run` installs it with `npm ci --prefix tests/wrangler`. Without it the test skips,
except under CI, where a missing wrangler is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from benchmarks._common import wrangler_env
from reconciler.emulator.server import EmulatorServer

WRANGLER = Path(__file__).resolve().parents[1] / "wrangler" / "node_modules" / ".bin" / "wrangler"
WORKER = """export default {
  async fetch(request, env) { return new Response("hello " + env.GREETING); }
};
"""


@pytest.fixture
def wrangler(tmp_path: Path) -> Path:
    if not WRANGLER.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"wrangler is not installed at {WRANGLER} (run npm ci --prefix tests/wrangler)"
            )
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    return WRANGLER


def _run(wrangler: Path, srv: EmulatorServer, cwd: Path, *args: str) -> str:
    env = wrangler_env(srv.base_url, cwd / "home")
    proc = subprocess.run(
        [str(wrangler), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"wrangler {' '.join(args[:3])} failed:\n{out}"
    return out


def test_wrangler_deploy_and_secrets_store(wrangler: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text(WORKER)
    (project / "wrangler.toml").write_text(
        'name = "hello-worker"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
        '[vars]\nGREETING = "world"\n'
    )
    with EmulatorServer() as srv:
        out = _run(wrangler, srv, project, "deploy")
        assert "Current Version ID" in out
        state = httpx.get(srv.root_url + "/__emulator/state").json()
        (script,) = state["scripts"]
        assert script["id"] == "hello-worker" and script["has_modules"] is True
        assert script["settings"]["bindings"] == [
            {"name": "GREETING", "type": "plain_text", "text": "world"}
        ]
        assert "hello " in script["modules"][0]["content"]
        # A second deploy takes the versions + deployments path.
        _run(wrangler, srv, project, "deploy")
        log = httpx.get(srv.root_url + "/__emulator/requests").json()
        assert any(e["method"] == "POST" and e["path"].endswith("/deployments") for e in log)

        out = _run(wrangler, srv, project, "secrets-store", "store", "create", "my-store",
                   "--remote")  # fmt: skip
        m = re.search(r"ID:\s*(\w{32})", out)
        assert m, out
        store_id = m.group(1)
        _run(wrangler, srv, project, "secrets-store", "secret", "create", store_id,
             "--name", "API_KEY", "--scopes", "workers", "--value", "s3cr3t", "--remote")  # fmt: skip
        out = _run(wrangler, srv, project, "secrets-store", "secret", "list", store_id, "--remote")
        assert "API_KEY" in out and "s3cr3t" not in out
        (secret,) = httpx.get(srv.root_url + "/__emulator/state").json()["secrets"]
        _run(wrangler, srv, project, "secrets-store", "secret", "delete", store_id,
             "--secret-id", secret["id"], "--remote")  # fmt: skip
        assert httpx.get(srv.root_url + "/__emulator/state").json()["secrets"] == []
