"""Empty and default forms compare equal, field by field, however either side spells them
(issue 21): absent, null, "", [] and {} are one value; the user's own json data is not."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.empty import canonical
from reconciler.plan.compare import field_changes, secret_view, worker_view
from reconciler.state import Binding, Secret
from tests.plan.conftest import worker

EMPTIES: list[Any] = ["<absent>", None, "", [], {}]


def _with(view: dict[str, Any], key: str, spelling: Any) -> dict[str, Any]:
    out = dict(view)
    if spelling == "<absent>":
        out.pop(key, None)
    else:
        out[key] = spelling
    return out


@pytest.mark.parametrize("left", EMPTIES)
@pytest.mark.parametrize("right", EMPTIES)
@pytest.mark.parametrize("key", ["compatibility_date", "compatibility_flags"])
def test_every_empty_spelling_of_a_worker_field_is_no_change(
    key: str, left: Any, right: Any
) -> None:
    view = worker_view(worker("w"))
    assert field_changes(_with(view, key, left), _with(view, key, right)) == []


@pytest.mark.parametrize("left", EMPTIES)
@pytest.mark.parametrize("right", EMPTIES)
def test_every_empty_spelling_of_a_secret_comment_is_no_change(left: Any, right: Any) -> None:
    view = secret_view(Secret("s", "N", frozenset({"workers"})))
    assert field_changes(_with(view, "comment", left), _with(view, "comment", right)) == []


@pytest.mark.parametrize("left", EMPTIES)
@pytest.mark.parametrize("right", EMPTIES)
@pytest.mark.parametrize(
    ("type_", "params", "optional"),
    [
        ("plain_text", {"text": "x"}, "text"),
        ("kv_namespace", {"namespace_id": "ns"}, "jurisdiction"),
        ("r2_bucket", {"bucket_name": "b"}, "jurisdiction"),
        ("service", {"service": "api"}, "environment"),
        ("send_email", {}, "allowed_destination_addresses"),
        ("dispatch_namespace", {"namespace": "n"}, "outbound"),
    ],
)
def test_every_empty_spelling_of_a_binding_param_is_no_change(
    type_: str, params: dict[str, Any], optional: str, left: Any, right: Any
) -> None:
    def view(spelling: Any) -> dict[str, Any]:
        p = _with(params, optional, spelling)
        return worker_view(worker("w", bindings=[Binding("B", type_, p)]))

    assert field_changes(view(left), view(right)) == []


def test_nested_empties_inside_a_param_are_absent_too() -> None:
    def view(outbound: Any) -> dict[str, Any]:
        b = Binding("D", "dispatch_namespace", {"namespace": "n", "outbound": outbound})
        return worker_view(worker("w", bindings=[b]))

    spelled = {"params": [], "worker": {"service": "o", "environment": None, "entrypoint": ""}}
    assert field_changes(view(spelled), view({"worker": {"service": "o"}})) == []
    changed = field_changes(view(spelled), view({"worker": {"service": "other"}}))
    assert [c.field for c in changed] == ["bindings.D"]


@pytest.mark.parametrize(
    ("a", "b"), [({}, []), ({}, ""), ("", []), ({"k": ""}, {}), ([None], []), ({}, 0), (False, 0)]
)
def test_json_binding_values_are_data_and_never_merge(a: Any, b: Any) -> None:
    def view(value: Any) -> dict[str, Any]:
        return worker_view(worker("w", bindings=[Binding("J", "json", {"json": value})]))

    assert [c.field for c in field_changes(view(a), view(b))] == ["bindings.J"]
    assert field_changes(view(a), view(a)) == []


def test_a_real_change_next_to_an_empty_spelling_is_still_shown_with_its_own_values() -> None:
    before = worker_view(worker("w", date=None, flags=[]))
    after = worker_view(worker("w", date="2025-01-01", flags=[]))
    before["compatibility_flags"] = None  # as an API may answer
    changes = field_changes(before, after)
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("compatibility_date", None, "2025-01-01")
    ]


def test_a_create_lists_only_the_fields_it_sets() -> None:
    fields = [c.field for c in field_changes(None, worker_view(worker("w", date=None)))]
    assert fields == ["script"]


def test_false_and_zero_are_values_not_empties() -> None:
    assert canonical({"a": False, "b": 0, "c": "", "d": [None, ""]}) == {
        "a": False,
        "b": 0,
        "d": [None, None],
    }
