"""Issue 26, item 6: under --secret-update patch the plan apply prints said "apply deletes the
secret and recreates it"; the plan as applied says PATCH first, delete-and-recreate only as
the fallback. The plan itself (and a saved plan) stays strategy-free."""

from __future__ import annotations

import pytest

from reconciler.plan.diff import REASON_VALUE_CHANGED, compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.plan.secret_update import as_applied

from .conftest import KEY, desired_secret, live_secret, live_state, state


@pytest.mark.usefixtures("values_env")
def test_patch_rewords_the_replace_reason_and_leaves_the_plan_alone() -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A")])
    live = live_state(stores=["app"], secrets=[live_secret("app", "A", value="old value")])
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    (action,) = [a for a in plan.actions if a.kind == "secret"]
    assert action.action == "replace" and action.reason.startswith(REASON_VALUE_CHANGED)

    shown = as_applied(plan, "patch")
    (patched,) = [a for a in shown.actions if a.kind == "secret"]
    assert patched.reason.startswith(
        "the value changed: apply PATCHes the new value in place (same id); only if the API "
        "refuses the PATCH, it deletes the secret and recreates it (new id)"
    )
    assert "apply deletes the secret and recreates it" not in patched.reason
    assert action.reason.startswith(REASON_VALUE_CHANGED)  # the plan itself is unchanged
    assert as_applied(plan, "replace") is plan
