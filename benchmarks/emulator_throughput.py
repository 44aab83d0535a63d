"""Requests per second of the served emulator, for a list-heavy and a write-heavy mix.

Run: .venv/bin/python benchmarks/emulator_throughput.py [--requests N] [--clients C] [--seconds S]

Each mix runs against a fresh served emulator (uvicorn on 127.0.0.1, in-memory SQLite,
rate limit raised out of the way) with C concurrent httpx clients, until N requests or
S seconds, whichever comes first. Prints one table row per mix.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer

A = f"/accounts/{DEFAULT_ACCOUNT_ID}"
CODE = b"export default { async fetch() { return new Response('hi'); } };\n"
Op = Callable[[httpx.AsyncClient, random.Random], Awaitable[httpx.Response]]


def _upload_files(name: str, salt: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    md = json.dumps({"main_module": "index.js", "tags": [f"t{salt % 3}"]}).encode()
    return [
        ("files", ("index.js", CODE + f"// {salt}\n".encode(), "application/javascript+module")),
        ("metadata", ("", md, "application/json")),
    ]


async def _seed(c: httpx.AsyncClient) -> tuple[str, list[str]]:
    """One store with 50 secrets and 20 workers, so lists have something to return."""
    r = await c.post(f"{A}/secrets_store/stores", json={"name": "bench"})
    sid: str = r.json()["result"]["id"]
    body = [{"name": f"S{i:03}", "value": "x", "scopes": ["workers"]} for i in range(50)]
    created = (await c.post(f"{A}/secrets_store/stores/{sid}/secrets", json=body)).json()
    for i in range(20):
        await c.put(f"{A}/workers/scripts/w{i}", files=_upload_files(f"w{i}", i))
    return sid, [s["id"] for s in created["result"]]


def _mixes(sid: str, secret_ids: list[str]) -> dict[str, list[tuple[float, Op]]]:
    S = f"{A}/secrets_store/stores/{sid}"
    counter = iter(range(10**9))

    async def list_scripts(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        return await c.get(f"{A}/workers/scripts")

    async def list_secrets(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        return await c.get(f"{S}/secrets", params={"per_page": 100})

    async def list_accounts(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        return await c.get("/accounts")

    async def get_settings(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        return await c.get(f"{A}/workers/scripts/w{r.randrange(20)}/settings")

    async def patch_secret(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        sid_ = r.choice(secret_ids)
        return await c.patch(f"{S}/secrets/{sid_}", json={"comment": f"c{r.random()}"})

    async def upload(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        n = next(counter)
        return await c.put(f"{A}/workers/scripts/w{n % 20}", files=_upload_files("w", n))

    async def create_delete(c: httpx.AsyncClient, r: random.Random) -> httpx.Response:
        n = next(counter)
        body = [{"name": f"TMP{n}", "value": "x", "scopes": ["workers"]}]
        made = await c.post(f"{S}/secrets", json=body)
        new_id = made.json()["result"][0]["id"]
        return await c.delete(f"{S}/secrets/{new_id}")

    return {
        "list-heavy": [
            (0.35, list_scripts), (0.35, list_secrets), (0.1, list_accounts),
            (0.15, get_settings), (0.05, patch_secret),
        ],
        "write-heavy": [
            (0.35, patch_secret), (0.25, upload), (0.2, create_delete),
            (0.1, list_scripts), (0.1, list_secrets),
        ],
    }  # fmt: skip


async def _run_mix(
    base_url: str, ops: list[tuple[float, Op]], n: int, clients: int, seconds: float
) -> tuple[int, float, list[float], int]:
    weights = [w for w, _ in ops]
    fns = [f for _, f in ops]
    done = 0
    errors = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(seed: int) -> None:
        nonlocal done, errors
        rng = random.Random(seed)
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        ) as c:
            while done < n and time.perf_counter() < deadline:
                done += 1
                op = rng.choices(fns, weights)[0]
                t0 = time.perf_counter()
                r = await op(c, rng)
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 400:
                    errors += 1

    start = time.perf_counter()
    await asyncio.gather(*[worker(i) for i in range(clients)])
    return done, time.perf_counter() - start, latencies, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    cfg = EmulatorConfig.model_validate(
        {"faults": {"rate_limit": {"requests": 10**9, "window_s": 1}}}
    )
    print(f"{'mix':<12} {'requests':>8} {'seconds':>8} {'req/s':>8} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'errors':>6}")  # fmt: skip
    for name in ("list-heavy", "write-heavy"):
        with EmulatorServer(config=cfg) as srv:

            async def go(
                name: str = name, base: str = srv.base_url
            ) -> tuple[int, float, list[float], int]:
                async with httpx.AsyncClient(
                    base_url=base, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
                ) as c:
                    sid, ids = await _seed(c)
                ops = _mixes(sid, ids)[name]
                return await _run_mix(base, ops, args.requests, args.clients, args.seconds)

            done, elapsed, lat, errors = asyncio.run(go())
        lat.sort()
        p50 = statistics.median(lat) * 1000
        p95 = lat[int(len(lat) * 0.95) - 1] * 1000
        print(f"{name:<12} {done:>8} {elapsed:>8.2f} {done / elapsed:>8.0f} {p50:>7.1f} "
              f"{p95:>7.1f} {errors:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
