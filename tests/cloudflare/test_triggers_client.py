"""The client's trigger and reachability calls against the emulator: one request each, the
shapes the API answers, "already gone" treated as done, server ids checked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.paths import UnsafeIdError
from reconciler.errors import ApiError
from tests.cloudflare.conftest import ACCOUNT, Emulator, emulator_config, inprocess

ZONE = "a" * 32
UPLOAD_JS = b"export default { async fetch() { return new Response('x'); } };\n"


def _emu() -> Emulator:
    return inprocess(
        emulator_config(zones=[{"id": ZONE, "name": "example.com", "account": ACCOUNT}])
    )


async def _worker(client: CloudflareClient, name: str) -> None:
    await client._call(
        "PUT",
        f"/accounts/{ACCOUNT}/workers/scripts/{name}",
        files=[
            ("metadata", (None, b'{"main_module": "index.js"}', "application/json")),
            ("index.js", ("index.js", UPLOAD_JS, "application/javascript+module")),
        ],
    )


def _run(emu: Emulator, body: Any) -> Any:
    async def run() -> Any:
        async with emu.client() as client:
            await _worker(client, "api")
            await _worker(client, "other")
            await emu.clear_requests()
            return await body(client)

    return asyncio.run(run())


def test_zone_lookup_is_one_call_and_exact() -> None:
    emu = _emu()

    async def body(client: CloudflareClient) -> Any:
        found = await client.find_zone(ACCOUNT, "example.com")
        missing = await client.find_zone(ACCOUNT, "example.org")
        return found, missing, await emu.requests()

    found, missing, log = _run(emu, body)
    assert found is not None and found.id == ZONE and missing is None
    assert [r["query"] for r in log] == [
        f"name=example.com&account.id={ACCOUNT}&page=1&per_page=50",
        f"name=example.org&account.id={ACCOUNT}&page=1&per_page=50",
    ]


def test_schedules_subdomain_round_trip() -> None:
    emu = _emu()

    async def body(client: CloudflareClient) -> Any:
        await client.put_schedules(ACCOUNT, "api", ["*/5 * * * *", "0 1 * * *"])
        crons = await client.get_schedules(ACCOUNT, "api")
        await client.set_subdomain(ACCOUNT, "api", enabled=True, previews_enabled=False)
        sub = await client.get_subdomain(ACCOUNT, "api")
        return crons, sub, await emu.requests()

    crons, sub, log = _run(emu, body)
    assert crons == ["*/5 * * * *", "0 1 * * *"]
    assert (sub.enabled, sub.previews_enabled) == (True, False)
    assert len(log) == 4


def test_routes_create_move_delete_and_gone_is_done() -> None:
    emu = _emu()

    async def body(client: CloudflareClient) -> Any:
        made = await client.create_route(ZONE, "api.example.com/*", "api")
        await client.update_route(ZONE, made.id, "api.example.com/*", "other")
        moved = await client.list_zone_routes(ZONE)
        await client.delete_route(ZONE, made.id)
        await client.delete_route(ZONE, made.id)  # already gone: done, not an error
        with pytest.raises(ApiError) as dup:
            await client.create_route(ZONE, "x.example.com/*", "api")
            await client.create_route(ZONE, "x.example.com/*", "other")
        return moved, dup.value, await client.list_zone_routes(ZONE)

    moved, dup, left = _run(emu, body)
    assert [(r.pattern, r.script) for r in moved] == [("api.example.com/*", "other")]
    assert dup.has_code(10020) and dup.status == 409
    assert [r.pattern for r in left] == ["x.example.com/*"]


def test_domains_attach_take_over_and_detach() -> None:
    emu = _emu()

    async def body(client: CloudflareClient) -> Any:
        d = await client.attach_domain(ACCOUNT, "api.example.com", "api", ZONE, take_over=False)
        with pytest.raises(ApiError) as held:
            await client.attach_domain(ACCOUNT, "api.example.com", "other", ZONE, take_over=False)
        moved = await client.attach_domain(
            ACCOUNT, "api.example.com", "other", ZONE, take_over=True
        )
        listed = await client.list_domains(ACCOUNT)
        await client.detach_domain(ACCOUNT, d.id)
        await client.detach_domain(ACCOUNT, d.id)  # already gone
        return d, held.value, moved, listed, await client.list_domains(ACCOUNT)

    d, held, moved, listed, left = _run(emu, body)
    assert (d.hostname, d.service, d.zone_id, d.zone_name) == (
        "api.example.com",
        "api",
        ZONE,
        "example.com",
    )
    assert held.has_code(100116) and held.status == 409
    assert moved.id == d.id and moved.service == "other"
    assert [(x.hostname, x.service) for x in listed] == [("api.example.com", "other")]
    assert left == []


def test_ids_that_would_steer_a_url_are_refused_before_sending() -> None:
    emu = _emu()

    async def body(client: CloudflareClient) -> Any:
        refused = []
        for call in (
            client.delete_route(ZONE, ".."),
            client.update_route("..", "r" * 32, "x.example.com/*", "api"),
            client.detach_domain(ACCOUNT, "../.."),
            client.list_zone_routes("../accounts"),
        ):
            with pytest.raises(UnsafeIdError) as err:
                await call
            refused.append(str(err.value))
        return refused, await emu.requests()

    refused, log = _run(emu, body)
    assert len(refused) == 4 and all("nothing was sent" in r for r in refused)
    assert log == []
