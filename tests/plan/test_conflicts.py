"""Table-driven tests: every conflict kind, and the cases that must not conflict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.errors import PlanConflictError
from reconciler.manifest.merge import load_manifests
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.state import State
from reconciler.values import ValueSource

from .conftest import (
    KEY,
    VALUES,
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
    kinds: list[str]
    message_has: list[str] = field(default_factory=list)
    options: PlanOptions = field(default_factory=PlanOptions)
    key: bytes | None = KEY


def _many_managed(n: int) -> State:
    """n managed secrets in one store: n + 1 managed resources."""
    return live_state(stores=["app"], secrets=[live_secret("app", f"S{i}") for i in range(n)])


def _desired_keep(n: int) -> State:
    return state(
        stores=["app"],
        secrets=[
            desired_secret("app", f"S{i}", source=ValueSource(env="RECON_TEST_KEEP"))
            for i in range(n)
        ],
    )


CASES = [
    Case(
        "store limit names the live store and the ways out",
        state(stores=["app"], secrets=[desired_secret("app", "A")]),
        live_state(stores=["default_secrets_store"], max_stores=1),
        ["store_limit"],
        [
            "live store 'default_secrets_store'",
            "declaring a store named 'default_secrets_store' in the manifests instead of 'app'",
            "--max-stores",
        ],
    ),
    Case(
        "store limit suggests pruning an undeclared store reconciler manages",
        state(stores=["app"], secrets=[desired_secret("app", "A")]),
        live_state(stores=["old"], secrets=[live_secret("old", "X")], max_stores=1),
        ["store_limit"],
        ["creates 'app'", "prune 'old' with --prune"],
    ),
    Case(
        "store limit with two declared stores says to declare fewer, not to prune",
        state(
            stores=["app", "other"],
            secrets=[desired_secret("app", "A"), desired_secret("other", "B")],
        ),
        live_state(stores=["app"], secrets=[live_secret("app", "A")], max_stores=1),
        ["store_limit"],
        [
            "creates 'other' next to the live store 'app'",
            "'app' is declared too, so declare at most 1 store: put the secrets meant for "
            "'other' in 'app'",
        ],
    ),
    Case(
        "store limit is fine when the old store is pruned",
        state(stores=["app"], secrets=[desired_secret("app", "A")]),
        live_state(stores=["old"], secrets=[live_secret("old", "X")], max_stores=1),
        [],
        options=PlanOptions(prune=True),
    ),
    Case(
        "store limit is fine when the existing store is adopted",
        state(
            stores=["default_secrets_store"], secrets=[desired_secret("default_secrets_store", "A")]
        ),
        live_state(stores=["default_secrets_store"], max_stores=1),
        [],
    ),
    Case(
        "unknown limit never conflicts",
        state(stores=["a", "b"]),
        live_state(stores=["c"]),
        [],
    ),
    Case(
        "missing env value source for a create",
        state(
            stores=["app"], secrets=[desired_secret("app", "A", source=ValueSource(env="NOPE_X"))]
        ),
        live_state(stores=["app"], secrets=[live_secret("app", "B")]),
        ["missing_value"],
        ["environment variable NOPE_X", "app/A"],
    ),
    Case(
        "missing file value source for a comparison with a key",
        state(
            stores=["app"],
            secrets=[desired_secret("app", "A", source=ValueSource(file=None, env=None))],
        ),
        live_state(stores=["app"], secrets=[live_secret("app", "A")]),
        ["missing_value"],
        ["app/A"],
    ),
    Case(
        "no key: an unchanged secret's value is not needed",
        state(
            stores=["app"], secrets=[desired_secret("app", "A", source=ValueSource(env="NOPE_X"))]
        ),
        live_state(stores=["app"], secrets=[live_secret("app", "A")]),
        [],
        key=None,
    ),
    Case(
        "desired worker binds an undeclared secret",
        state(workers=[worker("api", bindings=[secret_binding("K", "app", "GHOST")])]),
        live_state(),
        ["dangling_binding"],
        ["'api'", "'K'", "app/GHOST"],
    ),
    Case(
        "live unmanaged worker binds a pruned secret",
        state(stores=["app"], secrets=[desired_secret("app", "A")]),
        live_state(
            stores=["app"],
            secrets=[live_secret("app", "A"), live_secret("app", "OLD")],
            workers=[worker("legacy", bindings=[secret_binding("K", "app", "OLD")], managed=False)],
        ),
        ["dangling_binding"],
        ["'legacy'", "app/OLD", "the plan deletes it"],
        options=PlanOptions(prune=True),
    ),
    Case(
        "a pruned worker's bindings do not matter",
        state(stores=["app"], secrets=[desired_secret("app", "A")]),
        live_state(
            stores=["app"],
            secrets=[live_secret("app", "A"), live_secret("app", "OLD")],
            workers=[worker("old", bindings=[secret_binding("K", "app", "OLD")])],
        ),
        [],
        options=PlanOptions(prune=True),
    ),
    Case(
        "binding to a live unmanaged secret is fine",
        state(workers=[worker("api", bindings=[secret_binding("K", "app", "THEIRS")])]),
        live_state(stores=["app"], secrets=[live_secret("app", "THEIRS", managed=False)]),
        [],
    ),
    Case(
        "deleting 4 of 11 managed resources trips the safety threshold",
        _desired_keep(6),
        _many_managed(10),
        ["safety_threshold"],
        ["4 of 11", "30%", "--force"],
        options=PlanOptions(prune=True),
    ),
    Case(
        "--force lifts the safety threshold",
        _desired_keep(6),
        _many_managed(10),
        [],
        options=PlanOptions(prune=True, force=True),
    ),
    Case(
        "under 10 managed resources the threshold does not apply",
        _desired_keep(2),
        _many_managed(8),
        [],
        options=PlanOptions(prune=True),
    ),
    Case(
        "exactly 30% (3 of 10) is allowed",
        _desired_keep(6),
        _many_managed(9),
        [],
        options=PlanOptions(prune=True),
    ),
    Case(
        "replaces count towards the threshold",
        _desired_keep(10),
        _many_managed(10),
        ["safety_threshold"],
        ["4 of 11"],
        options=PlanOptions(replace=["S0", "S1", "S2", "S3"]),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conflicts(case: Case, values_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_TEST_KEEP", "keep")
    monkeypatch.delenv("NOPE_X", raising=False)
    # The "keep" secrets must fingerprint-match their live twins.
    live = case.live
    if any(
        s.value_from == ValueSource(env="RECON_TEST_KEEP") for s in case.desired.secrets.values()
    ):
        live = _rebuild_with_value(live, "keep")
    plan = compute_plan(case.desired, live, options=case.options, fingerprint_key=case.key)
    assert [c.kind for c in plan.conflicts] == case.kinds
    text = " ".join(c.message for c in plan.conflicts)
    for part in case.message_has:
        assert part in text


def _rebuild_with_value(live: State, value: str) -> State:
    return live_state(
        stores=list(live.stores),
        secrets=[live_secret(s.store, s.name, value=value) for s in live.secrets.values()],
        max_stores=live.max_stores,
    )


def test_missing_value_message_never_holds_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_TEST_BIG", VALUES["TOKEN"] * 3000)
    desired = state(
        stores=["app"],
        secrets=[desired_secret("app", "A", source=ValueSource(env="RECON_TEST_BIG"))],
    )
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    assert [c.kind for c in plan.conflicts] == ["missing_value"]
    assert "65,536" in plan.conflicts[0].message
    assert VALUES["TOKEN"] not in plan.conflicts[0].message


def test_conflicts_come_in_a_stable_kind_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_X", raising=False)
    desired = state(
        stores=["app"],
        secrets=[desired_secret("app", "A", source=ValueSource(env="NOPE_X"))],
        workers=[worker("api", bindings=[secret_binding("K", "app", "GHOST")])],
    )
    plan = compute_plan(
        desired, live_state(stores=["x"], max_stores=1), options=PlanOptions(), fingerprint_key=KEY
    )
    assert [c.kind for c in plan.conflicts] == ["store_limit", "missing_value", "dangling_binding"]


def test_raise_if_conflicts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_X", raising=False)
    desired = state(
        stores=["app"], secrets=[desired_secret("app", "A", source=ValueSource(env="NOPE_X"))]
    )
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    with pytest.raises(PlanConflictError) as caught:
        plan.raise_if_conflicts()
    assert caught.value.exit_code == 3
    assert "missing_value: secret 'app/A'" in str(caught.value)
    plan.conflicts = []
    plan.raise_if_conflicts()


def test_store_limit_names_the_manifest_line_of_the_store_that_crosses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 26, item 7: the conflict named the stores but not where they are declared."""
    monkeypatch.chdir(tmp_path)
    Path("stores.yaml").write_text("stores:\n  - name: live-one\n  - name: app\n")
    desired = load_manifests(["stores.yaml"]).state
    live = live_state(stores=["live-one", "other"], max_stores=2)
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    (conflict,) = plan.conflicts
    assert conflict.kind == "store_limit"
    assert "the plan creates 'app' (declared at stores.yaml:3:11) next to" in conflict.message
    assert "'live-one' (declared at stores.yaml:2:11) is declared too" in conflict.message


def test_missing_value_and_dangling_binding_name_their_manifest_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conflicts name the manifest location that causes them, not only the resource."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    Path("w.js").write_text("export default {};\n")
    Path("m.yaml").write_text(
        "stores: [{name: app}]\n"
        "secrets:\n"
        "  - {name: A, store: app, scopes: [workers], value_from: {env: NOT_SET_ANYWHERE}}\n"
        "workers:\n"
        "  - name: w\n"
        "    script: w.js\n"
        "    bindings: [{type: secrets_store_secret, name: S, store: app, secret: A}]\n"
    )
    desired = load_manifests(["m.yaml"]).state
    live = live_state(stores=["app"], secrets=[live_secret("app", "A")])
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    (missing,) = [c for c in plan.conflicts if c.kind == "missing_value"]
    assert missing.message.endswith("(value_from at m.yaml:3:58)"), missing.message
    desired.secrets.pop(("app", "A"))  # the binding now names a secret the plan deletes
    plan = compute_plan(desired, live, options=PlanOptions(prune=True), fingerprint_key=KEY)
    (dangling,) = [c for c in plan.conflicts if c.kind == "dangling_binding"]
    assert dangling.message.startswith("worker 'w' (declared at m.yaml:5:5) binding 'S'")
