"""Plan and drift compare every field of every binding type; empty, default and absent
forms compare equal, so an applied worker plans empty however the API spells them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.plan.diff import compute_plan
from reconciler.plan.model import Plan, PlanOptions
from reconciler.state import Binding
from tests.binding_samples import SAMPLES, binding_name

from .conftest import KEY, live_state, state, worker

TYPES = sorted(SAMPLES)


def plan_of(desired: dict[str, Any], live: dict[str, Any], type_: str) -> Plan:
    name = binding_name(type_)
    want = worker("api", bindings=[Binding(name, type_, desired)])
    have = worker("api", bindings=[Binding(name, type_, live)])
    return compute_plan(
        state(workers=[want]),
        live_state(workers=[have]),
        options=PlanOptions(),
        fingerprint_key=KEY,
    )


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path]


def changed(params: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(params)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    old = node[path[-1]]
    node[path[-1]] = old + 1 if isinstance(old, int) else f"{old}-other"
    return out


@pytest.mark.parametrize("type_", TYPES)
def test_same_binding_plans_nothing(type_: str) -> None:
    plan = plan_of(SAMPLES[type_], copy.deepcopy(SAMPLES[type_]), type_)
    assert plan.actions == [] and plan.no_op == 1


CHANGES = [(t, p) for t in TYPES for p in leaves(SAMPLES[t])]


@pytest.mark.parametrize(
    ("type_", "path"), CHANGES, ids=[f"{t}:{'.'.join(map(str, p))}" for t, p in CHANGES]
)
def test_every_field_of_every_type_is_compared(type_: str, path: tuple[Any, ...]) -> None:
    live = changed(SAMPLES[type_], path)
    (action,) = plan_of(SAMPLES[type_], live, type_).actions
    (change,) = action.changes
    assert action.action == "update" and change.field == f"bindings.{binding_name(type_)}"
    assert change.before != change.after


def test_a_binding_with_no_fields_changes_by_type() -> None:
    want = worker("api", bindings=[Binding("X", "browser", {})])
    have = worker("api", bindings=[Binding("X", "version_metadata", {})])
    plan = compute_plan(
        state(workers=[want]),
        live_state(workers=[have]),
        options=PlanOptions(),
        fingerprint_key=KEY,
    )
    (action,) = plan.actions
    assert action.changes[0].before["type"] == "version_metadata"


@pytest.mark.parametrize(
    ("type_", "declared", "live"),
    [
        # the schema's default equals its absence
        ("service", {"service": "auth"}, {"service": "auth", "environment": "production"}),
        # d1's deprecated `id` is the same field as `database_id`
        ("d1", {"id": "abc"}, {"database_id": "abc"}),
        ("d1", {"database_id": "abc"}, {"database_id": "abc", "id": "abc"}),
        # empty, null and absent
        ("send_email", {}, {"allowed_sender_addresses": [], "destination_address": None}),
        ("r2_bucket", {"bucket_name": "u"}, {"bucket_name": "u", "jurisdiction": ""}),
        ("dispatch_namespace", {"namespace": "n"}, {"namespace": "n", "outbound": {}}),
        # a whole number the API returns as a float
        (
            "ratelimit",
            {"namespace_id": "1", "simple": {"limit": 100, "period": 60}},
            {"namespace_id": "1", "simple": {"limit": 100.0, "period": 60}},
        ),
        # fields the server fills in when left out: compared only when declared
        (
            "durable_object_namespace",
            {"class_name": "Room"},
            {
                "class_name": "Room",
                "namespace_id": "0f2ac74b498b48028cb68387c421e279",
                "script_name": "api",
            },
        ),
    ],
)
def test_empty_default_and_server_filled_forms_compare_equal(
    type_: str, declared: dict[str, Any], live: dict[str, Any]
) -> None:
    assert plan_of(declared, live, type_).actions == []


def test_declared_server_filled_field_is_compared() -> None:
    declared = {"class_name": "Room", "script_name": "rooms"}
    live = {"class_name": "Room", "script_name": "api", "namespace_id": "x"}
    (action,) = plan_of(declared, live, "durable_object_namespace").actions
    assert action.changes[0].before == {
        "class_name": "Room",
        "name": "DURABLE_OBJECT_NAMESPACE",
        "script_name": "api",
        "type": "durable_object_namespace",
    }


def test_lists_compare_in_order() -> None:
    assert plan_of({"json": [1, 2]}, {"json": [2, 1]}, "json").actions != []


def test_a_json_bindings_value_is_data_so_its_empty_forms_differ() -> None:
    assert plan_of({"json": {}}, {"json": []}, "json").actions != []
    assert plan_of({"json": ""}, {"json": {}}, "json").actions != []
