"""Property: random settings (every key in and out, every form a manifest allows) applied to
the emulator, then planned: the plan is empty, and stays empty when a second random set is
applied over the first (keys going from set to unset and back)."""

from __future__ import annotations

import itertools
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import Env
from tests.settings_strategies import ABSENT, settings_keys

WORKERS = ("alpha", "beta")
CODE = "export default { fetch() { return new Response('x') } }\n"
_runs = itertools.count()


@st.composite
def manifest_sets(draw: st.DrawFn) -> dict[str, Any]:
    workers = []
    for i, name in enumerate(WORKERS):
        # A worker may name only the workers after it: no cycle (the API cannot create one).
        entry: dict[str, Any] = {
            "name": name,
            "script": "worker.js",
            "compatibility_date": "2025-01-01",
        }
        for key, strategy in settings_keys(WORKERS[i + 1 :]).items():
            value = draw(strategy())
            if value is not ABSENT:
                entry[key] = value
        workers.append(entry)
    return {"workers": workers}


def _apply_and_plan(env: Env, doc: dict[str, Any]) -> None:
    root = env.root / f"run{next(_runs)}"
    root.mkdir()
    (root / "worker.js").write_text(CODE)
    (root / "workers.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    applied = env.run("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = env.run("plan", str(root), "--detailed-exitcode")
    assert again.exit_code == 0, f"{yaml.safe_dump(doc)}\n{again.output}"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=manifest_sets(), second=manifest_sets())
def test_applied_settings_plan_empty(
    env: Env, first: dict[str, Any], second: dict[str, Any]
) -> None:
    _apply_and_plan(env, first)
    _apply_and_plan(env, second)


def test_the_strategies_cover_every_settings_key() -> None:
    from reconciler.settings_forms import KEYS

    assert set(settings_keys(WORKERS)) == set(KEYS)
