"""The client-side rate limiter and the server's rate headers."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

from reconciler.cloudflare.ratelimit import RateLimiter, parse_retry_after


def test_window_blocks_past_the_limit() -> None:
    async def run() -> float:
        limiter = RateLimiter(3, 0.3)
        start = time.monotonic()
        for _ in range(4):
            await limiter.acquire()
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    assert 0.25 <= elapsed < 1.0


def test_within_limit_does_not_wait() -> None:
    async def run() -> float:
        limiter = RateLimiter(50, 300)
        start = time.monotonic()
        for _ in range(50):
            await limiter.acquire()
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.1


def test_ratelimit_header_with_nothing_left_pauses() -> None:
    async def run() -> float:
        limiter = RateLimiter(100, 300)
        limiter.observe({"ratelimit": '"default";r=0;t=1'})
        start = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - start

    assert 0.9 <= asyncio.run(run()) < 1.5


def test_ratelimit_header_with_budget_left_does_not_pause() -> None:
    async def run() -> float:
        limiter = RateLimiter(100, 300)
        limiter.observe({"ratelimit": '"default";r=5;t=60', "x-ratelimit-remaining": "0"})
        start = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.1


def test_legacy_x_ratelimit_headers() -> None:
    async def run() -> float:
        limiter = RateLimiter(100, 300)
        limiter.observe({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"})
        start = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - start

    assert 0.9 <= asyncio.run(run()) < 1.5


def test_retry_after_seconds_and_date() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    in_a_minute = parse_retry_after({"retry-after": formatdate(time.time() + 60, usegmt=True)})
    assert in_a_minute is not None and 55 <= in_a_minute <= 61
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_unit_takes_its_whole_budget_before_the_first_request() -> None:
    async def run() -> list[str]:
        limiter = RateLimiter(3, 0.4)
        events: list[str] = []

        async def replace() -> None:
            async with limiter.unit(3):
                events.append("unit started")
                for name in ("delete", "create"):
                    before = time.monotonic()
                    async with limiter.request():
                        pass
                    assert time.monotonic() - before < 0.1, f"{name} waited inside the unit"
                    events.append(name)

        await limiter.acquire(2)  # only one start left in this window
        await replace()
        return events

    assert asyncio.run(run()) == ["unit started", "delete", "create"]


def test_a_unit_gives_back_what_it_did_not_use() -> None:
    async def run() -> float:
        limiter = RateLimiter(3, 300)
        async with limiter.unit(3), limiter.request():
            pass
        start = time.monotonic()
        await limiter.acquire(2)  # the two unused starts came back
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.1


def test_the_server_budget_bounds_the_run_and_counts_requests_in_flight() -> None:
    async def run() -> float:
        limiter = RateLimiter(1000, 300)
        async with limiter.request():
            # Two remain by the server's count; this answer is ours, no one else in flight.
            limiter.observe({"ratelimit": '"default";r=2;t=1'})
        for _ in range(2):
            await limiter.acquire()
        assert limiter.remaining() == 0
        start = time.monotonic()
        await limiter.acquire()  # the server's window must reset first
        return time.monotonic() - start

    assert 0.9 <= asyncio.run(run()) < 1.5


def test_the_first_request_goes_alone_until_its_answer_tells_the_budget() -> None:
    async def run() -> tuple[int, int]:
        limiter = RateLimiter(100, 300, concurrency=8)
        most = 0
        in_flight = 0
        seen: list[int] = []

        async def one() -> None:
            nonlocal most, in_flight
            async with limiter.request():
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(0.01)
                seen.append(in_flight)
                limiter.observe({"ratelimit": '"default";r=50;t=60'})
                in_flight -= 1

        await asyncio.gather(*(one() for _ in range(8)))
        return seen[0], most

    first, most = asyncio.run(run())
    assert first == 1, "the first request was alone in flight when it was answered"
    assert 1 < most <= 8, "after the first answer, several at once"


def test_forecast_says_how_long_a_run_will_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, 300, clock=clock)
    assert limiter.forecast(10) == 0.0
    limiter.observe({"ratelimit": '"default";r=4;t=200'})
    assert limiter.forecast(4) == 0.0
    assert limiter.forecast(5) == 200.0
    assert limiter.forecast(15) == 500.0  # one reset, then a full window more
