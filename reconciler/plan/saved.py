"""The saved-plan check: a plan file is the reviewed expectation, never a list of orders.

`apply --plan` (and the MCP server's apply) recompute the plan from the manifests and
the live account with the options the file records, and go on only when that fresh
plan equals the file's. What then runs is the fresh plan, so an edited file can at
most be refused. The first difference is named in one sentence.

Values are resolved again by the fresh plan and compared through the file's keyed pins
(`plan/fingerprint.value_pin`, with the file's salt): a value the plan writes, or compared
as unchanged, that the source now gives differently is refused, naming the secret.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from reconciler.errors import ReconcilerError, StalePlanError
from reconciler.plan.fingerprint import KEY_ENV, pins_match
from reconciler.plan.model import Action, Conflict, Plan, ValueKind, ValuePins

REPLAN = "nothing was changed. Run `reconciler plan --out PLANFILE` again and review the new plan"


def check_stale(saved: Plan, *, account: str, manifest_digest: str) -> None:
    """The checks that need no read: the account and the manifests the plan was made for."""
    if saved.account_id != account:
        raise StalePlanError(
            f"the plan is for account {saved.account_id}, but this run targets {account}; "
            "run `reconciler plan --out` again for this account"
        )
    if saved.manifest_digest != manifest_digest:
        raise StalePlanError(f"the manifests changed since the plan was made; {REPLAN}")


def check_saved_plan(saved: Plan, fresh: Plan) -> None:
    """Raise StalePlanError naming the first way `fresh` differs from the file's plan.

    Compared: account, options, live state digest, then the actions in order (action,
    kind, name, store, field changes), then the conflicts. Reasons, warnings and the
    unmanaged list are explanations derived from the same inputs and are not compared.
    """
    if saved.account_id != fresh.account_id:
        check_stale(saved, account=fresh.account_id, manifest_digest=saved.manifest_digest)
    if _norm(asdict(saved.options)) != _norm(asdict(fresh.options)):
        raise StalePlanError(
            f"the plan file's options {_options(saved)} differ from the fresh plan's "
            f"{_options(fresh)}; {REPLAN}"
        )
    if saved.live_digest != fresh.live_digest:
        raise StalePlanError(
            "the account changed since the plan was made (live state digest differs); "
            "nothing was changed. Run `reconciler plan --out PLANFILE` again and review it"
        )
    check_values(saved, fresh)
    difference = first_difference(saved, fresh)
    if difference is not None:
        raise StalePlanError(f"the plan file differs from a fresh plan {difference}; {REPLAN}")
    check_pin_set(saved, fresh)


def check_values(saved: Plan, fresh: Plan) -> None:
    """Each value the fresh plan resolved against the file's pin of it (constant time).

    The fresh plan pinned with the file's salt, so equal values give equal pins. Without
    a key here nothing can be checked: refused when the plan writes a value.
    """
    writes = [a for a in fresh.actions if a.writes_value]
    if saved.value_pins is None and writes:
        raise StalePlanError(
            f"the plan file pins none of the values it writes (it was made without {KEY_ENV}, "
            "or by an older reconciler), so apply cannot check them; nothing was changed. "
            f"Set {KEY_ENV}, run `reconciler plan --out PLANFILE` again and review the new plan"
        )
    if fresh.value_pins is None:
        if writes or (saved.value_pins is not None and saved.value_pins.pins):
            raise StalePlanError(
                f"{KEY_ENV} is not set, so the values this plan resolves cannot be checked "
                "against the ones it was made with; nothing was changed. Set "
                f"{KEY_ENV} (the key the plan was made with) and apply again"
            )
        return
    if saved.value_pins is None:
        return  # no pin to compare with, and the plan writes no value
    filed = {p.key: p.pin for p in saved.value_pins.pins}
    for pin in fresh.value_pins.pins:
        expected = filed.get(pin.key)
        if expected is not None and not pins_match(expected, pin.pin):
            raise StalePlanError(
                f"the value of {_short(pin.what)} is not the one the plan was made with (its "
                f"source gives another value now, or {KEY_ENV} is not the key the plan was "
                f"made with); {REPLAN}"
            )


def pinned_value(
    pins: ValuePins | None, key: bytes | None, kind: ValueKind, where: str, name: str, value: str
) -> str:
    """Apply reads each value again as it sends it: refused unless it is the one the plan
    resolved (a value file edited while the plan was shown or checked)."""
    if pins is not None and key is not None:
        broken = pins.broken_by(key, kind, where, name, value)
        if broken is not None:
            raise ReconcilerError(
                f"the value of {_short(broken.what)} changed after the plan read it, so it was "
                "not sent; run plan again and review the new plan"
            )
    return value


def check_pin_set(saved: Plan, fresh: Plan) -> None:
    """Same actions, same values, yet other pinned names: the file's pins were edited."""
    if saved.value_pins is None or fresh.value_pins is None:
        return  # check_values has refused whatever this leaves unchecked
    filed = {p.key for p in saved.value_pins.pins}
    resolved = {p.key for p in fresh.value_pins.pins}
    if filed != resolved:
        names = sorted(filed ^ resolved)
        raise StalePlanError(
            f"the plan file pins other values than a fresh plan resolves (first: "
            f"{_short('/'.join(names[0][1:]))}); {REPLAN}"
        )


def first_difference(saved: Plan, fresh: Plan) -> str | None:
    """'at action 3: file says …, fresh plan says …', or None when actions and conflicts agree."""
    for index in range(max(len(saved.actions), len(fresh.actions))):
        mine = saved.actions[index] if index < len(saved.actions) else None
        theirs = fresh.actions[index] if index < len(fresh.actions) else None
        if _action_key(mine) == _action_key(theirs):
            continue
        where = f"at action {index + 1}"
        if mine is not None and theirs is not None and _head(mine) == _head(theirs):
            return f"{where} ({_head(mine)}): {_changes_differ(mine, theirs)}"
        return f"{where}: file says {_describe(mine)}, fresh plan says {_describe(theirs)}"
    for index in range(max(len(saved.conflicts), len(fresh.conflicts))):
        mine_c = saved.conflicts[index] if index < len(saved.conflicts) else None
        theirs_c = fresh.conflicts[index] if index < len(fresh.conflicts) else None
        if _conflict_key(mine_c) != _conflict_key(theirs_c):
            return (
                f"at conflict {index + 1}: file says {_describe_conflict(mine_c)}, "
                f"fresh plan says {_describe_conflict(theirs_c)}"
            )
    return None


def _norm(value: Any) -> str:
    """JSON text: the file's side went through JSON, so compare both sides as JSON."""
    return json.dumps(value, sort_keys=True, default=str)


def _action_key(action: Action | None) -> str | None:
    if action is None:
        return None
    key = [action.action, action.kind, action.name, action.store, _changes(action)]
    if action.worker is not None:  # worker_secret actions only; older keys stay as they were
        key.append(action.worker)
    return _norm(key)


def _changes(action: Action) -> list[Any]:
    return [[c.field, c.before, c.after] for c in action.changes]


def _head(action: Action) -> str:
    if action.kind == "secret":
        return f"{action.action} secret {_short(f'{action.store}/{action.name}')}"
    if action.worker is not None:
        return f"{action.action} {action.kind} {_short(f'{action.worker}/{action.name}')}"
    # Only secrets have a store: a forged one on another kind must show, too.
    extra = "" if action.store is None else f" in store {_short(action.store)}"
    return f"{action.action} {action.kind} {_short(action.name)}{extra}"


def _describe(action: Action | None) -> str:
    return "no action" if action is None else _head(action)


def _changes_differ(mine: Action, theirs: Action) -> str:
    """Same action on the same resource: which field's change differs."""
    fields = [c.field for c in mine.changes]
    if _norm(fields) != _norm([c.field for c in theirs.changes]):
        listed = ", ".join(_short(str(f)) for f in fields) or "none"
        fresh = ", ".join(_short(str(c.field)) for c in theirs.changes) or "none"
        return f"the file changes fields {listed}, the fresh plan changes {fresh}"
    for m, t in zip(mine.changes, theirs.changes, strict=True):
        if _norm([m.before, m.after]) != _norm([t.before, t.after]):
            return f"the file's change of {_short(str(m.field))} differs from the fresh plan's"
    return "the actions differ"


def _describe_conflict(conflict: Conflict | None) -> str:
    return "no conflict" if conflict is None else f"a {_short(str(conflict.kind))} conflict"


def _conflict_key(conflict: Conflict | None) -> str | None:
    return None if conflict is None else _norm([conflict.kind, conflict.message])


def _options(plan: Plan) -> str:
    o = plan.options
    return f"(prune={o.prune}, force={o.force}, replace={_short(str(o.replace))})"


def _short(text: str, limit: int = 80) -> str:
    """A hostile file's names are echoed, so bound them (and drop control characters)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
