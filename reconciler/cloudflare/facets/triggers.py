"""The triggers facet on the live side: a worker's crons, routes, custom domains and
workers.dev subdomain, read only where a manifest declares the key (none of it is in the
scripts listing or the settings, and none of it rides in the upload).

Nothing here runs for a manifest set that declares none of `crons`, `routes`, `domains`,
`workers_dev`, `preview_urls`: a key left out is not managed and costs no read. Otherwise
(read in `trigger_reads.py`; docs/cheap-reads.md justifies each):

- `crons`: one `GET …/scripts/{name}/schedules` per live worker that declares it;
- `workers_dev`/`preview_urls`: one `GET …/scripts/{name}/subdomain` per live worker that
  declares either;
- zones by name: one `GET /zones?name=` per zone name the manifests use, and per hostname
  suffix of a live route of a routes-declaring worker that lies in no zone known yet;
- `routes`: one `GET /zones/{id}/workers/routes` per zone that holds a declared route or a
  live route of a worker that declares `routes` (the scripts list says which: its `routes`);
- `domains`: one `GET …/workers/domains` for the account (every domain, with its zone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from reconciler.cloudflare.facets.base import CloudflareFacet
from reconciler.state import (
    DomainSpec,
    LiveRoute,
    RouteSpec,
    State,
    Worker,
)


class TriggersFacet(CloudflareFacet):
    """Nothing from the listing or settings, nothing in the upload: `read_triggers` reads
    what the manifests need after the workers are read."""

    name = "triggers"


FACET: CloudflareFacet = TriggersFacet()


@dataclass(frozen=True)
class TriggerNeeds:
    """What the manifests declare that needs reading; empty means no reads at all."""

    crons: frozenset[str] = frozenset()
    subdomain: frozenset[str] = frozenset()
    routes: frozenset[str] = frozenset()  # workers whose `routes` key is set
    route_zone_names: frozenset[str] = frozenset()
    route_zone_ids: frozenset[str] = frozenset()
    domain_zone_names: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()  # workers whose `domains` key is set
    # Export: every zone of the account, so every route is seen.
    all_zones: bool = False

    @classmethod
    def of(cls, workers: Iterable[Worker]) -> TriggerNeeds:
        crons, subdomain, routes = set(), set(), set()
        route_names: set[str] = set()
        ids: set[str] = set()
        domain_names: set[str] = set()
        domains: set[str] = set()
        for w in workers:
            if w.crons is not None:
                crons.add(w.name)
            if w.workers_dev is not None or w.preview_urls is not None:
                subdomain.add(w.name)
            if w.routes is not None:
                routes.add(w.name)
            if w.domains is not None:
                domains.add(w.name)
            route_names.update(r.zone for r in w.routes or () if r.zone is not None)
            ids.update(r.zone_id for r in w.routes or () if r.zone_id is not None)
            domain_names.update(d.zone for d in w.domains or () if d.zone is not None)
        return cls(
            frozenset(crons), frozenset(subdomain), frozenset(routes), frozenset(route_names),
            frozenset(ids), frozenset(domain_names), frozenset(domains),
        )  # fmt: skip

    @classmethod
    def everything(cls) -> TriggerNeeds:
        """Every key of every worker, routes in every zone: what export writes."""
        return cls(all_zones=True)

    def for_workers(self, names: Iterable[str]) -> TriggerNeeds:
        """`everything()` made concrete once the workers are listed."""
        if not self.all_zones:
            return self
        every = frozenset(names)
        return TriggerNeeds(crons=every, subdomain=every, routes=every, domains=every,
                            all_zones=True)  # fmt: skip

    @property
    def any(self) -> bool:
        return bool(self.crons or self.subdomain or self.routes or self.domains or self.all_zones)


def own_routes_and_domains(state: State, needs: TriggerNeeds) -> None:
    """Each worker's own routes and domains as specs (what export writes), by zone name
    where this run knows it."""
    names = {zid: n for n, zid in state.zones.items() if zid is not None}

    def route(r: LiveRoute) -> RouteSpec:
        if r.zone_id in names:
            return RouteSpec(r.pattern, zone=names[r.zone_id])
        return RouteSpec(r.pattern, zone_id=r.zone_id)

    live = state.workers
    for name in sorted(needs.routes & set(live)):
        routes = sorted(
            (r for rs in state.routes.values() for r in rs if r.script == name),
            key=lambda r: (r.pattern, r.zone_id),
        )
        live[name] = with_fields(live[name], routes=tuple(route(r) for r in routes))
    for name in sorted(needs.domains & set(live)):
        domains = sorted((d for d in state.domains or () if d.service == name),
                         key=lambda d: d.hostname)  # fmt: skip
        live[name] = with_fields(
            live[name],
            domains=tuple(
                DomainSpec(
                    d.hostname, zone=d.zone_name or None, zone_id=None if d.zone_name else d.zone_id
                )
                for d in domains
            ),
        )


def with_fields(worker: Worker, **changes: Any) -> Worker:
    return replace(worker, **changes)
