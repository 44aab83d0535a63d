"""Pagination past 100 secrets and across pages of accounts."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import httpx

from reconciler.emulator.app import create_app

from .conftest import ACCOUNT, TOKEN, Emulator, emulator_config, inprocess


def test_secrets_past_100_are_all_read() -> None:
    emu = inprocess(emulator_config(accounts=[{"id": ACCOUNT, "max_secrets": 500}]))

    async def run() -> tuple[str, list[str]]:
        async with emu.client() as client:
            store = await client.create_store(ACCOUNT, "main")
            for i in range(0, 230, 50):
                await asyncio.gather(
                    *(
                        client.create_secret(
                            ACCOUNT,
                            store.id,
                            name=f"S{n:03}",
                            value="v",
                            scopes=["workers"],
                            comment=None,
                        )
                        for n in range(i, min(i + 50, 230))
                    )
                )
            await emu.clear_requests()
            return store.id, [s.name for s in await client.list_secrets(ACCOUNT, store.id)]

    store_id, names = asyncio.run(run())
    assert sorted(names) == [f"S{n:03}" for n in range(230)]
    log = asyncio.run(emu.requests())
    queries = [parse_qs(r["query"]) for r in log]
    # Page 1 first; it says how many there are, so 2 and 3 go at once (either may answer first).
    assert queries[0]["page"] == ["1"]
    assert sorted(q["page"][0] for q in queries[1:]) == ["2", "3"]
    assert all(q["per_page"] == ["100"] for q in queries)
    assert all(r["path"].endswith(f"/stores/{store_id}/secrets") for r in log)


def test_accounts_across_pages() -> None:
    ids = [f"{n:032x}" for n in range(1, 61)]
    emu = inprocess(
        emulator_config(
            accounts=[{"id": i, "name": f"acct {n}"} for n, i in enumerate(ids)],
            tokens=[{"token": TOKEN, "accounts": ids}],
        )
    )

    async def run() -> list[str]:
        async with emu.client() as client:
            return [a.id for a in await client.list_accounts()]

    assert sorted(asyncio.run(run())) == ids
    # The accounts list has no total_pages: pages are read until one comes back empty
    # or total_count is reached.
    assert len(asyncio.run(emu.requests())) in (2, 3)


class InFlight(httpx.AsyncBaseTransport):
    """Counts the most requests this transport had in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


def test_secret_pages_after_the_first_are_read_at_once() -> None:
    app = create_app(emulator_config(accounts=[{"id": ACCOUNT, "max_secrets": 500}]))
    counter = InFlight(httpx.ASGITransport(app=app))
    emu = Emulator("http://127.0.0.1/client/v4", "http://127.0.0.1", counter)

    async def run() -> list[str]:
        async with emu.client() as client:
            store = await client.create_store(ACCOUNT, "main")
            for i in range(0, 450, 50):
                await asyncio.gather(
                    *(
                        client.create_secret(
                            ACCOUNT, store.id, name=f"S{n:03}", value="v",
                            scopes=["workers"], comment=None,
                        )
                        for n in range(i, i + 50)
                    )
                )  # fmt: skip
            await emu.faults(latency_ms=50)
            await emu.clear_requests()
            counter.most = 0
            return [s.name for s in await client.list_secrets(ACCOUNT, store.id)]

    names = asyncio.run(run())
    assert sorted(names) == [f"S{n:03}" for n in range(450)]
    pages = sorted(int(parse_qs(r["query"])["page"][0]) for r in asyncio.run(emu.requests()))
    assert pages == [1, 2, 3, 4, 5], "total_count / per_page pages, no more"
    assert counter.most >= 2, "pages 2 to 5 were read concurrently"
