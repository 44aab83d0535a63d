"""The applier's second wall: handed a forged plan directly (no saved-plan check in front of
it), it refuses before its first API call and names the action."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable

import pytest

from reconciler.apply import Applier
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.errors import PlanConflictError, ReconcilerError, UnsafePlanError
from reconciler.manifest.merge import load_manifests
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import Action, Change, Conflict, Plan, PlanOptions
from tests.e2e.conftest import FINGERPRINT_KEY, Env

KEY = FINGERPRINT_KEY.encode()


def _setup(env: Env) -> None:
    """The quick start applied, a value rotated, plus an unmanaged secret and worker."""
    assert env.run("apply", "--auto-approve").exit_code == 0
    store_id = env.inspect("state")["stores"][0]["id"]
    env.seed_secret(store_id, "HAND_MADE")
    env.seed_worker("hand-made")
    (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_ROTATED\n")


def _run_forged(env: Env, forge: Callable[[Plan], None]) -> ReconcilerError:
    """Plan genuinely, forge the plan object, hand it to the applier: it must refuse."""

    async def go() -> None:
        manifests = load_manifests(["manifests"])
        config = ClientConfig(token=DEFAULT_TOKEN, base_url=env.server.base_url)
        async with CloudflareClient(config) as client:
            live = await read_live(client, DEFAULT_ACCOUNT_ID)
            plan = compute_plan(manifests.state, live, options=PlanOptions(), fingerprint_key=KEY)
            forged = copy.deepcopy(plan)
            forge(forged)
            env.clear_log()
            applier = Applier(client, DEFAULT_ACCOUNT_ID, manifests.state, live, KEY)
            await applier.run(forged)

    with pytest.raises(ReconcilerError) as info:
        asyncio.run(go())
    assert env.inspect("requests") == [], "refused before any API call"
    return info.value


def _replace(plan: Plan) -> Action:
    return next(a for a in plan.actions if a.action == "replace")


def _prune(plan: Plan) -> None:
    plan.options.prune = True


CASES: list[tuple[str, Callable[[Plan], None], str]] = [
    (
        "delete unmanaged worker",
        lambda p: (_prune(p), p.actions.append(Action("delete", "worker", "hand-made"))),
        "(delete worker hand-made): it does not carry our tag",
    ),
    (
        "delete unmanaged secret",
        lambda p: (
            _prune(p),
            p.actions.append(Action("delete", "secret", "HAND_MADE", "prod-secrets")),
        ),
        "(delete secret prod-secrets/HAND_MADE): it does not carry our marker",
    ),
    (
        "delete without prune",
        lambda p: p.actions.append(Action("delete", "worker", "hand-made")),
        "the plan's options do not include prune, and only prune deletes",
    ),
    (
        "replace turned into delete",
        lambda p: (_prune(p), setattr(_replace(p), "action", "delete")),
        "(delete secret prod-secrets/STRIPE_KEY): the manifests declare this secret",
    ),
    (
        "delete a declared store",
        lambda p: (_prune(p), p.actions.append(Action("delete", "store", "prod-secrets"))),
        "(delete store prod-secrets): the manifests declare this store",
    ),
    (
        "delete what is not there",
        lambda p: (_prune(p), p.actions.append(Action("delete", "worker", "ghost"))),
        "(delete worker ghost): the worker is not in the account",
    ),
    (
        "create undeclared secret",
        lambda p: p.actions.append(
            Action("create", "secret", "PLANTED", "prod-secrets", [Change("value", None, "x")])
        ),
        "(create secret prod-secrets/PLANTED): no manifest declares this secret",
    ),
    (
        "retargeted replace",
        lambda p: setattr(_replace(p), "name", "HAND_MADE"),
        "(replace secret prod-secrets/HAND_MADE): no manifest declares this secret",
    ),
    (
        "adopt undeclared worker",
        lambda p: p.actions.append(Action("adopt", "worker", "hand-made")),
        "(adopt worker hand-made): no manifest declares this worker",
    ),
    (
        "update undeclared store",
        lambda p: p.actions.append(Action("update", "store", "elsewhere")),
        "(update store elsewhere): no manifest declares this store",
    ),
    (
        "the same secret twice",
        lambda p: p.actions.append(copy.deepcopy(_replace(p))),
        "(replace secret prod-secrets/STRIPE_KEY): it acts on a resource an earlier action",
    ),
]


@pytest.mark.parametrize(("what", "forge", "says"), CASES, ids=[c[0] for c in CASES])
def test_the_applier_refuses_a_forged_plan_before_any_call(
    env: Env, what: str, forge: Callable[[Plan], None], says: str
) -> None:
    _setup(env)
    error = _run_forged(env, forge)
    assert isinstance(error, UnsafePlanError), (what, error)
    assert str(error).startswith("apply refused the plan before any change: action ")
    assert says in str(error)


def test_the_applier_refuses_a_plan_with_conflicts(env: Env) -> None:
    _setup(env)
    error = _run_forged(
        env, lambda p: p.conflicts.append(Conflict("safety_threshold", "too many replaced"))
    )
    assert isinstance(error, PlanConflictError)
    assert "safety_threshold: too many replaced" in str(error)


def test_the_genuine_plan_passes_the_guard(env: Env) -> None:
    """The control: the same plan, unforged, is applied."""
    _setup(env)
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "done    replace secret prod-secrets/STRIPE_KEY" in result.output
