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
