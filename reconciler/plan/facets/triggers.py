"""Triggers and reachability in the plan: cron schedules, the workers.dev subdomain, zone
routes and custom domains, each a key a worker owns whole when its manifest sets it.

Each gets actions of its own kind (`worker_crons`, `worker_subdomain`, `worker_route`,
`worker_domain`) so changing one never re-uploads the script. Routes and domains are planned
across all workers at once: a pattern or hostname another worker holds moves to the worker
that declares it when reconciler owns the holder (an adopt, shown with where it comes from),
and is a conflict when it does not (never touched), or when two workers declare it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.errors import Location
from reconciler.plan.context import Planning
from reconciler.plan.facets.base import PlanFacet
from reconciler.plan.model import Action, Change, Conflict
from reconciler.state import LiveDomain, LiveRoute, State, Worker, in_zone, pattern_host

REASON_ROUTE_MOVES = "held by worker '{holder}', which reconciler manages: apply points it here"
REASON_DOMAIN_MOVES = "attached to worker '{holder}', which reconciler manages: apply moves it here"
TRIGGER_KINDS = ("worker_crons", "worker_subdomain", "worker_route", "worker_domain")


@dataclass
class TriggerPlan:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    no_op: int = 0


class TriggersPlan(PlanFacet):
    """No fields in the worker's own action: every change is an action of its own kind."""

    name = "triggers"

    def plan(self, planning: Planning) -> None:
        out = plan_triggers(planning.desired, planning.live)
        planning.actions += out.actions
        planning.missing += out.conflicts
        planning.no_op += out.no_op


FACET = TriggersPlan()


def plan_triggers(desired: State, live: State) -> TriggerPlan:
    out = TriggerPlan()
    for name in sorted(desired.workers):
        want = desired.workers[name]
        have = live.workers.get(name)
        _crons(out, want, have)
        _subdomain(out, want, have)
    _routes(out, desired, live)
    _domains(out, desired, live)
    return out


def ours(name: str | None, desired: State, live: State) -> bool:
    """A worker reconciler owns after this plan: declared, or carrying our marker."""
    if name is None:
        return False
    held = live.workers.get(name)
    return name in desired.workers or (held is not None and held.managed)


def _crons(out: TriggerPlan, want: Worker, have: Worker | None) -> None:
    if want.crons is None:
        return
    after = sorted(set(want.crons))
    before = sorted(set(have.crons)) if have is not None and have.crons is not None else None
    if after == (before if before is not None else []):
        out.no_op += 1
        return
    out.actions.append(
        Action("update", "worker_crons", want.name, changes=[Change("crons", before, after)],
               worker=want.name)
    )  # fmt: skip


def _subdomain(out: TriggerPlan, want: Worker, have: Worker | None) -> None:
    changes = [
        Change(key, getattr(have, key) if have is not None else None, getattr(want, key))
        for key in ("workers_dev", "preview_urls")
        if getattr(want, key) is not None
        and (have is None or getattr(have, key) != getattr(want, key))
    ]
    if want.workers_dev is None and want.preview_urls is None:
        return
    if not changes:
        out.no_op += 1
        return
    out.actions.append(
        Action("update", "worker_subdomain", want.name, changes=changes, worker=want.name)
    )


def zone_of(spec_zone: str | None, spec_zone_id: str | None, live: State) -> str | None:
    """A declared zone's id as read this run (None: no such zone of the account)."""
    if spec_zone_id is not None:
        return spec_zone_id if spec_zone_id in live.routes else None
    return live.zones.get(spec_zone or "")


def _zone_name(zone_id: str, live: State) -> str:
    return next((n for n, z in live.zones.items() if z == zone_id), zone_id)


def _at(location: Location | None) -> str:
    """Where a manifest declares it, for a conflict's sentence (as the other conflicts say)."""
    return f" (declared at {location})" if location else ""


def _routes(out: TriggerPlan, desired: State, live: State) -> None:
    claims: dict[tuple[str, str], str] = {}
    spots: dict[tuple[str, str], Location | None] = {}
    for name in sorted(desired.workers):
        want = desired.workers[name]
        for spec in want.routes or ():
            zone_id = zone_of(spec.zone, spec.zone_id, live)
            zone_label = spec.zone or spec.zone_id or ""
            if zone_id is None:
                out.conflicts.append(Conflict(
                    "zone_not_found",
                    f"worker '{name}' route {spec.pattern!r}{_at(spec.location)}: zone "
                    f"{zone_label} is not a zone of this account (check the name or zone_id, "
                    "and the token's zone access)",
                ))  # fmt: skip
                continue
            host = pattern_host(spec.pattern)
            zone_name = _zone_name(zone_id, live)
            if (
                spec.zone is None
                and host is not None
                and zone_name != zone_id
                and not in_zone(host, zone_name)
            ):
                out.conflicts.append(Conflict(
                    "route_conflict",
                    f"worker '{name}' route {spec.pattern!r}{_at(spec.location)} is not in zone "
                    f"{zone_name}",
                ))  # fmt: skip
                continue
            key = (zone_id, spec.pattern)
            if key in claims and claims[key] != name:
                out.conflicts.append(Conflict(
                    "route_conflict",
                    f"route {spec.pattern!r} (zone {zone_label}) is declared by workers "
                    f"'{claims[key]}'{_at(spots[key])} and '{name}'{_at(spec.location)}: a "
                    "pattern runs one worker; keep it in one",
                ))  # fmt: skip
                continue
            claims[key] = name
            spots[key] = spec.location
    by_key: dict[tuple[str, str], LiveRoute] = {
        (r.zone_id, r.pattern): r for routes in live.routes.values() for r in routes
    }
    for (zone_id, pattern), name in sorted(claims.items(), key=lambda kv: (kv[1], kv[0][1])):
        zone = _zone_name(zone_id, live)
        held = by_key.get((zone_id, pattern))
        if held is None:
            out.actions.append(Action(
                "create", "worker_route", pattern, changes=[Change("zone", None, zone)],
                worker=name,
            ))  # fmt: skip
        elif held.script == name:
            out.no_op += 1
        elif ours(held.script, desired, live):
            out.actions.append(Action(
                "adopt", "worker_route", pattern, changes=[Change("script", held.script, name)],
                reason=REASON_ROUTE_MOVES.format(holder=held.script), worker=name,
            ))  # fmt: skip
        else:
            holder = (
                f"worker '{held.script}'" if held.script else "no worker (it turns Workers off)"
            )
            out.conflicts.append(Conflict(
                "route_conflict",
                f"worker '{name}' declares route {pattern!r}{_at(spots[(zone_id, pattern)])} "
                f"(zone {zone}), but in this account "
                f"it runs {holder}, which reconciler does not manage and never changes: remove "
                "that route first (dashboard or API), or declare that worker in a manifest",
            ))  # fmt: skip
    owners = {n for n, w in desired.workers.items() if w.routes is not None}
    for r in sorted(by_key.values(), key=lambda r: (r.script or "", r.pattern)):
        if r.script in owners and (r.zone_id, r.pattern) not in claims:
            out.actions.append(Action(
                "delete", "worker_route", r.pattern,
                changes=[Change("zone", _zone_name(r.zone_id, live), None)], worker=r.script,
            ))  # fmt: skip


def _domains(out: TriggerPlan, desired: State, live: State) -> None:
    claims: dict[str, tuple[str, str]] = {}  # hostname -> (worker, zone id)
    spots: dict[str, Location | None] = {}
    for name in sorted(desired.workers):
        for spec in desired.workers[name].domains or ():
            zone_id = spec.zone_id or live.zones.get(spec.zone or "")
            if zone_id is None:
                out.conflicts.append(Conflict(
                    "zone_not_found",
                    f"worker '{name}' custom domain {spec.hostname}{_at(spec.location)}: zone "
                    f"{spec.zone} is not a "
                    "zone of this account (check the name and the token's zone access)",
                ))  # fmt: skip
                continue
            if spec.hostname in claims and claims[spec.hostname][0] != name:
                out.conflicts.append(Conflict(
                    "domain_conflict",
                    f"custom domain {spec.hostname} is declared by workers "
                    f"'{claims[spec.hostname][0]}'{_at(spots[spec.hostname])} and "
                    f"'{name}'{_at(spec.location)}: a hostname serves one worker",
                ))  # fmt: skip
                continue
            claims[spec.hostname] = (name, zone_id)
            spots[spec.hostname] = spec.location
    held: dict[str, LiveDomain] = {d.hostname: d for d in live.domains or ()}
    for hostname, (name, zone_id) in sorted(claims.items(), key=lambda kv: (kv[1][0], kv[0])):
        d = held.get(hostname)
        zone = next((n for n, z in live.zones.items() if z == zone_id), zone_id)
        if d is None:
            out.actions.append(Action(
                "create", "worker_domain", hostname, changes=[Change("zone", None, zone)],
                worker=name,
            ))  # fmt: skip
        elif d.service == name and d.zone_id == zone_id:
            out.no_op += 1
        elif d.service == name:
            out.actions.append(Action(
                "update", "worker_domain", hostname,
                changes=[Change("zone", d.zone_name or d.zone_id, zone)], worker=name,
            ))  # fmt: skip
        elif ours(d.service, desired, live):
            out.actions.append(Action(
                "adopt", "worker_domain", hostname, changes=[Change("service", d.service, name)],
                reason=REASON_DOMAIN_MOVES.format(holder=d.service), worker=name,
            ))  # fmt: skip
        else:
            out.conflicts.append(Conflict(
                "domain_conflict",
                f"worker '{name}' declares custom domain {hostname}{_at(spots[hostname])}, but "
                "it is attached to "
                f"worker '{d.service}', which reconciler does not manage and never changes "
                "(the API refuses the move with 100116): detach it there first, or declare "
                "that worker in a manifest",
            ))  # fmt: skip
    owners = {n for n, w in desired.workers.items() if w.domains is not None}
    for d in sorted(held.values(), key=lambda d: (d.service, d.hostname)):
        if d.service in owners and d.hostname not in claims:
            out.actions.append(Action(
                "delete", "worker_domain", d.hostname,
                changes=[Change("zone", d.zone_name or d.zone_id, None)], worker=d.service,
            ))  # fmt: skip


_KEYS = {
    "worker_crons": ("crons",),
    "worker_subdomain": ("workers_dev", "preview_urls"),
    "worker_route": ("routes",),
    "worker_domain": ("domains",),
}


def live_routes(live: State, pattern: str) -> list[LiveRoute]:
    return [r for routes in live.routes.values() for r in routes if r.pattern == pattern]


def trigger_problem(action: Action, desired: State, live: State) -> str | None:
    """Why apply must refuse this triggers action (None: it keeps the rules). The second
    wall behind the planner: only declared keys, only the worker's own routes and domains
    deleted, only ones reconciler owns taken from another worker."""
    worker = action.worker
    if worker is None or action.store is not None:
        return f"a {action.kind} action must name its worker and no store"
    want = desired.workers.get(worker)
    keys = _KEYS[action.kind]
    if want is None or all(getattr(want, k) is None for k in keys):
        return f"no manifest sets {' or '.join(keys)} for worker '{worker}'"
    if action.kind in ("worker_crons", "worker_subdomain"):
        return None if action.action == "update" else f"a {action.kind} action only updates"
    if action.kind == "worker_route":
        declared = any(r.pattern == action.name for r in want.routes or ())
        holders = [r.script for r in live_routes(live, action.name)]
    else:
        declared = any(d.hostname == action.name for d in want.domains or ())
        holders = [d.service for d in live.domains or () if d.hostname == action.name]
    if action.action in ("create", "update"):
        return None if declared else f"worker '{worker}' does not declare it"
    if action.action == "adopt":
        if not declared:
            return f"worker '{worker}' does not declare it"
        if not any(h != worker and ours(h, desired, live) for h in holders):
            return "it is not held by another worker reconciler owns, so it is never taken"
        return None
    if action.action == "delete":
        if declared:
            return f"worker '{worker}' declares it; a declared route or domain is never deleted"
        if worker not in holders:
            return f"it does not belong to worker '{worker}'; only a worker's own are deleted"
        return None
    return f"a {action.kind} action cannot {action.action}"
