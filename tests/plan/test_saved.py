"""The saved-plan check on its own: equal plans pass, the first difference is named."""

from __future__ import annotations

import copy

import pytest

from reconciler.errors import StalePlanError
from reconciler.plan.model import Action, Change, Conflict, Plan, PlanOptions
from reconciler.plan.saved import check_saved_plan, check_stale, first_difference

ACCOUNT = "a" * 32


def _plan() -> Plan:
    return Plan(
        account_id=ACCOUNT,
        actions=[
            Action("create", "store", "app"),
            Action("create", "secret", "API_KEY", "app", [Change("value", None, "(sensitive)")]),
            Action("update", "worker", "api", changes=[Change("script", "sha256:a", "sha256:b")]),
        ],
        live_digest="sha256:live",
        manifest_digest="sha256:m",
    )


def test_an_equal_plan_passes_and_explanations_are_not_compared() -> None:
    saved, fresh = _plan(), _plan()
    saved.actions[1].reason = "edited"
    saved.warnings.append("edited")
    check_saved_plan(saved, fresh)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda p: p.actions.pop(0), "at action 1: file says create secret app/API_KEY, fresh "),
        (lambda p: p.actions.pop(), "at action 3: file says no action, fresh plan says update"),
        (
            lambda p: p.actions.append(Action("delete", "worker", "other")),
            "at action 4: file says delete worker other, fresh plan says no action",
        ),
        (
            lambda p: setattr(p.actions[0], "store", "x"),
            "at action 1: file says create store app in store x, fresh plan says create store app",
        ),
        (
            lambda p: p.actions[2].changes.append(Change("compatibility_date", None, "2025")),
            "at action 3 (update worker api): the file changes fields script, compatibility_date, "
            "the fresh plan changes script",
        ),
        (
            lambda p: setattr(p.actions[2].changes[0], "after", "sha256:c"),
            "at action 3 (update worker api): the file's change of script differs",
        ),
        (
            lambda p: p.conflicts.append(Conflict("store_limit", "x")),
            "at conflict 1: file says a store_limit conflict, fresh plan says no conflict",
        ),
    ],
)
def test_the_first_difference_is_named(edit: object, says: str) -> None:
    saved = _plan()
    edit(saved)  # type: ignore[operator]
    with pytest.raises(StalePlanError) as info:
        check_saved_plan(saved, _plan())
    assert f"the plan file differs from a fresh plan {says}" in str(info.value)
    assert "nothing was changed" in str(info.value)


def test_account_options_and_live_digest_are_compared() -> None:
    with pytest.raises(
        StalePlanError, match=r"the plan is for account b+, but this run targets a+"
    ):
        check_stale(Plan(account_id="b" * 32), account=ACCOUNT, manifest_digest="")
    with pytest.raises(StalePlanError, match="the manifests changed since the plan was made"):
        check_stale(_plan(), account=ACCOUNT, manifest_digest="sha256:other")
    saved = _plan()
    saved.options = PlanOptions(prune=True)
    with pytest.raises(StalePlanError, match=r"options \(prune=True, force=False, replace=\[\]\)"):
        check_saved_plan(saved, _plan())
    saved = _plan()
    saved.live_digest = "sha256:other"
    with pytest.raises(StalePlanError, match="the account changed since the plan was made"):
        check_saved_plan(saved, _plan())


def test_hostile_names_are_bounded_and_printable() -> None:
    saved = _plan()
    fresh = copy.deepcopy(saved)
    saved.actions[0].name = "evil\n\x1b[2J" + "x" * 500
    difference = first_difference(saved, fresh)
    assert difference is not None
    assert "\n" not in difference and "\x1b" not in difference
    assert len(difference) < 300
