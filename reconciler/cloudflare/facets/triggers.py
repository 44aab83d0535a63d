"""The triggers facet on the live side: a worker's crons, routes, custom domains and
workers.dev subdomain, read only where a manifest declares the key (none of it is in the
scripts listing or the settings, and none of it rides in the upload).

Nothing here runs for a manifest set that declares none of `crons`, `routes`, `domains`,
`workers_dev`, `preview_urls`: a key left out is not managed and costs no read. Otherwise
(docs/cheap-reads.md justifies each):

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

import asyncio
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reconciler.cloudflare.facets.base import CloudflareFacet
from reconciler.cloudflare.models import ScriptRecord
from reconciler.errors import ApiError
from reconciler.state import (
    DomainSpec,
    LiveDomain,
    LiveRoute,
    RouteSpec,
    State,
    Worker,
    in_zone,
    normal_cron,
    pattern_host,
)

if TYPE_CHECKING:  # the client's upload imports the facets
    from reconciler.cloudflare.client import CloudflareClient


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


@dataclass
class _Zones:
    """Zone lookups of this run: each name asked once."""

    client: CloudflareClient
    account: str
    found: dict[str, str | None] = field(default_factory=dict)
    _pending: dict[str, asyncio.Task[str | None]] = field(default_factory=dict)

    async def lookup(self, name: str) -> str | None:
        if name in self.found:
            return self.found[name]
        if name not in self._pending:
            self._pending[name] = asyncio.ensure_future(self._find(name))
        return await self._pending[name]

    async def _find(self, name: str) -> str | None:
        zone = await self.client.find_zone(self.account, name)
        self.found[name] = zone.id if zone is not None else None
        return self.found[name]

    async def all(self) -> None:
        for z in await self.client.list_zones(self.account):
            self.found[z.name] = z.id

    async def of_host(self, host: str) -> str | None:
        """The zone a hostname lies in: known zones first, then each suffix asked once."""
        known = [n for n, zid in self.found.items() if zid is not None and in_zone(host, n)]
        if known:
            return self.found[max(known, key=len)]
        labels = host.split(".")
        for i in range(len(labels) - 1):
            zid = await self.lookup(".".join(labels[i:]))
            if zid is not None:
                return zid
        return None


async def read_triggers(
    client: CloudflareClient,
    account: str,
    state: State,
    records: dict[str, ScriptRecord],
    needs: TriggerNeeds,
) -> None:
    """Fill `state` (its workers' crons and subdomain, zones, routes, domains) for `needs`."""
    if not needs.any:
        return
    needs = needs.for_workers(state.workers)
    zones = _Zones(client, account)
    live = state.workers

    async def crons(name: str) -> None:
        found = await client.get_schedules(account, name)
        live[name] = _with(live[name], crons=tuple(normal_cron(c) for c in found))

    async def subdomain(name: str) -> None:
        sub = await client.get_subdomain(account, name)
        live[name] = _with(live[name], workers_dev=sub.enabled, preview_urls=sub.previews_enabled)

    async def domains() -> None:
        found = await client.list_domains(account)
        state.domains = tuple(
            LiveDomain(d.id, d.hostname, d.zone_id or "", d.zone_name or "", d.service)
            for d in found
        )

    jobs: list[Coroutine[Any, Any, object]] = [crons(n) for n in sorted(needs.crons) if n in live]
    jobs += [subdomain(n) for n in sorted(needs.subdomain) if n in live]
    jobs += [zones.lookup(n) for n in sorted(needs.route_zone_names | needs.domain_zone_names)]
    if needs.domains:
        jobs.append(domains())
    if needs.all_zones:
        jobs.append(zones.all())
    await asyncio.gather(*jobs)
    route_zones = set(needs.route_zone_ids) | {
        zid
        for n, zid in zones.found.items()
        if zid is not None and (needs.all_zones or n in needs.route_zone_names)
    }
    # Routes the scripts list reports for routes-declaring workers, in zones no manifest
    # names: their zones are found by hostname, so `routes:` owns them too.
    hosts = {
        host
        for name in sorted(needs.routes)
        if name in records
        for r in records[name].routes or ()
        if (host := pattern_host(r.pattern)) is not None
    }
    for zid in await asyncio.gather(*(zones.of_host(h) for h in sorted(hosts))):
        if zid is not None:
            route_zones.add(zid)
    if needs.routes:
        await asyncio.gather(*(_zone_routes(client, state, z) for z in sorted(route_zones)))
    state.zones = dict(zones.found)
    _own_routes_and_domains(state, needs)


def _own_routes_and_domains(state: State, needs: TriggerNeeds) -> None:
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
        live[name] = _with(live[name], routes=tuple(route(r) for r in routes))
    for name in sorted(needs.domains & set(live)):
        domains = sorted((d for d in state.domains or () if d.service == name),
                         key=lambda d: d.hostname)  # fmt: skip
        live[name] = _with(
            live[name],
            domains=tuple(
                DomainSpec(
                    d.hostname, zone=d.zone_name or None, zone_id=None if d.zone_name else d.zone_id
                )
                for d in domains
            ),
        )


async def _zone_routes(client: CloudflareClient, state: State, zone_id: str) -> None:
    try:
        found = await client.list_zone_routes(zone_id)
    except ApiError as exc:
        # A zone_id that is no zone of this account (a typo, another account's): the plan
        # reports it; any other failure is an error of the run.
        if exc.status in (403, 404) or exc.has_code(7003):
            return
        raise
    state.routes[zone_id] = tuple(LiveRoute(r.id, zone_id, r.pattern, r.script) for r in found)


def _with(worker: Worker, **changes: Any) -> Worker:
    return replace(worker, **changes)
