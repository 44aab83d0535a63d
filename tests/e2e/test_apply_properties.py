"""Apply converges: for random manifests over random starting accounts, apply then plan is empty,
unmanaged resources are untouched, and under a 20% error rate repeated applies converge."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, AccountConfig, EmulatorConfig
from tests.e2e.conftest import Env, start_env

STORES = ["alpha", "beta"]
SECRETS = ["A", "B", "C"]
WORKERS = ["w1", "w2", "w3"]
SCOPES = ["workers", "ai_gateway", "dex"]
MODULE = "export default { fetch() { return new Response('{n}') } }\n"
CLASSIC = "addEventListener('fetch', e => e.respondWith(new Response('{n}')))\n"
text = st.text(alphabet="abcxyz -", min_size=0, max_size=8).map(str.strip)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    stores = draw(st.lists(st.sampled_from(STORES), min_size=1, max_size=2, unique=True))
    secrets = []
    for name in draw(st.lists(st.sampled_from(SECRETS), max_size=3, unique=True)):
        secrets.append(
            {
                "name": name,
                "store": draw(st.sampled_from(stores)),
                "scopes": sorted(draw(st.sets(st.sampled_from(SCOPES), min_size=1))),
                "comment": draw(text),
                "value": draw(st.text(alphabet="0123456789abcdef", min_size=1, max_size=12)),
            }
        )
    bindable = [s for s in secrets if "workers" in s["scopes"]]
    workers = []
    for name in draw(st.lists(st.sampled_from(WORKERS), max_size=3, unique=True)):
        bindings: list[dict[str, Any]] = [
            {"type": "plain_text", "name": "GREETING", "text": draw(text)}
        ]
        if bindable and draw(st.booleans()):
            s = draw(st.sampled_from(bindable))
            bindings.append(
                {
                    "type": "secrets_store_secret",
                    "name": "KEY",
                    "store": s["store"],
                    "secret": s["name"],
                }
            )
        workers.append(
            {"name": name, "module": draw(st.booleans()), "code": draw(text), "bindings": bindings}
        )
    live = {
        # Unmanaged resources already in the account; colliding names get adopted.
        "secrets": draw(st.lists(st.sampled_from([*SECRETS, "HAND"]), max_size=2, unique=True)),
        "workers": draw(
            st.lists(st.sampled_from([*WORKERS, "hand-made"]), max_size=2, unique=True)
        ),
        "extra_store": draw(st.booleans()),
    }
    return {"stores": stores, "secrets": secrets, "workers": workers, "live": live}


def _write_project(root: Path, s: dict[str, Any]) -> None:
    m = root / "manifests"
    (m / "values").mkdir(parents=True)
    (m / "workers").mkdir()
    doc: dict[str, Any] = {
        "stores": [{"name": n} for n in s["stores"]],
        "secrets": [],
        "workers": [],
    }
    for sec in s["secrets"]:
        (m / "values" / f"{sec['store']}-{sec['name']}").write_text(sec["value"])
        doc["secrets"].append(
            {
                "name": sec["name"],
                "store": sec["store"],
                "value_from": {"file": f"values/{sec['store']}-{sec['name']}"},
                "scopes": sec["scopes"],
                "comment": sec["comment"],
            }
        )
    for w in s["workers"]:
        (m / "workers" / f"{w['name']}.js").write_text(
            (MODULE if w["module"] else CLASSIC).replace("{n}", w["code"])
        )
        doc["workers"].append(
            {
                "name": w["name"],
                "script": f"workers/{w['name']}.js",
                "compatibility_date": "2025-01-01",
                "bindings": w["bindings"],
            }
        )
    (m / "m.yaml").write_text(yaml.safe_dump(doc))


def _seed_unmanaged(env: Env, s: dict[str, Any]) -> None:
    """Unmanaged resources: a secret per name in the first declared store, hand-made workers."""
    with env.api() as api:
        store_name = s["stores"][0]
        store = api.post("/secrets_store/stores", json={"name": store_name}).json()["result"]
        if s["live"]["extra_store"]:
            api.post("/secrets_store/stores", json={"name": "hand-store"}).raise_for_status()
    for name in s["live"]["secrets"]:
        env.seed_secret(store["id"], name, value="old")
    for name in s["live"]["workers"]:
        env.seed_worker(name)


def _unmanaged_snapshot(env: Env, s: dict[str, Any]) -> Any:
    declared_secrets = {(x["store"], x["name"]) for x in s["secrets"]}
    declared_workers = {w["name"] for w in s["workers"]}
    state = env.inspect("state")
    stores = {st_["id"]: st_["name"] for st_ in state["stores"]}
    secrets = sorted(
        (stores[x["store_id"]], x["name"], x["id"], x["comment"], x["scopes"])
        for x in state["secrets"]
        if (stores[x["store_id"]], x["name"]) not in declared_secrets
    )
    workers = sorted(
        (w["id"], w["etag"]) for w in state["scripts"] if w["id"] not in declared_workers
    )
    return secrets, workers, sorted(n for n in stores.values() if n not in s["stores"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_apply_then_plan_is_empty_and_unmanaged_is_untouched(
    scenario: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig(accounts=[AccountConfig(id=DEFAULT_ACCOUNT_ID, max_stores=3)])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for env in start_env(config, root, monkeypatch):
            _write_project(root / "project", scenario)
            monkeypatch.chdir(root / "project")
            _seed_unmanaged(env, scenario)
            before = _unmanaged_snapshot(env, scenario)

            applied = env.run("apply", "--auto-approve", "--force", "--max-stores", "3")
            assert applied.exit_code == 0, applied.output
            plan = env.run("plan", "--detailed-exitcode", "--format", "json", "--max-stores", "3")
            assert plan.exit_code == 0, plan.output
            assert json.loads(plan.output)["actions"] == []
            assert _unmanaged_snapshot(env, scenario) == before


def test_repeated_applies_converge_under_a_20_percent_error_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig.model_validate({"faults": {"error_rate": 0.2, "seed": 11}})
    for env in start_env(config, tmp_path, monkeypatch):
        runs = []
        for _ in range(8):
            result = env.run("apply", "--auto-approve")
            runs.append(result.exit_code)
            if result.exit_code == 0:
                break
        assert runs[-1] == 0, runs
        assert any(r["status"] >= 500 for r in env.inspect("requests")), "faults were injected"
        httpx.put(
            f"{env.server.root_url}/__emulator/faults", json={"error_rate": 0.0}
        ).raise_for_status()
        names = sorted(s["name"] for s in env.inspect("state")["secrets"])
        assert names == ["STRIPE_KEY", "WEBHOOK_SIGNING_KEY"]
        assert env.run("plan", "--detailed-exitcode").exit_code == 0
