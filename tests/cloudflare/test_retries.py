"""Retries against injected emulator faults: backoff, Retry-After, and no duplicate creates."""

from __future__ import annotations

import asyncio
import time

import httpx

from reconciler.cloudflare.client import CloudflareClient

from .conftest import ACCOUNT, FAST, Emulator, inprocess, paths, served


def test_5xx_is_retried_with_growing_backoff(emu: Emulator) -> None:
    asyncio.run(emu.faults(error_rate=0.3, seed=7))

    async def run() -> CloudflareClient:
        async with emu.client(max_retries=10) as client:
            for _ in range(5):
                await client.list_scripts(ACCOUNT)
            return client

    client = asyncio.run(run())
    log = asyncio.run(emu.requests())
    statuses = [r["status"] for r in log if r["path"].endswith("/workers/scripts")]
    assert statuses.count(200) == 5
    assert any(s >= 500 for s in statuses)
    assert len(client.retries) == len(statuses) - 5
    assert client.request_count == len(statuses)
    # Each retry waits base * 2**n, capped, times a jitter factor in [0.5, 1].
    assert max(r.attempt for r in client.retries) >= 2
    for r in client.retries:
        full = min(FAST.cap_s, FAST.base_s * 2 ** (r.attempt - 1))
        assert 0.5 * full <= r.delay_s <= full
    assert all(r.reason.startswith("HTTP 5") for r in client.retries)


def test_creates_under_faults_never_duplicate(emu: Emulator) -> None:
    asyncio.run(emu.faults(error_rate=0.5, seed=11))

    async def run() -> list[str]:
        async with emu.client(max_retries=10) as client:
            store = await client.create_store(ACCOUNT, "main")
            for i in range(8):
                await client.create_secret(
                    ACCOUNT, store.id, name=f"S{i}", value="v", scopes=["workers"], comment=None
                )
            await emu.faults(error_rate=0.0)
            return [s.name for s in await client.list_secrets(ACCOUNT, store.id)]

    names = asyncio.run(run())
    assert sorted(names) == [f"S{i}" for i in range(8)]
    log = asyncio.run(emu.requests())
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/secrets")]
    assert any(r["status"] >= 500 for r in posts), "the seed should inject a failed create"
    # After a failed create the client looked (GET ?search=) before posting again.
    for i, r in enumerate(log):
        if r["method"] == "POST" and r["status"] >= 500 and r["path"].endswith("/secrets"):
            assert log[i + 1]["method"] == "GET" and "search=" in log[i + 1]["query"]


def test_429_honours_retry_after() -> None:
    emu = inprocess()
    asyncio.run(emu.faults(rate_limit={"requests": 2, "window_s": 1}))

    async def run() -> tuple[float, CloudflareClient]:
        # Another run on the same token spends the budget; this client has not seen the headers.
        async with emu.client() as other:
            await other.list_scripts(ACCOUNT)
            await other.list_scripts(ACCOUNT)
        async with emu.client(max_retries=3) as client:
            start = time.monotonic()
            for _ in range(3):
                await client.list_scripts(ACCOUNT)
            return time.monotonic() - start, client

    elapsed, client = asyncio.run(run())
    statuses = [r["status"] for r in asyncio.run(emu.requests())]
    assert 429 in statuses and statuses.count(200) == 5
    assert client.retries[0].reason == "HTTP 429"
    assert client.retries[0].delay_s >= 1.0  # Retry-After: 1, not the 0.01 s base backoff
    assert elapsed >= 0.9


class _TimeoutAfterSend(httpx.AsyncBaseTransport):
    """Forwards a request, then loses the answer: what a read timeout after sending looks like.

    The emulator cannot produce this on its own; everything else is the real emulator.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str, times: int = 1) -> None:
        self.inner, self.method, self.left = inner, method, times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == self.method and self.left > 0:
            self.left -= 1
            await response.aread()
            raise httpx.ReadTimeout("timed out after sending", request=request)
        return response


def test_ambiguous_create_is_checked_by_listing_not_repeated(emu: Emulator) -> None:
    inner = emu.transport
    assert inner is not None

    async def run() -> tuple[str, list[str]]:
        async with emu.client() as plain:
            store = await plain.create_store(ACCOUNT, "main")
        flaky = _TimeoutAfterSend(inner, "POST")
        async with emu.client(transport=flaky) as client:
            secret = await client.create_secret(
                ACCOUNT, store.id, name="K", value="v", scopes=["workers"], comment=None
            )
            assert client.retries == []
            listed = await client.list_secrets(ACCOUNT, store.id)
        return secret.id, [s.id for s in listed]

    secret_id, listed = asyncio.run(run())
    assert listed == [secret_id]
    log = asyncio.run(emu.requests())
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/secrets")]
    assert len(posts) == 1


def test_ambiguous_store_create_that_did_not_land_is_retried(emu: Emulator) -> None:
    inner = emu.transport
    assert inner is not None

    class _LostBeforeServer(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner, self.left = inner, 1

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and self.left:
                self.left -= 1
                raise httpx.RemoteProtocolError("connection reset", request=request)
            return await self.inner.handle_async_request(request)

    async def run() -> list[str]:
        async with emu.client(transport=_LostBeforeServer(inner)) as client:
            await client.create_store(ACCOUNT, "main")
            assert len(client.retries) == 1
            return [s.name for s in await client.list_stores(ACCOUNT)]

    assert asyncio.run(run()) == ["main"]
    assert paths(asyncio.run(emu.requests()), "POST") == [
        f"/client/v4/accounts/{ACCOUNT}/secrets_store/stores"
    ]


def test_faults_over_real_http() -> None:
    with served() as emu:
        asyncio.run(emu.faults(error_rate=0.4, seed=5))

        async def run() -> tuple[list[str], int]:
            async with emu.client(max_retries=10) as client:
                store = await client.create_store(ACCOUNT, "main")
                await asyncio.gather(
                    *(
                        client.create_secret(
                            ACCOUNT,
                            store.id,
                            name=f"S{i}",
                            value="v",
                            scopes=["workers"],
                            comment=None,
                        )
                        for i in range(6)
                    )
                )
                names = [s.name for s in await client.list_secrets(ACCOUNT, store.id)]
                return names, len(client.retries)

        names, retries = asyncio.run(run())
        assert sorted(names) == [f"S{i}" for i in range(6)]
        assert retries > 0
        log = asyncio.run(emu.requests())
        assert any(r["status"] >= 500 for r in log)
        created = [r for r in log if r["method"] == "POST" and r["status"] == 200]
        assert len(created) == 7  # one store, six secrets: nothing created twice
