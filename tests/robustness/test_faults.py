"""Fault tolerance against a served emulator (real HTTP, in-process client with the knobs
a test needs): 429 storms, 5xx bursts and error rates, and a slow API.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks._common import write_manifests
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import Backoff, ClientConfig, Timeouts
from reconciler.cloudflare.explain import explain
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.faults import FaultSettings
from reconciler.emulator.server import EmulatorServer
from reconciler.errors import ApiError
from reconciler.manifest.merge import ManifestSet, load_manifests
from reconciler.plan.model import Plan, PlanOptions
from reconciler.workflow import Connection, Session


@dataclass
class Exchange:
    sent: float
    answered: float
    status: int
    retry_after: float | None


class RecordingTransport(httpx.AsyncBaseTransport):
    """When each request left and its answer came back, with status and Retry-After."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = await self.inner.handle_async_request(request)
        raw = response.headers.get("retry-after")
        self.exchanges.append(
            Exchange(sent, time.monotonic(), response.status_code, float(raw) if raw else None)
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def config(srv: EmulatorServer, **overrides: Any) -> ClientConfig:
    base: dict[str, Any] = {"token": DEFAULT_TOKEN, "base_url": srv.base_url}
    return ClientConfig(**(base | overrides))


async def plan_and_apply(
    client_config: ClientConfig, manifests: ManifestSet, *, apply: bool = True
) -> tuple[Plan, bool]:
    async with CloudflareClient(client_config) as client:
        session = Session(client, DEFAULT_ACCOUNT_ID, Connection())
        plan, live = await session.plan(manifests, PlanOptions())
        if not apply or not plan.has_changes:
            return plan, True
        report = await session.apply(plan, manifests, live, secret_update="replace")
        return plan, report.ok


def set_faults(srv: EmulatorServer, **settings: Any) -> None:
    srv.app.state.emulator.faults.apply(FaultSettings(**settings))


def assert_no_duplicates(srv: EmulatorServer, manifests: ManifestSet) -> None:
    state = srv.app.state.emulator.state()
    secrets = Counter(s["name"] for s in state["secrets"])
    scripts = Counter(s["id"] for s in state["scripts"])
    assert len(state["stores"]) == len(manifests.state.stores)
    assert all(n == 1 for n in secrets.values()), secrets
    assert all(n == 1 for n in scripts.values()), scripts
    assert set(secrets) == {name for _, name in manifests.state.secrets}
    assert set(scripts) == set(manifests.state.workers)


def sent_while_blocked(exchanges: list[Exchange]) -> list[Exchange]:
    """Requests that left while a 429's Retry-After, already received, was still running."""
    slack = 0.02  # a request that cleared the limiter a moment before the 429 arrived
    blocked = [(e.answered + slack, e.answered + (e.retry_after or 0) - 0.05)
               for e in exchanges if e.status == 429]  # fmt: skip
    return [e for e in exchanges if any(start < e.sent < end for start, end in blocked)]


def use_up_the_budget(srv: EmulatorServer) -> None:
    """Another client on the same token passes its limit: the token is blocked for a window.

    A run keeps within the budget the API reports, so a storm needs someone else.
    """
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    for _ in range(1000):
        if httpx.get(f"{srv.base_url}/accounts", headers=headers).status_code == 429:
            return
    raise AssertionError("the emulator's rate limit never answered 429")


@pytest.fixture
def manifests(tmp_path: Path) -> ManifestSet:
    return load_manifests([str(write_manifests(tmp_path / "m", workers=24, secrets=10))])


def test_429_storm_during_apply_waits_as_told_and_finishes(manifests: ManifestSet) -> None:
    emulator = EmulatorConfig.model_validate(
        {"faults": {"rate_limit": {"requests": 12, "window_s": 1.0}}}
    )
    with EmulatorServer(config=emulator) as srv:
        use_up_the_budget(srv)
        recorder = RecordingTransport()
        _, ok = asyncio.run(plan_and_apply(config(srv, transport=recorder), manifests))
        assert ok
        assert_no_duplicates(srv, manifests)
    assert any(e.status == 429 for e in recorder.exchanges), "the storm never happened"
    assert sent_while_blocked(recorder.exchanges) == []


def test_429_storm_during_a_cold_read_waits_as_told(manifests: ManifestSet) -> None:
    """Many reads queue at once here: none may leave while the server said to wait.

    Another client has just used up the token's budget (the run's own budget keeping
    never overruns it alone), so the run starts into a blocked token.
    """
    with EmulatorServer() as srv:
        _, ok = asyncio.run(plan_and_apply(config(srv), manifests))
        assert ok
        set_faults(srv, rate_limit={"requests": 12, "window_s": 1.0})
        use_up_the_budget(srv)
        recorder = RecordingTransport()
        plan, _ = asyncio.run(plan_and_apply(config(srv, transport=recorder), manifests))
        assert not plan.has_changes
    assert any(e.status == 429 for e in recorder.exchanges), "the storm never happened"
    early = sent_while_blocked(recorder.exchanges)
    assert early == [], f"{len(early)} requests were sent while the token was blocked"


def test_a_5xx_burst_shorter_than_the_retry_budget_is_ridden_out(
    manifests: ManifestSet,
) -> None:
    # Retries wait at least 0.05 + 0.1 + 0.2 + 0.4 s in all: more than the 0.5 s burst.
    client = {"backoff": Backoff(base_s=0.1), "max_retries": 4}
    with EmulatorServer() as srv:
        set_faults(srv, error_rate=1.0, seed=1)
        timer = threading.Timer(0.5, lambda: set_faults(srv, error_rate=0.0))
        timer.start()
        try:
            _, ok = asyncio.run(plan_and_apply(config(srv, **client), manifests))
        finally:
            timer.cancel()
        assert ok
        assert_no_duplicates(srv, manifests)
        plan, _ = asyncio.run(plan_and_apply(config(srv), manifests, apply=False))
        assert not plan.has_changes


def test_a_20_percent_error_rate_converges_on_rerun(tmp_path: Path) -> None:
    """100 resources, 1 call in 5 failing: a run without retries stops part way; reruns with
    retries make progress and converge, with nothing duplicated."""
    manifests = load_manifests(
        [str(write_manifests(tmp_path / "m", workers=50, secrets=49))]  # + 1 store = 100
    )

    def attempt(max_retries: int) -> bool:
        client = config(srv, backoff=Backoff(base_s=0.01), max_retries=max_retries)
        try:
            return asyncio.run(plan_and_apply(client, manifests))[1]
        except ApiError:  # the plan's own reads failed past their retries
            return False

    with EmulatorServer() as srv:
        set_faults(srv, error_rate=0.2, seed=20)
        # Each failing run creates a few secrets first; the workers come once all exist.
        for _ in range(60):
            stopped = attempt(max_retries=0) is False
            if stopped and 0 < len(srv.app.state.emulator.state()["scripts"]) < 50:
                break
        partial = srv.app.state.emulator.state()
        assert 0 < len(partial["scripts"]) < 50, "expected an apply that stopped part way"
        runs = [attempt(max_retries=3)]
        while not runs[-1] and len(runs) < 8:
            runs.append(attempt(max_retries=3))
        assert runs[-1], f"did not converge in {len(runs)} runs"
        set_faults(srv, error_rate=0.0)
        plan, _ = asyncio.run(plan_and_apply(config(srv), manifests, apply=False))
        assert not plan.has_changes
        assert_no_duplicates(srv, manifests)


def test_a_slow_api_gives_a_clear_error_not_a_hang(manifests: ManifestSet) -> None:
    client = {
        "timeouts": Timeouts(connect=1.0, read=0.3, write=1.0, pool=1.0),
        "max_retries": 1,
        "backoff": Backoff(base_s=0.05),
    }
    with EmulatorServer(config=EmulatorConfig(latency_ms=1500)) as srv:
        start = time.monotonic()
        with pytest.raises(ApiError) as caught:
            asyncio.run(plan_and_apply(config(srv, **client), manifests, apply=False))
        elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"took {elapsed:.1f} s to give up"
    assert caught.value.status == 0
    assert "ReadTimeout" in str(caught.value)
    sentence = explain(caught.value)
    assert "after retries" in sentence and "GET" in sentence
    assert "timed out" in sentence and "--timeout SECONDS" in sentence
