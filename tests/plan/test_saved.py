"""The saved-plan check on its own: equal plans pass, the first difference is named."""

from __future__ import annotations

import copy

import pytest

from reconciler.errors import StalePlanError
from reconciler.plan.fingerprint import value_pin
from reconciler.plan.model import (
    Action,
    Change,
    Conflict,
    Plan,
    PlanOptions,
    ValuePin,
    ValuePins,
)
from reconciler.plan.saved import check_saved_plan, check_stale, first_difference

ACCOUNT = "a" * 32
KEY = b"saved-plan-test-key"
SALT = "0123456789abcdef" * 2


def _pin(kind: str, where: str, name: str, value: str) -> ValuePin:
    pin = value_pin(KEY, SALT, kind, where, name, value)
    if kind == "secret":
        return ValuePin("secret", name, store=where, pin=pin)
    return ValuePin("worker_secret", name, worker=where, pin=pin)


def _pins(api_key: str = "v1", token: str = "t1") -> ValuePins:
    return ValuePins(
        SALT, [_pin("secret", "app", "API_KEY", api_key), _pin("worker_secret", "api", "T", token)]
    )


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
        value_pins=_pins(),
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


@pytest.mark.parametrize(
    ("fresh_pins", "says"),
    [
        (_pins(api_key="v2"), "the value of secret app/API_KEY is not the one the plan was made"),
        (_pins(token="t2"), "the value of worker api's secret T is not the one the plan was made"),
    ],
)
def test_a_value_that_differs_from_its_pin_is_named(fresh_pins: ValuePins, says: str) -> None:
    fresh = _plan()
    fresh.value_pins = fresh_pins
    with pytest.raises(StalePlanError) as info:
        check_saved_plan(_plan(), fresh)
    assert says in str(info.value) and "nothing was changed" in str(info.value)
    assert "v2" not in str(info.value) and "t2" not in str(info.value)


def test_without_a_key_a_plan_that_writes_values_is_refused_naming_it() -> None:
    unpinned = _plan()
    unpinned.value_pins = None
    with pytest.raises(StalePlanError, match="pins none of the values it writes") as info:
        check_saved_plan(unpinned, _plan())
    assert "Set RECONCILER_FINGERPRINT_KEY, run `reconciler plan --out" in str(info.value)
    with pytest.raises(StalePlanError, match="RECONCILER_FINGERPRINT_KEY is not set"):
        check_saved_plan(_plan(), unpinned)
    with pytest.raises(StalePlanError, match="pins none of the values it writes"):
        check_saved_plan(unpinned, copy.deepcopy(unpinned))


def test_a_plan_that_writes_no_value_needs_no_pin() -> None:
    """Unpinned (made without a key): fine while it writes nothing, e.g. a worker update."""
    saved = _plan()
    saved.actions = [saved.actions[2]]
    saved.value_pins = None
    fresh = copy.deepcopy(saved)
    check_saved_plan(saved, fresh)
    fresh.value_pins = _pins()  # a key at apply: its values were compared, and nothing to pin
    check_saved_plan(saved, fresh)


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p.value_pins.pins.pop(),
        lambda p: p.value_pins.pins.append(_pin("secret", "app", "PLANTED", "x")),
        lambda p: setattr(p.value_pins.pins[0], "name", "OTHER"),
    ],
)
def test_edited_pin_lists_are_refused(edit: object) -> None:
    saved = _plan()
    edit(saved)  # type: ignore[operator]
    with pytest.raises(StalePlanError, match="pins other values than a fresh plan resolves"):
        check_saved_plan(saved, _plan())


@pytest.mark.parametrize("forged", ["", "0" * 64, "é" * 64, "x" * 10_000])
def test_forged_pins_never_match_and_never_crash(forged: str) -> None:
    saved = _plan()
    assert saved.value_pins is not None
    saved.value_pins.pins[0].pin = forged
    with pytest.raises(StalePlanError, match="the value of secret app/API_KEY is not the one"):
        check_saved_plan(saved, _plan())
