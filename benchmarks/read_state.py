"""Read an account with many workers through the served emulator: API calls and wall time.

Usage: python benchmarks/read_state.py [--workers 500] [--secrets 100] [--latency-ms 50]
                                       [--concurrency 8]

Seeds the emulator (no latency), then turns on the latency and reads the account
twice with the live-state reader: cold (empty cache) and warm (cache from the
cold run, nothing changed). Targets: cold <= 2 x workers + 5 calls, warm <= 5
calls, warm wall time under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.cloudflare.upload import build_upload
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer
from reconciler.state import Binding, Module, Worker

ACCOUNT = DEFAULT_ACCOUNT_ID


def _worker(i: int, secrets: int) -> Worker:
    code = f"export default {{ fetch() {{ return new Response('worker {i}') }} }}\n".encode()
    bindings = (
        (Binding("KEY", "secrets_store_secret", {"store": "main", "secret": f"S{i % secrets:03}"}),)
        if secrets
        else ()
    )
    return Worker(
        name=f"w{i:04}",
        format="module",
        script_digest="",
        modules=(Module("index.js", code),),
        compatibility_date="2025-01-01",
        bindings=bindings,
    )


async def _seed(config: ClientConfig, workers: int, secrets: int) -> None:
    async with CloudflareClient(config) as client:
        store = await client.create_store(ACCOUNT, "main")
        await asyncio.gather(
            *(
                client.create_secret(
                    ACCOUNT, store.id, name=f"S{n:03}", value="x", scopes=["workers"], comment=None
                )
                for n in range(secrets)
            )
        )
        ids = {"main": store.id}
        await asyncio.gather(
            *(
                client.upload_script(
                    ACCOUNT, f"w{i:04}", build_upload(_worker(i, secrets), ids, [])
                )
                for i in range(workers)
            )
        )


async def _read(config: ClientConfig) -> tuple[int, float, int]:
    async with CloudflareClient(config) as client:
        start = time.perf_counter()
        state = await read_live(client, ACCOUNT)
        return client.request_count, time.perf_counter() - start, len(state.workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--secrets", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    emu_config = EmulatorConfig.model_validate(
        {
            "accounts": [{"id": ACCOUNT, "max_secrets": max(100, args.secrets)}],
            # Seeding plus two reads exceed one token's 1200 per 5 minutes; the reads alone
            # stay inside it (the client's own limiter keeps the default budget).
            "faults": {"rate_limit": {"requests": 1_000_000, "window_s": 300}},
        }
    )
    with EmulatorServer(config=emu_config) as server, tempfile.TemporaryDirectory() as tmp:
        base = ClientConfig(
            token=DEFAULT_TOKEN,
            base_url=server.base_url,
            concurrency=args.concurrency,
            cache_dir=Path(tmp) / "cache",
        )
        seed_config = ClientConfig(
            token=DEFAULT_TOKEN, base_url=server.base_url, concurrency=16, rate_limit=1_000_000
        )
        asyncio.run(_seed(seed_config, args.workers, args.secrets))
        httpx.put(
            server.root_url + "/__emulator/faults",
            json={
                "latency_ms": args.latency_ms,
                "rate_limit": {"requests": 1_000_000, "window_s": 300},
            },
        ).raise_for_status()

        print(
            f"account with {args.workers} workers, {args.secrets} secrets; "
            f"served emulator, {args.latency_ms} ms latency, concurrency {args.concurrency}"
        )
        cold_target = 2 * args.workers + 5
        for label, target in (("cold", cold_target), ("warm", 5)):
            calls, wall, seen = asyncio.run(_read(base))
            assert seen == args.workers, f"read {seen} workers, expected {args.workers}"
            verdict = "ok" if calls <= target else "OVER"
            print(
                f"{label}: {calls} API calls (target <= {target}, {verdict}), "
                f"wall time {wall:.2f} s"
            )


if __name__ == "__main__":
    main()
