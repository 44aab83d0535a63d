"""The order actions run in: what others depend on is created first and deleted last.

Creates go stores, secrets, workers (workers bind secrets, secrets live in stores);
deletes go the reverse way. A worker's script secrets are deleted before it is uploaded
(an upload keeps the secrets it does not list) and written after (an upload writes
those of the worker it uploads itself; the others need the worker to exist). Its
triggers (crons, routes, domains, workers.dev) come after its upload and secrets. Within a
group actions are sorted by name so the same inputs always give the same plan text.

Workers name other workers (service bindings, tail consumers), and the API refuses a name
that does not exist yet: a worker is created (or updated) after the workers it names and
deleted before them. Each worker gets a layer, how deep it sits above the workers it names
(`worker_layers`); the workers group runs layer by layer, and apply keeps the layers apart.

One exception: stores are scarce. When the plan deletes a store and creates another,
and the account could not hold both at once, the deleted stores go first (with their
secrets and the workers being deleted that bind them), or the create would fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.plan.compare import secret_bindings
from reconciler.plan.model import Action
from reconciler.settings_forms import tail_consumers
from reconciler.state import State, Worker
from reconciler.words import count

_GROUPS: dict[tuple[str, bool], int] = {
    ("store", False): 0,
    ("secret", False): 1,
    ("worker_secret", True): 2,
    ("worker", False): 3,
    ("worker_secret", False): 4,
    # Triggers need their worker to exist: after its upload, before any worker delete.
    # A route or domain leaves its old worker before others arrive.
    ("worker_route", True): 5,
    ("worker_domain", True): 5,
    ("worker_route", False): 6,
    ("worker_domain", False): 6,
    ("worker_crons", False): 6,
    ("worker_subdomain", False): 6,
    # After the version upload it deploys (and the secrets written in it).
    ("worker_deployment", False): 6,
    ("worker", True): 7,
    ("secret", True): 8,
    ("store", True): 9,
}


def worker_refs(worker: Worker) -> set[str]:
    """The workers this worker names: its service bindings' and its tail consumers'."""
    refs = {
        str(b.params["service"])
        for b in worker.bindings
        if b.type == "service" and b.params.get("service")
    }
    consumers = worker.settings.get("tail_consumers")
    refs |= {t["service"] for t in tail_consumers(consumers) if not t.get("namespace")}
    return refs - {worker.name}


def worker_layers(state: State | None) -> dict[str, int]:
    """0 for a worker that names no other worker of the state, else one more than the
    deepest it names. A cycle (the API cannot create one) is cut where it is met."""
    workers = state.workers if state is not None else {}
    layers: dict[str, int] = {}

    def layer(name: str, path: frozenset[str]) -> int:
        if name not in layers:
            refs = [r for r in worker_refs(workers[name]) if r in workers and r not in path]
            layers[name] = 1 + max((layer(r, path | {r}) for r in refs), default=-1)
        return layers[name]

    for name in sorted(workers):
        layer(name, frozenset({name}))
    return layers


@dataclass(frozen=True)
class Layers:
    """Worker layers of both sides: creates and updates follow the manifests, deletes the
    account (the deepest first)."""

    desired: dict[str, int] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, desired: State | None, live: State | None) -> Layers:
        return cls(worker_layers(desired), worker_layers(live))

    def of_action(self, action: Action) -> int:
        if action.kind != "worker":
            return 0
        if action.action == "delete":
            return -self.live.get(action.name, 0)
        return self.desired.get(action.name, 0)


def action_rank(action: Action, layers: Layers | None = None) -> tuple[int, int, str, str]:
    """Sort key: dependency group, worker layer, then store (or worker), then name."""
    group = _GROUPS[(action.kind, action.action == "delete")]
    layer = layers.of_action(action) if layers is not None else 0
    return (group, layer, action.store or action.worker or "", action.name)


def order_actions(
    actions: list[Action], live: State | None = None, desired: State | None = None
) -> list[Action]:
    layers = Layers.of(desired, live)
    ordered = sorted(actions, key=lambda a: action_rank(a, layers))
    if live is None or not _needs_room_first(ordered, live):
        return ordered
    gone = {a.name for a in ordered if a.kind == "store" and a.action == "delete"}
    secrets_gone = {
        (a.store, a.name) for a in ordered if a.kind == "secret" and a.action == "delete"
    }

    def early(action: Action) -> bool:
        if action.action != "delete":
            return False
        if action.kind == "store":
            return True
        if action.kind == "secret":
            return action.store in gone
        if action.kind != "worker":
            return False
        worker = live.workers.get(action.name)
        return worker is not None and any(
            ref[0] in gone and ref in secrets_gone for _, ref in secret_bindings(worker)
        )

    first = [a for a in ordered if early(a)]
    deleted_early = {a.name for a in first if a.kind == "worker"}
    for action in first:
        if action.kind != "store":
            continue
        note = (
            "deleted before the new stores are created: the account holds at most "
            f"{count(live.max_stores or 0, 'store')}"
        )
        binders = sorted(
            name
            for name, worker in live.workers.items()
            if name not in deleted_early
            and any(ref[0] == action.name for _, ref in secret_bindings(worker))
        )
        if binders:
            note += (
                f"; worker(s) {', '.join(repr(b) for b in binders)} bind its secrets and "
                "cannot read them until apply updates them"
            )
        action.reason = f"{action.reason}; {note}" if action.reason else note
    return first + [a for a in ordered if not early(a)]


def _needs_room_first(actions: list[Action], live: State) -> bool:
    """True when creating the new stores before deleting the old ones would pass the limit."""
    if live.max_stores is None:
        return False
    creates = sum(1 for a in actions if a.kind == "store" and a.action == "create")
    deletes = sum(1 for a in actions if a.kind == "store" and a.action == "delete")
    return creates > 0 and deletes > 0 and len(live.stores) + creates > live.max_stores
