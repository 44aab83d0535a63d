"""Worker script secrets in the plan: which value changed, ownership, the record format."""

from __future__ import annotations

import json

import pytest

from reconciler.markers import format_secrets_record, parse_secrets_record, secrets_record_fits
from reconciler.plan.diff import compute_plan
from reconciler.plan.facets.secrets import REASON_WORKER_SECRET_UNRECORDED
from reconciler.plan.model import Plan, PlanOptions

from .conftest import (
    KEY,
    desired_worker_secret,
    env_name,
    live_state,
    live_worker_secret,
    state,
    value_of,
    worker,
)

NAMES = ("API_KEY", "DB_URL")


@pytest.fixture(autouse=True)
def _values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.setenv(env_name("api", name), value_of(name))


def _plan(live_secrets: list[object], *, managed: bool = True, prune: bool = False) -> Plan:
    desired = state(
        workers=[worker("api", secrets=[desired_worker_secret("api", n) for n in NAMES])]
    )
    live = live_state(workers=[worker("api", managed=managed, secrets=live_secrets)])  # type: ignore[arg-type]
    return compute_plan(desired, live, options=PlanOptions(prune=prune), fingerprint_key=KEY)


def _secret_actions(plan: Plan) -> list[tuple[str, str]]:
    return [(a.action, a.name) for a in plan.actions if a.kind == "worker_secret"]


def test_matching_record_is_no_change() -> None:
    plan = _plan([live_worker_secret("api", n) for n in NAMES])
    assert plan.actions == [] and plan.no_op == 3  # the worker and its two secrets


def test_only_the_changed_value_is_replaced() -> None:
    plan = _plan(
        [live_worker_secret("api", "API_KEY", value="old"), live_worker_secret("api", "DB_URL")]
    )
    assert _secret_actions(plan) == [("replace", "API_KEY")]
    (action,) = plan.actions
    assert action.worker == "api" and action.label == "api/API_KEY"
    assert action.to_dict()["worker"] == "api"
    assert [(c.field, c.before, c.after) for c in action.changes] == [
        ("value", "(sensitive)", "(sensitive)")
    ]


def test_a_version_without_our_record_cannot_vouch_for_any_value() -> None:
    plan = _plan([live_worker_secret("api", n, fp=None) for n in NAMES])
    assert _secret_actions(plan) == [("replace", "API_KEY"), ("replace", "DB_URL")]
    assert all(a.reason == REASON_WORKER_SECRET_UNRECORDED for a in plan.actions)


def test_missing_secret_is_created_and_undeclared_is_pruned_only_with_prune() -> None:
    live = [live_worker_secret("api", "API_KEY"), live_worker_secret("api", "OLD")]
    plan = _plan(live)
    assert _secret_actions(plan) == [("create", "DB_URL")]
    assert any("OLD" in w and "--prune deletes them" in w for w in plan.warnings)
    pruned = _plan(live, prune=True)
    assert _secret_actions(pruned) == [("delete", "OLD"), ("create", "DB_URL")]


def test_an_unmanaged_workers_secrets_are_adopted_never_pruned() -> None:
    plan = _plan([live_worker_secret("api", "API_KEY"), live_worker_secret("api", "THEIRS")],
                 managed=False, prune=True)  # fmt: skip
    assert ("delete", "THEIRS") not in _secret_actions(plan)
    assert ("adopt", "API_KEY") in _secret_actions(plan)


def test_plan_file_round_trip_keeps_the_worker() -> None:
    plan = _plan(
        [live_worker_secret("api", "API_KEY", value="old"), live_worker_secret("api", "DB_URL")]
    )
    again = Plan.from_dict(plan.to_dict())
    assert again.to_dict() == plan.to_dict()
    assert again.actions[0].worker == "api"


def test_record_format_round_trips_and_rejects_foreign_text() -> None:
    record = format_secrets_record({"B": "0123456789abcdef", "A": "fedcba9876543210"})
    assert record == "[reconciler secrets] A=fedcba9876543210 B=0123456789abcdef"
    assert parse_secrets_record(record) == {"A": "fedcba9876543210", "B": "0123456789abcdef"}
    assert parse_secrets_record("deployed by hand") is None
    assert parse_secrets_record("[reconciler secrets] A=nothex") is None
    assert parse_secrets_record(None) is None
    assert secrets_record_fits([f"SECRET_{i:03d}" for i in range(30)])
    assert not secrets_record_fits([f"SECRET_{i:03d}" for i in range(60)])


def test_markdown_and_json_show_the_worker_secret_like_the_others() -> None:
    from reconciler.plan.render_json import render_json
    from reconciler.plan.render_markdown import render_markdown

    plan = _plan(
        [live_worker_secret("api", "API_KEY", value="old"), live_worker_secret("api", "DB_URL")]
    )
    markdown = render_markdown(plan)
    assert "replace worker_secret api/API_KEY" in markdown
    assert "<code>(sensitive)</code>" in markdown
    (action,) = json.loads(render_json(plan))["actions"]
    assert {k: action[k] for k in ("action", "kind", "name", "store", "worker")} == {
        "action": "replace",
        "kind": "worker_secret",
        "name": "API_KEY",
        "store": None,
        "worker": "api",
    }


def test_without_a_key_values_are_not_compared_and_the_plan_says_so() -> None:
    from reconciler.plan.diff import NO_KEY_WARNING

    desired = state(
        workers=[worker("api", secrets=[desired_worker_secret("api", n) for n in NAMES])]
    )
    live = live_state(
        workers=[worker("api", secrets=[live_worker_secret("api", n, fp=None) for n in NAMES])]
    )
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=None)
    assert plan.actions == []
    assert NO_KEY_WARNING in plan.warnings


def test_a_worker_with_too_many_secrets_for_the_record_is_not_compared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"SECRET_WITH_A_LONG_NAME_{i:03d}" for i in range(40)]
    for name in names:
        monkeypatch.setenv(env_name("api", name), value_of(name))
    desired = state(
        workers=[worker("api", secrets=[desired_worker_secret("api", n) for n in names])]
    )
    live = live_state(
        workers=[worker("api", secrets=[live_worker_secret("api", n, fp=None) for n in names])]
    )
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    assert plan.actions == []  # never an endless rewrite of values it cannot record
    assert any("more than the fingerprint record" in w for w in plan.warnings)


def test_every_fingerprint_differing_counts_worker_secrets_too() -> None:
    from reconciler.plan.diff import KEY_CHANGED_WARNING

    plan = _plan([live_worker_secret("api", n, value="other") for n in NAMES])
    assert _secret_actions(plan) == [("replace", "API_KEY"), ("replace", "DB_URL")]
    assert KEY_CHANGED_WARNING in plan.warnings
