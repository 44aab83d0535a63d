"""Issue 23's whole Worker, end to end against the served emulator: every binding type, Durable
Object migrations, crons, a route, a custom domain, workers.dev, observability, placement,
limits and a tail consumer in one manifest. It applies; the next plan is empty; the official
SDK (cloudflare 5.9.0) reads each field back as declared; an export of the account plans
empty; and a Worker `wrangler deploy` made with crons, routes, bindings and settings,
declared the same, plans as an adoption with no field change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks._common import WRANGLER, run_wrangler
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from tests.binding_samples import binding_name, sample_bindings
from tests.e2e.conftest import Env, start_env
from tests.sdk_helpers import migration_tag, read_bindings, sdk_client

A = DEFAULT_ACCOUNT_ID
ZONE = "0123456789abcdef0123456789abcdef"
MAIN = "everything"
CODE = (
    "export class Room {}\nexport class Checkout {}\n"
    "export default { fetch() { return new Response('ok') } }\n"
)
PLAIN = "export default { fetch() { return new Response('ok') } }\n"
OBSERVABILITY = {
    "enabled": True,
    "head_sampling_rate": 0.25,
    "logs": {"invocation_logs": False},
    "traces": {"enabled": True, "head_sampling_rate": 0.1},
}


def whole_worker() -> dict[str, Any]:
    return {
        "name": MAIN,
        "script": "everything.js",
        "compatibility_date": "2025-01-01",
        "bindings": sample_bindings(),
        "migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]}],
        "crons": ["*/5 * * * *"],
        "routes": [{"pattern": "api.example.com/*", "zone": "example.com"}],
        "domains": [{"hostname": "shop.example.com", "zone": "example.com"}],
        "workers_dev": True,
        "observability": OBSERVABILITY,
        "logpush": True,
        "placement": {"mode": "smart"},
        "limits": {"cpu_ms": 50},
        "tail_consumers": [{"service": "log-sink"}],
    }


@pytest.fixture
def zenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    config = EmulatorConfig.model_validate(
        {"zones": [{"id": ZONE, "name": "example.com", "account": A}]}
    )
    yield from start_env(config, tmp_path, monkeypatch)


def write(root: Path, workers: list[dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "everything.js").write_text(CODE)
    (root / "plain.js").write_text(PLAIN)
    (root / "workers.yaml").write_text(yaml.safe_dump({"workers": workers}, sort_keys=False))
    return root


def helpers() -> list[dict[str, Any]]:
    """The workers the whole one names: its service binding's and its Tail Worker."""
    return [
        {"name": "auth", "script": "plain.js", "compatibility_date": "2025-01-01"},
        {"name": "log-sink", "script": "plain.js", "compatibility_date": "2025-01-01"},
    ]


def test_the_whole_worker_applies_converges_reads_back_and_exports_empty(zenv: Env) -> None:
    env = zenv
    manifests = write(env.root / "whole", [whole_worker(), *helpers()])
    applied = env.run("apply", str(manifests), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output

    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as cf:
        got = read_bindings(cf, A, MAIN)
        assert got[binding_name("durable_object_namespace")].pop("namespace_id")
        assert got == {b["name"]: b for b in sample_bindings()}
        assert migration_tag(cf, A, MAIN) == "v1"
        schedules = cf.workers.scripts.schedules.get(MAIN, account_id=A)
        assert [s.cron for s in schedules.schedules or []] == ["*/5 * * * *"]
        routes = {r.pattern: r.script for r in cf.workers.routes.list(zone_id=ZONE)}
        assert routes == {"api.example.com/*": MAIN}
        domains = {d.hostname: d.service for d in cf.workers.domains.list(account_id=A)}
        assert domains == {"shop.example.com": MAIN}
        assert cf.workers.scripts.subdomain.get(MAIN, account_id=A).enabled is True
        item = next(s for s in cf.workers.scripts.list(account_id=A) if s.id == MAIN)
        obs = item.observability
        assert obs is not None and obs.enabled is True and obs.head_sampling_rate == 0.25
        assert obs.logs is not None and obs.logs.invocation_logs is False
        assert obs.traces is not None and obs.traces.head_sampling_rate == 0.1
        assert item.logpush is True
        assert [t.service for t in item.tail_consumers or []] == ["log-sink"]
        assert item.placement is not None and item.placement.mode == "smart"  # type: ignore[union-attr]
        full = cf.workers.scripts.script_and_version_settings.get(MAIN, account_id=A)
        assert full.limits is not None and full.limits.cpu_ms == 50

    exported = env.run("export", "--out", "exported")
    assert exported.exit_code == 0, exported.output
    planned = env.run("plan", "exported", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


WRANGLER_TOML = """name = "everything"
main = "index.js"
compatibility_date = "2025-01-01"
logpush = true
tail_consumers = [{ service = "log-sink" }]
routes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]

[triggers]
crons = ["*/5 * * * *"]

[vars]
GREETING = "hi"

[[kv_namespaces]]
binding = "CACHE"
id = "0f2ac74b498b48028cb68387c421e279"

[[services]]
binding = "AUTH"
service = "auth"

[observability]
enabled = true
head_sampling_rate = 0.25

[observability.logs]
enabled = true
invocation_logs = false

[placement]
mode = "smart"

[limits]
cpu_ms = 50
"""
DECLARED_ALIKE: dict[str, Any] = {
    "name": MAIN,
    "script": "wrangler/index.js",
    "compatibility_date": "2025-01-01",
    "bindings": [
        {"type": "plain_text", "name": "GREETING", "text": "hi"},
        {
            "type": "kv_namespace",
            "name": "CACHE",
            "namespace_id": "0f2ac74b498b48028cb68387c421e279",
        },
        {"type": "service", "name": "AUTH", "service": "auth"},
    ],
    "crons": ["*/5 * * * *"],
    "routes": [{"pattern": "api.example.com/*", "zone": "example.com"}],
    "observability": {
        "enabled": True,
        "head_sampling_rate": 0.25,
        "logs": {"invocation_logs": False},
    },
    "logpush": True,
    "tail_consumers": [{"service": "log-sink"}],
    "placement": {"mode": "smart"},
    "limits": {"cpu_ms": 50},
}


def deploy(env: Env, project: Path, toml: str, code: str) -> None:
    project.mkdir(parents=True)
    (project / "index.js").write_text(code)
    (project / "wrangler.toml").write_text(toml)
    proc = run_wrangler(["deploy", "--no-bundle"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrangler_deployed_worker_declared_alike_is_an_adoption_with_no_change(
    zenv: Env, tmp_path: Path
) -> None:
    if not WRANGLER.exists():
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    env = zenv
    for name in ("auth", "log-sink"):
        toml = f'name = "{name}"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n'
        deploy(env, tmp_path / name, toml, PLAIN)
    deploy(env, tmp_path / MAIN, WRANGLER_TOML, PLAIN)
    manifests = write(env.root / "adopt", [DECLARED_ALIKE, *helpers()])
    (manifests / "wrangler").mkdir()
    (manifests / "wrangler" / "index.js").write_text(PLAIN)
    result = env.run("plan", str(manifests), "--format", "json")
    assert result.exit_code == 0, result.output
    actions = json.loads(result.output)["actions"]
    assert {(a["action"], a["kind"], a["name"]) for a in actions if a["kind"] == "worker"} == {
        ("adopt", "worker", MAIN),
        ("adopt", "worker", "auth"),
        ("adopt", "worker", "log-sink"),
    }
    assert all(a["changes"] == [] for a in actions), actions
    applied = env.run("apply", str(manifests), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
