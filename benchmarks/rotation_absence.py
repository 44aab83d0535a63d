"""Rotation under the real rate limit: how long each rotated secret is absent.

An account of 500 workers and 200 secrets (set up with the emulator's limit lifted), then the
emulator enforces Cloudflare's limit (1200 requests / 300 s per token) at 100 ms latency and
100 values are rotated (`apply`, delete then recreate each). Two token states:

* fresh: the rotation has the token's whole window;
* used: another client spent 600 of the window's requests just before (a CI job that ran
  first), which leaves room for the read but not for the whole rotation: it must wait for
  the reset part way.

Absence per secret = from the answer to its DELETE to the answer to its POST (the emulator
acts before it answers), taken from the client's own record of every exchange; the apply
runs in process (the same Session.apply the CLI runs) so each POST can be matched to its
secret by its body. Prints max and p99 absence, the most secrets absent at once, calls,
limiter waits and 429 answers.

    .venv/bin/python benchmarks/rotation_absence.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    FINGERPRINT_KEY,
    ServedEmulator,
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

LIMIT, WINDOW_S, LATENCY_MS = 1200, 300.0, 100


@dataclass
class Exchange:
    method: str
    path: str
    name: str | None  # the secret a POST creates
    answered: float
    status: int


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = None
        if request.method == "POST" and request.url.path.endswith("/secrets"):
            body = json.loads(request.content or b"[]")
            name = body[0].get("name") if isinstance(body, list) and body else None
        response = await self.inner.handle_async_request(request)
        self.log.append(
            Exchange(request.method, request.url.path, name, time.monotonic(), response.status_code)
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def rotate(emu: ServedEmulator, manifests: Path, rotate_n: int) -> dict[str, object]:
    recorder = RecordingTransport()
    config = ClientConfig(token=DEFAULT_TOKEN, base_url=emu.base_url, transport=recorder)
    loaded = load_manifests([str(manifests)])
    replace = [f"SECRET_{i:04d}" for i in range(rotate_n)]
    start = time.monotonic()
    async with CloudflareClient(config) as client:
        session = Session(client, DEFAULT_ACCOUNT_ID, Connection())
        plan, live = await session.plan(loaded, PlanOptions(replace=replace))
        report = await session.apply(plan, loaded, live, secret_update="replace")
        if not report.ok:
            raise SystemExit("the rotation did not complete")
        waits = [w for w in client.limiter.waits if w.seconds >= 1.0]
    seconds = time.monotonic() - start
    names = {s.id: s.name for s in live.secrets.values()}
    deleted: dict[str, float] = {}
    spans: list[tuple[float, float]] = []
    for e in recorder.log:
        if e.method == "DELETE" and "/secrets/" in e.path and e.status < 300:
            deleted[names[e.path.rsplit("/", 1)[-1]]] = e.answered
        elif e.method == "POST" and e.name in deleted and e.status < 300:
            spans.append((deleted.pop(e.name), e.answered))
    absences = sorted(end - begin for begin, end in spans)
    events = sorted([(b, 1) for b, _ in spans] + [(e, -1) for _, e in spans])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    p99 = absences[max(0, math.ceil(0.99 * len(absences)) - 1)]  # nearest rank
    return {
        "rotated": len(spans),
        "calls": len(recorder.log),
        "seconds": seconds,
        "max": absences[-1],
        "p99": p99,
        "at_once": most,
        "waits": len(waits),
        "waited": sum(w.seconds for w in waits),
        "429": sum(1 for e in recorder.log if e.status == 429),
    }


def spend(emu: ServedEmulator, requests: int) -> None:
    """Another client on the same token uses `requests` of the window."""
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    with httpx.Client(headers=headers, timeout=30) as http:

        def one(_: int) -> int:
            return http.get(f"{emu.base_url}/accounts").status_code

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 workers, 40 secrets, rotate 20")
    args = parser.parse_args()
    # "used" leaves room for the read but not for the whole rotation: it waits part way.
    workers, secrets, rotate_n, used = (50, 40, 20, 1120) if args.quick else (500, 200, 100, 600)
    os.environ["RECONCILER_FINGERPRINT_KEY"] = FINGERPRINT_KEY
    rows = []
    with tempfile.TemporaryDirectory(prefix="rotation-") as tmp:
        for state in ("fresh", "used"):
            work = Path(tmp) / state
            manifests = write_manifests(work / "m", workers=workers, secrets=secrets)
            with served_emulator(work / "emulator", emulator_config(max_secrets=1000)) as emu:
                setup = run_cli(
                    ["apply", str(manifests), "--auto-approve", "--no-cache"],
                    cwd=work,
                    env=cli_env(emu),
                    timeout_s=900,
                )
                if setup.returncode != 0:
                    raise SystemExit(f"setup failed:\n{setup.stderr[-2000:]}")
                emu.set_faults(
                    rate_limit={"requests": LIMIT, "window_s": WINDOW_S}, latency_ms=LATENCY_MS
                )
                if state == "used":
                    spend(emu, used)
                r = asyncio.run(rotate(emu, manifests, rotate_n))
            token = "fresh window" if state == "fresh" else f"{used} of {LIMIT} already used"
            print(f"{token}: {r}", flush=True)
            rows.append(
                [
                    token,
                    r["rotated"],
                    r["calls"],
                    f"{r['seconds']:.1f}",
                    f"{r['max']:.2f}",
                    f"{r['p99']:.2f}",
                    r["at_once"],
                    f"{r['waits']} ({r['waited']:.0f} s)",
                    r["429"],
                ]
            )
    print()
    print(
        f"{workers} workers + {secrets} secrets, cold read (no cache), {LATENCY_MS} ms latency, "
        f"limit {LIMIT} / {WINDOW_S:g} s"
    )
    print(
        table(
            [
                "token",
                "rotated",
                "API calls",
                "wall time (s)",
                "max absence (s)",
                "p99 absence (s)",
                "most absent at once",
                "limiter waits",
                "429 answers",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
