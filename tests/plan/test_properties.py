"""Property tests: for random Desired/Live pairs the plan round-trips and respects dependencies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ConfigError
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import Action, Plan, PlanOptions
from reconciler.plan.render_json import render_json
from reconciler.state import Binding, Secret, State, Worker
from reconciler.values import ValueSource

from .conftest import KEY, desired_secret, live_secret, live_state, secret_binding, state, worker

STORES = ["s0", "s1", "s2"]
NAMES = ["A", "B", "C"]
WORKERS = ["w0", "w1", "w2"]
SCOPES = ["workers", "ai_gateway", "dex"]
# Values for secrets named A and B are exported; C's source is missing (a conflict).
ENV_VALUE = {"A": "prop-value-a", "B": "prop-value-b"}


@pytest.fixture(autouse=True, scope="module")
def _values() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for store in STORES:
            for name, value in ENV_VALUE.items():
                mp.setenv(f"PROP_{store}_{name}", value)
        yield


refs = st.tuples(st.sampled_from(STORES), st.sampled_from(NAMES))
scopes = st.frozensets(st.sampled_from(SCOPES), min_size=1)


@st.composite
def bindings(draw: st.DrawFn) -> list[Binding]:
    chosen = draw(st.lists(refs, max_size=2, unique=True))
    return [secret_binding(f"B_{s}_{n}", s, n) for s, n in chosen]


@st.composite
def desired_states(draw: st.DrawFn) -> State:
    stores = draw(st.lists(st.sampled_from(STORES), unique=True))
    secrets: list[Secret] = []
    for store in stores:
        for name in draw(st.lists(st.sampled_from(NAMES), unique=True)):
            source = ValueSource(env=f"PROP_{store}_{name}")
            comment = draw(st.sampled_from(["", "note"]))
            secrets.append(desired_secret(store, name, draw(scopes), comment, source=source))
    workers = [
        worker(n, draw(st.sampled_from(["v1", "v2"])), bindings=draw(bindings()))
        for n in draw(st.lists(st.sampled_from(WORKERS), unique=True))
    ]
    return state(stores=stores, secrets=secrets, workers=workers)


@st.composite
def live_states(draw: st.DrawFn) -> State:
    stores = draw(st.lists(st.sampled_from(STORES), unique=True))
    secrets: list[Secret] = []
    for store in stores:
        for name in draw(st.lists(st.sampled_from(NAMES), unique=True)):
            managed = draw(st.booleans())
            fp_kind = draw(st.sampled_from(["match", "stale", "none"]))
            value = ENV_VALUE.get(name, "x") if fp_kind == "match" else "stale"
            fp = None if fp_kind == "none" or not managed else "auto"
            comment = draw(st.sampled_from(["", "note"]))
            secrets.append(
                live_secret(store, name, draw(scopes), comment, managed=managed, value=value, fp=fp)
            )
    workers: list[Worker] = [
        worker(
            n,
            draw(st.sampled_from(["v1", "v2"])),
            bindings=draw(bindings()),
            managed=draw(st.booleans()),
        )
        for n in draw(st.lists(st.sampled_from(WORKERS), unique=True))
    ]
    max_stores = draw(st.one_of(st.none(), st.integers(1, 3)))
    return live_state(stores=stores, secrets=secrets, workers=workers, max_stores=max_stores)


options = st.builds(
    PlanOptions,
    prune=st.booleans(),
    force=st.booleans(),
    replace=st.lists(st.sampled_from(["A", "s1/B", "s0/C", "nope"]), unique=True, max_size=2),
)


def _index(plan: Plan) -> dict[tuple[str, str | None, str], tuple[int, Action]]:
    return {(a.kind, a.store, a.name): (i, a) for i, a in enumerate(plan.actions)}


def _check_order(plan: Plan, desired: State, live: State) -> None:
    idx = _index(plan)
    for i, action in enumerate(plan.actions):
        if action.kind == "secret" and action.action != "delete":
            store = idx.get(("store", None, action.store or ""))
            if store is not None:
                assert store[1].action != "delete"
                assert store[0] < i, "a store comes before the secrets in it"
        if action.kind == "worker" and action.action != "delete":
            for b in desired.workers[action.name].bindings:
                ref_store, ref_name = b.params["store"], b.params["secret"]
                secret = idx.get(("secret", ref_store, ref_name))
                if secret is not None and secret[1].action != "delete":
                    assert secret[0] < i, "a secret comes before the workers binding it"
                store = idx.get(("store", None, ref_store))
                if store is not None and store[1].action != "delete":
                    assert store[0] < i
        if action.action == "delete" and action.kind == "secret":
            store = idx.get(("store", None, action.store or ""))
            if store is not None and store[1].action == "delete":
                assert i < store[0], "a store's secrets are deleted before the store"
        if action.action == "delete" and action.kind == "worker":
            for b in live.workers[action.name].bindings:
                secret = idx.get(("secret", b.params["store"], b.params["secret"]))
                if secret is not None and secret[1].action == "delete":
                    assert i < secret[0], "a worker is deleted before the secrets it binds"


def _check_safety(plan: Plan, desired: State, live: State) -> None:
    keys = [(a.kind, a.store, a.name) for a in plan.actions]
    assert len(keys) == len(set(keys)), "one action per resource"
    for action in plan.actions:
        if action.action == "delete":
            assert plan.options.prune
            if action.kind == "secret":
                assert live.secrets[(action.store or "", action.name)].managed
            elif action.kind == "worker":
                assert live.workers[action.name].managed
            else:
                assert all(s.managed for s in live.secrets_in(action.name))
    declared = len(set(desired.stores) | {s.store for s in desired.secrets.values()})
    declared += len(desired.secrets) + len(desired.workers)
    kept = sum(1 for a in plan.actions if a.action != "delete")
    assert kept + plan.no_op == declared


@settings(max_examples=300, deadline=None)
@given(desired_states(), live_states(), options, st.booleans())
def test_random_plans_round_trip_and_respect_dependencies(
    desired: State, live: State, opts: PlanOptions, with_key: bool
) -> None:
    key = KEY if with_key else None
    declared = {n for s in desired.secrets.values() for n in (s.name, f"{s.store}/{s.name}")}
    declared |= {n for w in desired.workers.values() for s in w.secrets for n in (s.name, f"{w.name}/{s.name}")}  # fmt: skip
    if not set(opts.replace) <= declared:  # a --replace naming nothing is refused, never ignored
        with pytest.raises(ConfigError, match="matches no declared secret"):
            compute_plan(desired, live, options=opts, fingerprint_key=key)
        return
    plan = compute_plan(desired, live, options=opts, fingerprint_key=key)
    raw = render_json(plan)
    again = Plan.from_dict(json.loads(raw))
    assert again == plan
    assert render_json(again) == raw
    _check_order(plan, desired, live)
    _check_safety(plan, desired, live)
    for value in ENV_VALUE.values():
        assert value not in raw
