"""Reading triggers: nothing for keys no manifest sets, and for those it sets, each zone name
looked up once, each zone's routes listed once, the domains listed once per run."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.facets.triggers import TriggerNeeds
from reconciler.cloudflare.reader import read_live
from reconciler.state import DomainSpec, LiveRoute, RouteSpec, State, Worker
from tests.cloudflare.conftest import ACCOUNT, Emulator, emulator_config, inprocess

ZONE = "a" * 32
ZONE2 = "b" * 32
JS = b"export default { async fetch() { return new Response('x'); } };\n"


def _emu() -> Emulator:
    return inprocess(
        emulator_config(
            zones=[
                {"id": ZONE, "name": "example.com", "account": ACCOUNT},
                {"id": ZONE2, "name": "example.org", "account": ACCOUNT},
            ]
        )
    )


def _w(name: str, **fields: Any) -> Worker:
    return Worker(name=name, format="module", script_digest="", **fields)


async def _setup(client: CloudflareClient) -> None:
    for name in ("api", "web", "other"):
        await client._call(
            "PUT",
            f"/accounts/{ACCOUNT}/workers/scripts/{name}",
            files=[
                ("metadata", (None, b'{"main_module": "index.js"}', "application/json")),
                ("index.js", ("index.js", JS, "application/javascript+module")),
            ],
        )
    await client.put_schedules(ACCOUNT, "api", ["0 1 * * *"])
    await client.create_route(ZONE, "api.example.com/*", "api")
    await client.create_route(ZONE2, "api.example.org/*", "api")  # a zone no manifest names
    await client.create_route(ZONE, "web.example.com/*", "web")
    await client.attach_domain(ACCOUNT, "shop.example.com", "web", ZONE, take_over=False)


def _read(emu: Emulator, desired: list[Worker] | None) -> tuple[State, list[dict[str, Any]]]:
    async def run() -> tuple[State, list[dict[str, Any]]]:
        async with emu.client() as client:
            await _setup(client)
            await emu.clear_requests()
            needs = None if desired is None else TriggerNeeds.of(desired)
            state = await read_live(client, ACCOUNT, needs=needs)
            return state, await emu.requests()

    return asyncio.run(run())


def _paths(log: list[dict[str, Any]]) -> list[str]:
    return [r["path"].removeprefix("/client/v4") for r in log]


def test_no_declared_key_no_trigger_read() -> None:
    for desired in (None, [_w("api"), _w("web")]):
        state, log = _read(_emu(), desired)
        paths = _paths(log)
        assert not [p for p in paths if "/zones" in p or "/schedules" in p or "/domains" in p]
        assert not [p for p in paths if p.endswith("/subdomain")]
        assert state.workers["api"].crons is None and state.routes == {}
        assert state.domains is None


def test_each_read_once_and_routes_found_in_zones_no_manifest_names() -> None:
    route = RouteSpec("api.example.com/*", zone="example.com")
    desired = [
        _w("api", crons=(), routes=(route,), workers_dev=True),
        _w(
            "web",
            routes=(RouteSpec("web.example.com/*", zone="example.com"),),
            domains=(DomainSpec("shop.example.com", zone="example.com"),),
        ),
        _w("new", crons=("* * * * *",), domains=()),  # not live yet: nothing of its own read
    ]
    state, log = _read(_emu(), desired)
    paths = _paths(log)
    a = f"/accounts/{ACCOUNT}/workers"
    assert sorted(
        p
        for p in paths
        if "/zones" in p or "/schedules" in p or "domains" in p or p.endswith("/subdomain")
    ) == sorted(
        [
            f"{a}/scripts/api/schedules",
            f"{a}/scripts/api/subdomain",
            f"{a}/domains",
            "/zones",  # example.com, once for both workers
            "/zones",  # api.example.org, then
            "/zones",  # example.org: the zone of api's route the scripts list reported
            f"/zones/{ZONE}/workers/routes",
            f"/zones/{ZONE2}/workers/routes",
        ]
    )
    names = sorted(r["query"].split("&")[0] for r in log if r["path"].endswith("/zones"))
    assert names == ["name=api.example.org", "name=example.com", "name=example.org"]
    assert state.workers["api"].crons == ("0 1 * * *",)
    assert state.workers["api"].workers_dev is False
    assert state.zones == {"example.com": ZONE, "api.example.org": None, "example.org": ZONE2}
    assert state.routes[ZONE2] == (
        LiveRoute(state.routes[ZONE2][0].id, ZONE2, "api.example.org/*", "api"),
    )
    assert state.workers["api"].routes == (
        RouteSpec("api.example.com/*", zone="example.com"),
        RouteSpec("api.example.org/*", zone="example.org"),
    )
    assert [(d.hostname, d.service) for d in state.domains or ()] == [("shop.example.com", "web")]
    assert state.workers["web"].domains == (DomainSpec("shop.example.com", zone="example.com"),)


def test_an_unknown_zone_name_reads_as_none_and_costs_one_lookup() -> None:
    desired = [_w("api", routes=(RouteSpec("x.example.net/*", zone="example.net"),))]
    state, log = _read(_emu(), desired)
    assert state.zones["example.net"] is None
    assert _paths(log).count("/zones") >= 1
    assert not [p for p in _paths(log) if p.startswith("/zones/") and "example.net" in p]


def test_a_long_listed_hostname_costs_a_bounded_number_of_zone_lookups() -> None:
    emu = _emu()
    deep = ".".join("abcdefghijklmnop") + ".example.com/*"

    async def run() -> tuple[State, list[dict[str, Any]]]:
        async with emu.client() as client:
            await _setup(client)
            await client.create_route(ZONE, deep, "web")
            await emu.clear_requests()
            needs = TriggerNeeds.of(
                [_w("web", routes=(RouteSpec("web.example.org/*", zone="example.org"),))]
            )
            return await read_live(client, ACCOUNT, needs=needs), await emu.requests()

    state, log = asyncio.run(run())
    names = [r["query"].split("&")[0].removeprefix("name=") for r in log]
    names = [n for n, r in zip(names, log, strict=True) if r["path"].endswith("/zones")]
    # The long host is asked by its last six labels at most, not once per label (18).
    assert max(len(n.split(".")) for n in names) == 6
    assert len([n for n in names if n.endswith("p.example.com")]) == 4
    assert deep in [r.pattern for r in state.workers["web"].routes or ()]
