"""Conformance: wrangler (npm, pinned in tests/wrangler) against the served emulator.

`.ci/run` installs it with `npm ci --prefix tests/wrangler`. Without it the test skips,
except under CI, where a missing wrangler is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks._common import WRANGLER, run_wrangler
from reconciler.emulator.server import EmulatorServer

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
    proc = run_wrangler(list(args), cwd=cwd, base_url=srv.base_url)
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


def test_wrangler_versions_deployments_rollback_delete(wrangler: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text(WORKER)
    toml = 'name = "hello-worker"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
    (project / "wrangler.toml").write_text(toml + '[vars]\nGREETING = "one"\n')
    with EmulatorServer() as srv:

        def state() -> dict[str, Any]:
            out: dict[str, Any] = httpx.get(srv.root_url + "/__emulator/state").json()
            return out

        _run(wrangler, srv, project, "deploy")
        first = state()["scripts"][0]["version_id"]
        (project / "wrangler.toml").write_text(toml + '[vars]\nGREETING = "two"\n')
        _run(wrangler, srv, project, "deploy")
        second = state()["scripts"][0]["version_id"]
        assert first != second

        out = _run(wrangler, srv, project, "versions", "list")
        assert first in out and second in out
        out = _run(wrangler, srv, project, "versions", "view", first)
        assert first in out and "GREETING" in out
        out = _run(wrangler, srv, project, "deployments", "list")
        assert out.count("100%") >= 2 and first in out and second in out
        out = _run(wrangler, srv, project, "deployments", "status")
        assert second in out and first not in out

        out = _run(wrangler, srv, project, "rollback", "--message", "back to one")
        assert f"Worker Version {first} has been deployed to 100% of traffic" in out
        (script,) = state()["scripts"]
        assert script["version_id"] == first
        assert script["settings"]["bindings"] == [
            {"name": "GREETING", "type": "plain_text", "text": "one"}
        ]
        out = _run(wrangler, srv, project, "deployments", "status")
        assert first in out and "back to one" in out

        # A worker that binds it as a service: wrangler sees the reference and forces.
        other = tmp_path / "other"
        (other / "src").mkdir(parents=True)
        (other / "src" / "index.js").write_text(WORKER)
        (other / "wrangler.toml").write_text(
            'name = "front"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
            'services = [{ binding = "API", service = "hello-worker" }]\n'
        )
        _run(wrangler, srv, other, "deploy")
        out = _run(wrangler, srv, project, "delete")
        assert "Successfully deleted hello-worker" in out
        assert re.search(r"Worker front\b.* uses this Worker as a Service Binding", out), out
        assert [s["id"] for s in state()["scripts"]] == ["front"]
        log = httpx.get(srv.root_url + "/__emulator/requests").json()
        calls = {(e["method"], e["path"].split("/workers/")[-1], e["status"]) for e in log}
        assert ("GET", "scripts/hello-worker/references", 200) in calls
        assert ("DELETE", "services/hello-worker", 200) in calls
        assert ("GET", "tails/by-consumer/hello-worker", 200) in calls
        assert any(e["path"].endswith("/storage/kv/namespaces") for e in log)
        # Gone from every view wrangler has.
        proc = run_wrangler(["versions", "list"], cwd=project, base_url=srv.base_url)
        assert proc.returncode != 0 and "10007" in proc.stdout + proc.stderr


def test_wrangler_deploy_with_crons_routes_and_a_custom_domain(
    wrangler: Path, tmp_path: Path
) -> None:
    """`triggers.crons`, zone routes (by zone name and by zone id) and a custom domain, as
    `wrangler deploy` sends them (schedules PUT, script routes PUT, domains/records PUT), then
    a redeploy with fewer: each set is replaced whole."""
    from tests.emulator.conftest import make_config

    zone, zone2 = "a" * 32, "b" * 32
    cfg = make_config(
        zones=[
            {"id": zone, "name": "example.com", "account": "023e105f4ecef8ad9ca31a8372d0c353"},
            {"id": zone2, "name": "example.org", "account": "023e105f4ecef8ad9ca31a8372d0c353"},
        ]
    )
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text(
        "export default { async fetch() { return new Response('hi'); }, async scheduled() {} };\n"
    )
    base = 'name = "cron-worker"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
    (project / "wrangler.toml").write_text(
        base
        + "routes = [\n"
        + '  { pattern = "api.example.com/*", zone_name = "example.com" },\n'
        + f'  {{ pattern = "example.org/v1/*", zone_id = "{zone2}" }},\n'
        + '  { pattern = "shop.example.com", custom_domain = true },\n'
        + "]\n"
        + '[triggers]\ncrons = ["*/5 * * * *", "0 3 * * 1"]\n'
    )
    with EmulatorServer(config=cfg) as srv:
        _run(wrangler, srv, project, "deploy")
        state = httpx.get(srv.root_url + "/__emulator/state").json()
        (script,) = state["scripts"]
        assert [s["cron"] for s in script["schedules"]] == ["*/5 * * * *", "0 3 * * 1"]
        assert {(r["zone_id"], r["pattern"], r["script"]) for r in state["routes"]} == {
            (zone, "api.example.com/*", "cron-worker"),
            (zone2, "example.org/v1/*", "cron-worker"),
        }
        assert [(d["hostname"], d["service"], d["zone_id"]) for d in state["domains"]] == [
            ("shop.example.com", "cron-worker", zone)
        ]
        # routes given and workers_dev unset: wrangler turns workers.dev off
        assert script["subdomain"]["enabled"] is False
        (project / "wrangler.toml").write_text(
            base + 'routes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]\n'
            '[triggers]\ncrons = ["0 3 * * 1"]\n'
        )
        _run(wrangler, srv, project, "deploy")
        state = httpx.get(srv.root_url + "/__emulator/state").json()
        assert [s["cron"] for s in state["scripts"][0]["schedules"]] == ["0 3 * * 1"]
        assert [r["pattern"] for r in state["routes"]] == ["api.example.com/*"]
        # wrangler sends no domains call without custom domains: the domain stays
        assert [d["hostname"] for d in state["domains"]] == ["shop.example.com"]
