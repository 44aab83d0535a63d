"""Table-driven tests: every action kind, for every resource kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.plan.compare import field_changes
from reconciler.plan.diff import KEY_CHANGED_WARNING, NO_KEY_WARNING, compute_plan
from reconciler.plan.model import SENSITIVE, Change, Plan, PlanOptions
from reconciler.state import State
from reconciler.values import ValueSource

from .conftest import (
    KEY,
    desired_secret,
    live_secret,
    live_state,
    secret_binding,
    state,
    worker,
)


@dataclass
class Case:
    id: str
    desired: State
    live: State
    # (action, kind, label) in plan order
    expected: list[tuple[str, str, str]]
    no_op: int = 0
    options: PlanOptions = field(default_factory=PlanOptions)
    key: bytes | None = KEY
    unmanaged: list[tuple[str, str]] = field(default_factory=list)
    reason_has: str = ""


CASES = [
    Case(
        "create store, secret, worker in dependency order",
        state(
            stores=["app"],
            secrets=[desired_secret("app", "API_KEY")],
            workers=[worker("api", bindings=[secret_binding("KEY", "app", "API_KEY")])],
        ),
        live_state(),
        [
            ("create", "store", "app"),
            ("create", "secret", "app/API_KEY"),
            ("create", "worker", "api"),
        ],
    ),
    Case(
        "everything in sync is a counted no-op",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")], workers=[worker("api")]),
        live_state(
            stores=["app"], secrets=[live_secret("app", "API_KEY")], workers=[worker("api")]
        ),
        [],
        no_op=3,
    ),
    Case(
        "secret comment and scopes update",
        state(
            stores=["app"],
            secrets=[desired_secret("app", "API_KEY", ["workers", "ai_gateway"], "x")],
        ),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", ["workers"], "old")]),
        [("update", "secret", "app/API_KEY")],
        no_op=1,
    ),
    Case(
        "secret scopes compare as sets",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY", ["workers", "access"])]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", ["access", "workers"])]),
        [],
        no_op=2,
    ),
    Case(
        "secret value changed is a replace",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", value="old-value")]),
        [("replace", "secret", "app/API_KEY")],
        no_op=1,
        reason_has="value changed",
    ),
    Case(
        "managed secret without a fingerprint is replaced when a key is set",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", fp=None)]),
        [("replace", "secret", "app/API_KEY")],
        no_op=1,
        reason_has="no fingerprint was recorded",
    ),
    Case(
        "no key: a changed value is not detected",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", value="old-value")]),
        [],
        no_op=2,
        key=None,
    ),
    Case(
        "--replace store/name forces a rotation without a key",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY")]),
        [("replace", "secret", "app/API_KEY")],
        no_op=1,
        key=None,
        options=PlanOptions(replace=["app/API_KEY"]),
        reason_has="--replace",
    ),
    Case(
        "--replace bare name matches in any store",
        state(
            stores=["app", "other"],
            secrets=[desired_secret("app", "TOKEN"), desired_secret("other", "TOKEN")],
        ),
        live_state(
            stores=["app", "other"],
            secrets=[live_secret("app", "TOKEN"), live_secret("other", "TOKEN")],
        ),
        [("replace", "secret", "app/TOKEN"), ("replace", "secret", "other/TOKEN")],
        no_op=2,
        options=PlanOptions(replace=["TOKEN"]),
    ),
    Case(
        "unmanaged secret with a declared name is adopted",
        state(stores=["app"], secrets=[desired_secret("app", "API_KEY")]),
        live_state(stores=["app"], secrets=[live_secret("app", "API_KEY", managed=False)]),
        [("adopt", "store", "app"), ("adopt", "secret", "app/API_KEY")],
        reason_has="without the reconciler marker",
    ),
    Case(
        "declared store that exists unmanaged is adopted (default store)",
        state(
            stores=["default_secrets_store"], secrets=[desired_secret("default_secrets_store", "A")]
        ),
        live_state(stores=["default_secrets_store"]),
        [
            ("adopt", "store", "default_secrets_store"),
            ("create", "secret", "default_secrets_store/A"),
        ],
    ),
    Case(
        "declared store that exists and will hold no secrets is left as it is (converges)",
        state(stores=["default_secrets_store"]),
        live_state(stores=["default_secrets_store"]),
        [],
        no_op=1,
    ),
    Case(
        "undeclared managed resources are kept without --prune",
        state(),
        live_state(stores=["app"], secrets=[live_secret("app", "OLD")], workers=[worker("old")]),
        [],
    ),
    Case(
        "undeclared managed resources are deleted with --prune, in reverse order",
        state(),
        live_state(stores=["app"], secrets=[live_secret("app", "OLD")], workers=[worker("old")]),
        [("delete", "worker", "old"), ("delete", "secret", "app/OLD"), ("delete", "store", "app")],
        options=PlanOptions(prune=True),
    ),
    Case(
        "unmanaged resources are listed and never touched, even with --prune",
        state(),
        live_state(
            stores=["default_secrets_store"],
            secrets=[live_secret("default_secrets_store", "MINE", managed=False)],
            workers=[worker("hand-made", managed=False)],
        ),
        [],
        options=PlanOptions(prune=True),
        unmanaged=[
            ("secret", "default_secrets_store/MINE"),
            ("store", "default_secrets_store"),
            ("worker", "hand-made"),
        ],
    ),
    Case(
        "store with mixed secrets is not pruned but its managed secret is",
        state(),
        live_state(
            stores=["app"],
            secrets=[live_secret("app", "OLD"), live_secret("app", "MINE", managed=False)],
        ),
        [("delete", "secret", "app/OLD")],
        options=PlanOptions(prune=True),
        unmanaged=[("secret", "app/MINE"), ("store", "app")],
    ),
    Case(
        "worker script change is an update",
        state(workers=[worker("api", "export default {fetch(){}}")]),
        live_state(workers=[worker("api")]),
        [("update", "worker", "api")],
    ),
    Case(
        "unmanaged worker with a declared name is adopted",
        state(workers=[worker("api")]),
        live_state(workers=[worker("api", managed=False)]),
        [("adopt", "worker", "api")],
        reason_has="without the reconciler tag",
    ),
]


def labels(plan: Plan) -> list[tuple[str, str, str]]:
    return [(a.action, a.kind, a.label) for a in plan.actions]


@pytest.mark.usefixtures("values_env")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_actions(case: Case) -> None:
    plan = compute_plan(case.desired, case.live, options=case.options, fingerprint_key=case.key)
    assert labels(plan) == case.expected
    assert plan.no_op == case.no_op
    assert plan.conflicts == []
    got_unmanaged = [(u.kind, f"{u.store}/{u.name}" if u.store else u.name) for u in plan.unmanaged]
    assert got_unmanaged == case.unmanaged
    if case.reason_has:
        assert any(case.reason_has in a.reason for a in plan.actions)
    assert plan.live_digest == case.live.digest()


@pytest.mark.usefixtures("values_env")
def test_update_lists_each_changed_field() -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A", ["workers", "dex"], "new")])
    live = live_state(stores=["app"], secrets=[live_secret("app", "A", ["workers"], "old")])
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    assert plan.actions[0].changes == [
        Change("comment", "old", "new"),
        Change("scopes", ["workers"], ["dex", "workers"]),
    ]


@pytest.mark.usefixtures("values_env")
def test_replace_carries_field_changes_and_a_sensitive_value() -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A", comment="new")])
    live = live_state(stores=["app"], secrets=[live_secret("app", "A", value="other")])
    (action,) = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY).actions
    assert action.action == "replace"
    assert action.changes == [Change("comment", "", "new"), Change("value", SENSITIVE, SENSITIVE)]


@pytest.mark.usefixtures("values_env")
def test_worker_update_changes_per_field_and_binding_by_name() -> None:
    before = worker(
        "api",
        bindings=[secret_binding("KEY", "app", "A"), secret_binding("GONE", "app", "B")],
        flags=["nodejs_compat"],
    )
    after = worker(
        "api",
        "export default {fetch(){}}",
        bindings=[secret_binding("NEW", "app", "B"), secret_binding("KEY", "app", "A")],
        date="2025-06-01",
    )
    secrets = [desired_secret("app", "A"), desired_secret("app", "B")]
    desired = state(stores=["app"], secrets=secrets, workers=[after])
    live = live_state(
        stores=["app"], secrets=[live_secret("app", "A"), live_secret("app", "B")], workers=[before]
    )
    (action,) = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY).actions
    fields = {c.field: c for c in action.changes}
    assert set(fields) == {
        "script",
        "compatibility_date",
        "compatibility_flags",
        "bindings.NEW",
        "bindings.GONE",
    }
    assert fields["script"].before == before.script_digest
    assert fields["script"].after == after.script_digest
    assert fields["compatibility_flags"] == Change("compatibility_flags", ["nodejs_compat"], [])
    assert fields["bindings.GONE"].after is None
    assert fields["bindings.NEW"].before is None
    assert fields["bindings.NEW"].after == {
        "name": "NEW",
        "secret": "B",
        "store": "app",
        "type": "secrets_store_secret",
    }


@pytest.mark.usefixtures("values_env")
def test_no_key_warns_once() -> None:
    secrets = [desired_secret("app", n) for n in ("A", "B", "C")]
    live = live_state(stores=["app"], secrets=[live_secret("app", n) for n in ("A", "B", "C")])
    plan = compute_plan(
        state(stores=["app"], secrets=secrets), live, options=PlanOptions(), fingerprint_key=None
    )
    assert plan.warnings == [NO_KEY_WARNING]


@pytest.mark.usefixtures("values_env")
def test_no_key_still_creates_and_adopts_with_values() -> None:
    desired = state(
        stores=["app"], secrets=[desired_secret("app", "A"), desired_secret("app", "B")]
    )
    live = live_state(stores=["app"], secrets=[live_secret("app", "B", managed=False)])
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=None)
    assert labels(plan) == [
        ("adopt", "store", "app"),
        ("create", "secret", "app/A"),
        ("adopt", "secret", "app/B"),
    ]
    assert all(Change("value", SENSITIVE, SENSITIVE) in a.changes for a in plan.actions[2:])


@pytest.mark.usefixtures("values_env")
def test_undeclared_managed_are_warned() -> None:
    live = live_state(stores=["app"], secrets=[live_secret("app", "OLD")], workers=[worker("w")])
    plan = compute_plan(state(), live, options=PlanOptions(), fingerprint_key=KEY)
    assert any("3 managed resources are no longer declared" in w for w in plan.warnings)


@pytest.mark.usefixtures("values_env")
def test_a_replace_naming_no_declared_secret_is_refused() -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A")])
    with pytest.raises(ConfigError, match=r"--replace NOPE matches no declared secret.*app/A"):
        compute_plan(
            desired, live_state(), options=PlanOptions(replace=["NOPE"]), fingerprint_key=KEY
        )
    for ok in ("A", "app/A"):
        compute_plan(desired, live_state(), options=PlanOptions(replace=[ok]), fingerprint_key=KEY)


@pytest.mark.usefixtures("values_env")
def test_replace_of_bound_secret_notes_unavailability_window() -> None:
    binding = secret_binding("KEY", "app", "A")
    desired = state(
        stores=["app"],
        secrets=[desired_secret("app", "A")],
        workers=[worker("api", bindings=[binding])],
    )
    live = live_state(
        stores=["app"],
        secrets=[live_secret("app", "A", value="old")],
        workers=[
            worker("api", bindings=[binding]),
            worker("legacy", bindings=[binding], managed=False),
        ],
    )
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    (replace,) = [a for a in plan.actions if a.action == "replace"]
    assert "unavailability window" in replace.reason
    assert "'api'" in replace.reason and "'legacy'" in replace.reason


def test_value_from_file_is_compared(value_file: Path) -> None:
    desired = state(
        stores=["app"],
        secrets=[desired_secret("app", "DB_PASSWORD", source=ValueSource(file=value_file))],
    )
    live = live_state(stores=["app"], secrets=[live_secret("app", "DB_PASSWORD")])
    assert compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY).actions == []
    value_file.write_text("rotated\n")
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    assert labels(plan) == [("replace", "secret", "app/DB_PASSWORD")]


@pytest.mark.usefixtures("values_env")
def test_create_lists_the_fields_it_sets() -> None:
    desired = state(
        stores=["app"],
        secrets=[desired_secret("app", "A", ["workers"], "note")],
        workers=[worker("api", bindings=[secret_binding("K", "app", "A")], date=None)],
    )
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    store, secret, api = plan.actions
    assert store.changes == []
    assert secret.changes == [
        Change("comment", None, "note"),
        Change("scopes", None, ["workers"]),
        Change("value", None, SENSITIVE),
    ]
    assert [c.field for c in api.changes] == ["script", "bindings.K"]
    assert all(c.before is None for c in api.changes)


@pytest.mark.usefixtures("values_env")
def test_adopt_shows_the_differences_it_takes_over() -> None:
    desired = state(workers=[worker("api", flags=["nodejs_compat"])])
    live = live_state(workers=[worker("api", managed=False)])
    (action,) = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY).actions
    assert action.changes == [Change("compatibility_flags", [], ["nodejs_compat"])]


@pytest.mark.usefixtures("values_env")
@pytest.mark.parametrize(("quota", "warned"), [(3, False), (2, True), (None, False)])
def test_creating_past_the_secrets_quota_is_warned(quota: int | None, warned: bool) -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", n) for n in ("A", "B", "C")])
    live = live_state(stores=["app"], secrets=[live_secret("app", "A")])
    live.secret_quota = quota
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    expected = (
        "the account's Secrets Store quota is 2 secrets, but after this plan there would be 3: "
        "creates past the quota will fail; delete secrets (--prune) or ask Cloudflare for a "
        "higher quota"
    )
    assert (expected in plan.warnings) is warned
    assert not any("quota" in w for w in plan.warnings) or warned


def test_json_binding_types_are_compared_exactly() -> None:
    """true and 1 are equal to Python's ==, but not as JSON binding values."""
    before = {"bindings.CONFIG": {"json": {"flag": True}, "name": "CONFIG", "type": "json"}}
    after = {"bindings.CONFIG": {"json": {"flag": 1}, "name": "CONFIG", "type": "json"}}
    assert [c.field for c in field_changes(before, after)] == ["bindings.CONFIG"]
    assert field_changes(before, dict(before)) == []


@pytest.mark.usefixtures("values_env")
def test_a_store_swap_under_the_limit_deletes_the_old_store_first() -> None:
    """Rename a store when the account holds one: delete first, or the create answers 1003."""
    desired = state(
        stores=["other"],
        secrets=[desired_secret("other", "A")],
        workers=[worker("api", bindings=[secret_binding("KEY", "other", "A")])],
    )
    live = live_state(
        stores=["app"],
        secrets=[live_secret("app", "A")],
        workers=[worker("api", bindings=[secret_binding("KEY", "app", "A")])],
        max_stores=1,
    )
    plan = compute_plan(desired, live, options=PlanOptions(prune=True), fingerprint_key=KEY)
    assert plan.conflicts == []
    assert labels(plan) == [
        ("delete", "secret", "app/A"),
        ("delete", "store", "app"),
        ("create", "store", "other"),
        ("create", "secret", "other/A"),
        ("update", "worker", "api"),
    ]
    reason = plan.actions[1].reason
    assert "deleted before the new stores are created" in reason
    assert "worker(s) 'api' bind its secrets" in reason
    # With room to spare, the usual order stands: create first, delete last.
    live.max_stores = 2
    roomy = compute_plan(desired, live, options=PlanOptions(prune=True), fingerprint_key=KEY)
    assert labels(roomy)[0] == ("create", "store", "other")
    assert labels(roomy)[-1] == ("delete", "store", "app")


@pytest.mark.usefixtures("values_env")
def test_a_changed_fingerprint_key_is_called_out() -> None:
    names = ("A", "B", "C")
    desired = state(stores=["app"], secrets=[desired_secret("app", n) for n in names])
    live = live_state(stores=["app"], secrets=[live_secret("app", n) for n in names])
    other_key = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=b"new-key")
    assert [a.action for a in other_key.actions] == ["replace"] * 3
    assert KEY_CHANGED_WARNING in other_key.warnings
    # One real value change among unchanged ones is just that.
    one = live_state(
        stores=["app"],
        secrets=[
            live_secret("app", "A", value="old"),
            live_secret("app", "B"),
            live_secret("app", "C"),
        ],
    )
    plan = compute_plan(desired, one, options=PlanOptions(), fingerprint_key=KEY)
    assert [a.action for a in plan.actions] == ["replace"]
    assert KEY_CHANGED_WARNING not in plan.warnings


@pytest.mark.usefixtures("values_env")
def test_the_undeclared_managed_warning_names_each_one() -> None:
    """Issue 26, item 2: `! 1 managed resource is no longer declared; --prune deletes them`
    named nothing; the text plan shows warnings only, so the name must be in the warning."""
    live = live_state(stores=["app"], secrets=[live_secret("app", "OLD")], workers=[worker("w")])
    desired = state(stores=["app"], secrets=[])
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    assert (
        "2 managed resources are no longer declared (secret 'app/OLD', worker 'w'); "
        "--prune deletes them"
    ) in plan.warnings
    many = live_state(stores=["app"], secrets=[live_secret("app", f"S{i:02}") for i in range(25)])
    plan = compute_plan(desired, many, options=PlanOptions(), fingerprint_key=KEY)
    (warning,) = [w for w in plan.warnings if "no longer declared" in w]
    assert "secret 'app/S19'" in warning and "S20" not in warning and "and 5 more" in warning
