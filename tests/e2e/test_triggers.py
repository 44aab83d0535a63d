"""Triggers and reachability end to end: crons, a route, a custom domain and workers.dev are
applied, read back by the official SDK, drift is seen and repaired, and a route another
(unmanaged) worker holds is never touched."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudflare import Cloudflare

from benchmarks._common import WRANGLER, run_wrangler
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from tests.e2e.conftest import Env, start_env

A = DEFAULT_ACCOUNT_ID
ZONE = "0123456789abcdef0123456789abcdef"
WORKER = "payments-api"
TRIGGERS = """    crons: ["*/5 * * * *", "0 3 * * 1"]
    routes:
      - {pattern: "api.example.com/*", zone: example.com}
    domains:
      - {hostname: pay.example.com, zone: example.com}
    workers_dev: true
"""
ANCHOR = "    compatibility_flags: [nodejs_compat]\n"


@pytest.fixture
def tenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for var in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    config = EmulatorConfig.model_validate(
        {"zones": [{"id": ZONE, "name": "example.com", "account": A}]}
    )
    yield from start_env(config, tmp_path, monkeypatch)


def _sdk(env: Env) -> Cloudflare:
    return Cloudflare(base_url=env.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)


def _legacy_with_route(env: Env) -> str:
    """A worker made by hand (no reconciler tag) holding legacy.example.com/*."""
    env.seed_worker("legacy")
    with _sdk(env) as cf:
        return cf.workers.routes.create(
            zone_id=ZONE, pattern="legacy.example.com/*", script="legacy"
        ).id


def _exit(env: Env, *args: str) -> tuple[int, str]:
    result = env.run(*args)
    return result.exit_code, result.output


def _route_writes(env: Env) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"])
        for r in env.inspect("requests")
        if r["method"] in ("POST", "PUT", "DELETE") and "/workers/routes" in r["path"]
    ]


def test_apply_readback_drift_and_repair(tenv: Env) -> None:
    env = tenv
    legacy_id = _legacy_with_route(env)
    env.edit("manifests/workers.yaml", ANCHOR, ANCHOR + TRIGGERS)
    code, out = _exit(env, "apply", "--auto-approve")
    assert code == 0, out
    code, out = _exit(env, "plan", "--detailed-exitcode")
    assert code == 0, out

    with _sdk(env) as cf:
        crons = cf.workers.scripts.schedules.get(WORKER, account_id=A)
        assert sorted(s.cron for s in crons.schedules) == ["*/5 * * * *", "0 3 * * 1"]  # type: ignore[union-attr]
        routes = {r.pattern: r.script for r in cf.workers.routes.list(zone_id=ZONE)}
        assert routes == {"api.example.com/*": WORKER, "legacy.example.com/*": "legacy"}
        (domain,) = cf.workers.domains.list(account_id=A)
        assert (domain.hostname, domain.service, domain.zone_id) == (
            "pay.example.com", WORKER, ZONE
        )  # fmt: skip
        sub = cf.workers.scripts.subdomain.get(WORKER, account_id=A)
        assert sub.enabled is True

        # Out of band, one at a time: drift says 2, apply repairs, the plan is empty again.
        def drifted_then_repaired(what: str) -> None:
            code, out = _exit(env, "drift")
            assert code == 2, f"{what}: {out}"
            code, out = _exit(env, "apply", "--auto-approve")
            assert code == 0, f"{what}: {out}"
            code, out = _exit(env, "plan", "--detailed-exitcode")
            assert code == 0, f"{what}: {out}"

        cf.workers.scripts.schedules.update(WORKER, account_id=A, body=[{"cron": "0 0 * * *"}])
        drifted_then_repaired("a cron changed")
        ours = next(r for r in cf.workers.routes.list(zone_id=ZONE) if r.script == WORKER)
        cf.workers.routes.delete(ours.id, zone_id=ZONE)
        cf.workers.routes.create(zone_id=ZONE, pattern="stray.example.com/*", script=WORKER)
        drifted_then_repaired("a route removed and another added")
        routes = {r.pattern: r.script for r in cf.workers.routes.list(zone_id=ZONE)}
        assert routes == {"api.example.com/*": WORKER, "legacy.example.com/*": "legacy"}
        cf.workers.scripts.subdomain.create(WORKER, account_id=A, enabled=False)
        drifted_then_repaired("workers.dev turned off")
        assert cf.workers.scripts.subdomain.get(WORKER, account_id=A).enabled is True

    # The unmanaged worker's route was never written to.
    assert not [w for w in _route_writes(env) if legacy_id in w[1]]
    assert (
        next(r for r in env.inspect("state")["routes"] if r["id"] == legacy_id)["script"]
        == "legacy"
    )


def test_a_route_held_by_an_unmanaged_worker_is_a_conflict(tenv: Env) -> None:
    env = tenv
    legacy_id = _legacy_with_route(env)
    env.edit(
        "manifests/workers.yaml",
        ANCHOR,
        ANCHOR + '    routes: [{pattern: "legacy.example.com/*", zone: example.com}]\n',
    )
    code, out = _exit(env, "plan", "--detailed-exitcode")
    assert code == 3, out
    assert "route_conflict" in out and "legacy" in out
    assert "(declared at manifests/workers.yaml:" in out  # the manifest line, as conflicts say
    env.clear_log()
    code, out = _exit(env, "apply", "--auto-approve")
    assert code == 3, out
    assert env.writes() == []
    (route,) = [r for r in env.inspect("state")["routes"] if r["id"] == legacy_id]
    assert route["script"] == "legacy"


def test_routes_left_out_cost_no_read_and_are_left_alone(tenv: Env) -> None:
    env = tenv
    _legacy_with_route(env)
    assert env.run("apply", "--auto-approve").exit_code == 0
    with _sdk(env) as cf:
        cf.workers.routes.create(zone_id=ZONE, pattern="hand.example.com/*", script=WORKER)
        cf.workers.scripts.schedules.update(WORKER, account_id=A, body=[{"cron": "0 0 * * *"}])
    env.clear_log()
    code, out = _exit(env, "plan", "--detailed-exitcode")
    assert code == 0, out
    paths = [r["path"] for r in env.inspect("requests")]
    assert not [p for p in paths if "/zones" in p or "/schedules" in p or "/subdomain" in p]
    assert not [p for p in paths if p.endswith("/workers/domains")]


def test_empty_keys_remove_everything_of_the_worker(tenv: Env) -> None:
    env = tenv
    env.edit("manifests/workers.yaml", ANCHOR, ANCHOR + TRIGGERS)
    assert env.run("apply", "--auto-approve").exit_code == 0
    env.edit("manifests/workers.yaml", TRIGGERS, "    crons: []\n    routes: []\n    domains: []\n")
    code, out = _exit(env, "apply", "--auto-approve")
    assert code == 0, out
    state = env.inspect("state")
    script = next(s for s in state["scripts"] if s["id"] == WORKER)
    assert script["schedules"] == [] and state["routes"] == [] and state["domains"] == []
    assert script["subdomain"]["enabled"] is True  # workers_dev left out: left as it is
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.skipif(
    not WRANGLER.exists() and not os.environ.get("CI"), reason="wrangler not installed"
)
def test_wrangler_changes_show_as_drift(tenv: Env, tmp_path: Path) -> None:
    """crons and a route changed by `wrangler deploy`: drift exit 2, apply repairs."""
    env = tenv
    env.edit("manifests/workers.yaml", ANCHOR, ANCHOR + TRIGGERS)
    assert env.run("apply", "--auto-approve").exit_code == 0
    project = tmp_path / "wr"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text("export default { async fetch() {} };\n")
    (project / "wrangler.toml").write_text(
        f'name = "{WORKER}"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
        "workers_dev = true\n"
        'routes = [{ pattern = "other.example.com/*", zone_name = "example.com" }]\n'
        '[triggers]\ncrons = ["1 1 * * *"]\n'
    )
    proc = run_wrangler(["deploy"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code, out = _exit(env, "drift", "--format", "json")
    assert code == 2, out
    kinds = {a["kind"] for a in json.loads(out)["actions"]}
    assert {"worker_crons", "worker_route"} <= kinds
    assert env.run("apply", "--auto-approve").exit_code == 0
    state = env.inspect("state")
    script = next(s for s in state["scripts"] if s["id"] == WORKER)
    assert sorted(s["cron"] for s in script["schedules"]) == ["*/5 * * * *", "0 3 * * 1"]
    assert [r["pattern"] for r in state["routes"]] == ["api.example.com/*"]


@pytest.mark.skipif(
    not WRANGLER.exists() and not os.environ.get("CI"), reason="wrangler not installed"
)
def test_a_wrangler_deployed_worker_declared_alike_has_no_trigger_changes(
    tenv: Env, tmp_path: Path
) -> None:
    """Crons, a route and workers.dev set by `wrangler deploy`, declared the same way in a
    manifest: the plan adopts the worker and plans nothing for its triggers."""
    env = tenv
    project = tmp_path / "wr"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text("export default { async fetch() {} };\n")
    (project / "wrangler.toml").write_text(
        f'name = "{WORKER}"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
        "workers_dev = true\npreview_urls = false\n"
        'routes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]\n'
        '[triggers]\ncrons = ["0 3 * * 1", "*/5 * * * *"]\n'
    )
    proc = run_wrangler(["deploy"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env.edit(
        "manifests/workers.yaml",
        ANCHOR,
        ANCHOR
        + '    crons: ["*/5 * * * *", "0 3 * * 1"]\n'
        + '    routes: [{pattern: "api.example.com/*", zone: example.com}]\n'
        + "    workers_dev: true\n    preview_urls: false\n",
    )
    code, out = _exit(env, "plan", "--format", "json")
    assert code == 0, out
    actions = json.loads(out)["actions"]
    assert [a["action"] for a in actions if a["kind"] == "worker" and a["name"] == WORKER] == [
        "adopt"
    ]
    assert not [
        a for a in actions if a["kind"].startswith("worker_") and a["kind"] != "worker_secret"
    ]
