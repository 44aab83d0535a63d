"""Conflicts: problems that make apply refuse the whole plan before it changes anything.

`missing_value` is found while diffing (that is where values are read); the others
need the finished action list and live here.
"""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.plan.compare import secret_bindings
from reconciler.plan.model import Action, Conflict
from reconciler.plan.ownership import managed_count, store_managed
from reconciler.settings_forms import tail_consumers
from reconciler.state import State, Worker
from reconciler.words import count

SAFETY_THRESHOLD = 0.30
SAFETY_MIN_RESOURCES = 10
RAISE_LIMIT_HINT = (
    "raise the limit with --max-stores / RECONCILER_MAX_STORES if the account's plan allows more"
)


def _count(actions: list[Action], kind: str, *types: str) -> int:
    return sum(1 for a in actions if a.kind == kind and a.action in types)


def store_limit(desired: State, live: State, actions: list[Action]) -> Conflict | None:
    """Stores after the plan (live - deletes + creates) must fit the account's limit."""
    if live.max_stores is None:
        return None
    creates = _count(actions, "store", "create")
    after = len(live.stores) - _count(actions, "store", "delete") + creates
    if after <= live.max_stores or creates == 0:
        return None
    created = sorted(a.name for a in actions if a.kind == "store" and a.action == "create")
    deleted = {a.name for a in actions if a.kind == "store" and a.action == "delete"}
    kept = [name for name in sorted(live.stores) if name not in deleted]
    ways = [_way_out(desired, live, name, created) for name in kept]
    live_noun = "store" if len(kept) == 1 else "stores"
    return Conflict(
        "store_limit",
        f"the account allows {count(live.max_stores, 'secrets store')}, but after this plan there "
        f"would be {after}: the plan creates {_declared(desired, created)} next to the live "
        f"{live_noun} {_quoted(kept)}. Ways out: {'; '.join([*ways, RAISE_LIMIT_HINT])}.",
    )


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _at(location: Location | None) -> str:
    return f" (declared at {location})" if location else ""


def _declared(desired: State, names: list[str]) -> str:
    """Each store with the manifest spot that declares it: the line that crosses the limit."""
    spots = []
    for name in names:
        store = desired.stores.get(name)
        spots.append(f"'{name}'{_at(store.location if store else None)}")
    return ", ".join(spots)


def _way_out(desired: State, live: State, store: str, created: list[str]) -> str:
    """What to do about one live store that is in the way."""
    if store in desired.stores:
        most = count(live.max_stores or 0, "store")
        return (
            f"{_declared(desired, [store])} is declared too, so declare at most {most}: "
            f"put the secrets meant for {_quoted(created)} in '{store}'"
        )
    if store_managed(live, store):
        return f"prune '{store}' with --prune (it holds only secrets reconciler manages)"
    instead = f" instead of {_quoted(created)}" if created else ""
    return (
        f"adopt '{store}' by declaring a store named '{store}' in the manifests{instead} "
        "and putting the secrets in it"
    )


def _workers_after(desired: State, live: State, actions: list[Action]) -> list[Worker]:
    deleted = {a.name for a in actions if a.kind == "worker" and a.action == "delete"}
    kept = [w for n, w in live.workers.items() if n not in desired.workers and n not in deleted]
    return list(desired.workers.values()) + kept


def dangling_bindings(desired: State, live: State, actions: list[Action]) -> list[Conflict]:
    """A worker that will exist must not bind a store secret that will not."""
    deleted = {(a.store, a.name) for a in actions if a.kind == "secret" and a.action == "delete"}
    after = set(desired.secrets) | (set(live.secrets) - deleted)
    conflicts = []
    for worker in sorted(_workers_after(desired, live, actions), key=lambda w: w.name):
        for binding, ref in secret_bindings(worker):
            if ref in after:
                continue
            why = (
                "the plan deletes it; declare it again or remove the binding"
                if ref in deleted
                else "declare it in a manifest or remove the binding"
            )
            conflicts.append(
                Conflict(
                    "dangling_binding",
                    f"worker '{worker.name}'{_at(worker.location)} binding '{binding}' refers "
                    "to store secret "
                    f"'{ref[0]}/{ref[1]}', which will not exist after this plan ({why})",
                )
            )
    return conflicts


def missing_tail_consumers(desired: State, live: State, actions: list[Action]) -> list[Conflict]:
    """A declared Tail Worker (of this account: no dispatch namespace) must exist after the
    plan; the API refuses an upload naming one that does not, half-way through an apply."""
    deleted = {a.name for a in actions if a.kind == "worker" and a.action == "delete"}
    after = set(desired.workers) | (set(live.workers) - deleted)
    conflicts = []
    for name in sorted(desired.workers):
        worker = desired.workers[name]
        for consumer in tail_consumers(worker.settings.get("tail_consumers")):
            service = consumer["service"]
            if consumer.get("namespace") or service in after:
                continue
            why = "the plan deletes it" if service in deleted else "the account has no such worker"
            conflicts.append(
                Conflict(
                    "tail_consumer_missing",
                    f"worker '{name}'{_at(worker.location)} names '{service}' as a Tail Worker, "
                    "which will not exist "
                    f"after this plan ({why}); declare or deploy it, or remove it from "
                    "tail_consumers",
                )
            )
    return conflicts


def safety_threshold(live: State, actions: list[Action], *, force: bool) -> Conflict | None:
    """Refuse to delete or replace a large share of what we manage unless --force."""
    managed = managed_count(live)
    risky = sum(1 for a in actions if a.action in ("delete", "replace"))
    if force or managed < SAFETY_MIN_RESOURCES or risky <= SAFETY_THRESHOLD * managed:
        return None
    return Conflict(
        "safety_threshold",
        f"the plan deletes or replaces {risky} of {managed} managed resources "
        f"({risky / managed:.0%}), more than the {SAFETY_THRESHOLD:.0%} safety threshold; "
        "review the plan and pass --force to allow it",
    )


def find_conflicts(
    desired: State, live: State, actions: list[Action], *, force: bool
) -> list[Conflict]:
    """Every conflict that needs the finished action list, in a stable order."""
    found: list[Conflict] = []
    limit = store_limit(desired, live, actions)
    if limit is not None:
        found.append(limit)
    found.extend(dangling_bindings(desired, live, actions))
    found.extend(missing_tail_consumers(desired, live, actions))
    safety = safety_threshold(live, actions, force=force)
    if safety is not None:
        found.append(safety)
    return found
