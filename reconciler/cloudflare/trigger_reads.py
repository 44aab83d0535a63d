"""Reading the triggers facet: the calls `TriggerNeeds` asks for, after the workers are read.

Apart from the facet module because the client's upload imports the facets and this one
imports the client. docs/cheap-reads.md justifies each read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.facets.triggers import (
    TriggerNeeds,
    own_routes_and_domains,
    with_fields,
)
from reconciler.cloudflare.models import ScriptRecord
from reconciler.errors import ApiError
from reconciler.state import LiveDomain, LiveRoute, State, in_zone, normal_cron, pattern_host

MAX_ZONE_LABELS = 6


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
        # A zone is at most a few labels long; a hostile list item's long hostname must not
        # turn into one lookup per label.
        labels = host.split(".")[-MAX_ZONE_LABELS:]
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
        live[name] = with_fields(live[name], crons=tuple(normal_cron(c) for c in found))

    async def subdomain(name: str) -> None:
        sub = await client.get_subdomain(account, name)
        live[name] = with_fields(
            live[name], workers_dev=sub.enabled, preview_urls=sub.previews_enabled
        )

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
    own_routes_and_domains(state, needs)


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
