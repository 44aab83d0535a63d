"""Apply at scale: create 100 workers and 100 secrets from an empty account, then rotate
50 secret values, through a served emulator; and prove apply keeps to the rate budget.

Part 1 runs `reconciler apply --auto-approve` as a user does (a fresh process), with the
emulator enforcing Cloudflare's own limit (1200 requests / 5 min per token), at 0 and
50 ms latency: API calls, wall time, 429 answers.

Part 2 runs the same apply in process with a deliberately small budget (default 60
requests per 5 s window) while the emulator enforces that same budget: the busiest
window of the run (client-side timestamps of every request sent) must stay within it,
and the emulator must never have to answer 429.

    .venv/bin/python benchmarks/apply_scaling.py [--quick] [--budget N] [--window S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    FINGERPRINT_KEY,
    ServedEmulator,
    api_calls,
    cli_env,
    emulator_config,
    run_cli,
    served_emulator,
    table,
    write_manifests,
)
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.manifest.merge import load_manifests
from reconciler.plan.model import PlanOptions
from reconciler.workflow import Connection, Session

CLOUDFLARE_BUDGET = 1200
CLOUDFLARE_WINDOW_S = 300.0


class RecordingTransport(httpx.AsyncBaseTransport):
    """Notes the moment every request leaves the client."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(time.monotonic())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def busiest_window(times: list[float], window_s: float) -> int:
    """The most requests sent in any `window_s` seconds (a sliding window)."""
    best, inside = 0, deque[float]()
    for t in sorted(times):
        inside.append(t)
        while inside[0] <= t - window_s:
            inside.popleft()
        best = max(best, len(inside))
    return best


def too_many(emu: ServedEmulator) -> int:
    return sum(1 for r in emu.requests() if r.get("status") == 429)


def cli_apply(emu: ServedEmulator, manifests: Path, cwd: Path) -> tuple[int, float, int]:
    emu.clear_requests()
    run = run_cli(["apply", str(manifests), "--auto-approve"], cwd=cwd, env=cli_env(emu))
    if run.returncode != 0:
        raise SystemExit(f"apply failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return api_calls(emu.requests()), run.seconds, too_many(emu)


def part_cli(base: Path, workers: int, secrets: int, rotate: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for latency in (0, 50):
        work = base / f"cli-{latency}"
        manifests = work / "manifests"
        write_manifests(manifests, workers=workers, secrets=secrets)
        config = emulator_config(
            latency_ms=latency, rate_limit=CLOUDFLARE_BUDGET, rate_window_s=CLOUDFLARE_WINDOW_S
        )
        with served_emulator(work / "emulator", config) as emu:
            calls, seconds, n429 = cli_apply(emu, manifests, work)
            what = f"create {workers} workers + {secrets} secrets"
            rows.append([what, latency, calls, f"{seconds:.2f}", n429])
            print(f"{what}, {latency} ms: {calls} calls, {seconds:.2f} s, {n429} x 429", flush=True)
            write_manifests(manifests, workers=workers, secrets=secrets, rotate=rotate)
            calls, seconds, n429 = cli_apply(emu, manifests, work)
            what = f"rotate {rotate} secret values"
            rows.append([what, latency, calls, f"{seconds:.2f}", n429])
            print(f"{what}, {latency} ms: {calls} calls, {seconds:.2f} s, {n429} x 429", flush=True)
    return rows


async def budgeted_apply(
    emu: ServedEmulator, manifests: Path, budget: int, window_s: float
) -> tuple[int, float]:
    recorder = RecordingTransport()
    config = ClientConfig(
        token=DEFAULT_TOKEN,
        base_url=emu.base_url,
        rate_limit=budget,
        rate_window_s=window_s,
        transport=recorder,
    )
    loaded = load_manifests([str(manifests)])
    start = time.perf_counter()
    async with CloudflareClient(config) as client:
        session = Session(client, DEFAULT_ACCOUNT_ID, Connection())
        plan, live = await session.plan(loaded, PlanOptions())
        report = await session.apply(plan, loaded, live, secret_update="replace")
        if not report.ok:
            raise SystemExit("the budgeted apply did not complete")
    return busiest_window(recorder.sent, window_s), time.perf_counter() - start


def part_budget(
    base: Path, workers: int, secrets: int, budget: int, window_s: float
) -> list[object]:
    work = base / "budget"
    manifests = write_manifests(work / "manifests", workers=workers, secrets=secrets)
    os.environ["RECONCILER_FINGERPRINT_KEY"] = FINGERPRINT_KEY
    config = emulator_config(rate_limit=budget, rate_window_s=window_s)
    with served_emulator(work / "emulator", config) as emu:
        busiest, seconds = asyncio.run(budgeted_apply(emu, manifests, budget, window_s))
        calls, n429 = api_calls(emu.requests()), too_many(emu)
    print(
        f"budget {budget} per {window_s:g} s: {calls} calls in {seconds:.1f} s, busiest window "
        f"{busiest}, {n429} x 429",
        flush=True,
    )
    return [f"{budget} / {window_s:g} s", calls, f"{seconds:.1f}", busiest, n429]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 workers, 20 secrets, rotate 10")
    parser.add_argument("--budget", type=int, default=60, help="requests per window (part 2)")
    parser.add_argument("--window", type=float, default=5.0, help="window in seconds (part 2)")
    args = parser.parse_args()
    workers, secrets, rotate = (20, 20, 10) if args.quick else (100, 100, 50)

    with tempfile.TemporaryDirectory(prefix="apply-scaling-") as tmp:
        base = Path(tmp)
        rows = part_cli(base, workers, secrets, rotate)
        budget_row = part_budget(base, workers, secrets, args.budget, args.window)
    print()
    print(table(["run", "latency (ms)", "API calls", "wall time (s)", "429 answers"], rows))
    print()
    print(
        table(
            ["client budget", "API calls", "wall time (s)", "busiest window", "429 answers"],
            [budget_row],
        )
    )


if __name__ == "__main__":
    main()
