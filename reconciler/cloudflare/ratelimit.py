"""Client-side rate limiting: the token's budget, concurrency, and units of requests.

Cloudflare allows 1200 requests per 5 minutes per token and blocks the token for
5 minutes past it, so we never rely on the server to tell us: a sliding window
keeps the run under the budget, and the server's own headers (Retry-After,
Ratelimit, X-RateLimit-*) can only make us slower, never faster.

The budget is the token's, not the process's: the first request of a run goes
alone, and the `Ratelimit` header of its answer (and of every later answer) says
how many requests remain until the server's window resets. A run never has more
requests started than remain, so a job that follows another on the same token
waits for the reset instead of meeting 429s.

A *unit* is a group of requests that must run back to back, such as a secret
replace (delete, then create): `unit(n)` takes the budget for all `n` requests
and one concurrency slot before the first is sent, so the limiter never pauses
between them. Every wait longer than a second is announced on the
`reconciler.wait` logger ("waiting 212 s for the API rate limit").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

wait_log = logging.getLogger("reconciler.wait")

_RATELIMIT_R = re.compile(r"(?:^|;)\s*r\s*=\s*(\d+)")
_RATELIMIT_T = re.compile(r"(?:^|;)\s*t\s*=\s*(\d+)")
# Waits shorter than this are pacing, not worth a line on the console.
ANNOUNCE_MIN_S = 1.0
RATE_LIMIT_REASON = "the API rate limit"


@dataclass(frozen=True)
class Wait:
    """One pause the limiter imposed before a request could start."""

    seconds: float
    reason: str


@dataclass
class _Unit:
    limiter: RateLimiter
    # Window entries taken for this unit's requests and not used yet.
    reserved: list[float] = field(default_factory=list)


_current_unit: ContextVar[_Unit | None] = ContextVar("reconciler_limiter_unit", default=None)


class RateLimiter:
    """At most `limit` starts in any `window_s` seconds, `concurrency` in flight, and no
    more started than the server says remain; plus server-imposed pauses."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        concurrency: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)
        # Until the first answer, requests go one at a time: its headers tell the budget.
        self._answered = False
        self._probe = asyncio.Lock()
        self._in_flight = 0
        # Requests the server still allows until `_allowance_until` (None: not told).
        self._allowance: int | None = None
        self._allowance_until = 0.0
        self._reserved_unsent = 0
        self._announced_until = 0.0
        self.waits: list[Wait] = []

    # --- taking budget -------------------------------------------------------------

    async def acquire(self, n: int = 1) -> None:
        """Wait until `n` more request starts fit, then record them."""
        await self._take(n)

    async def _take(self, n: int) -> list[float]:
        n = max(1, min(n, self.limit))
        async with self._lock:
            while True:
                now = self._clock()
                wait, reason = self._wait_for(n, now)
                if wait <= 0:
                    stamps = [now] * n
                    self._starts.extend(stamps)
                    if self._allowance is not None:
                        self._allowance -= n
                    return stamps
                self._waiting(wait, reason, now)
                await asyncio.sleep(wait)

    def _wait_for(self, n: int, now: float) -> tuple[float, str]:
        """Seconds until `n` starts fit (<= 0: now), and why."""
        while self._starts and self._starts[0] <= now - self.window_s:
            self._starts.popleft()
        if self._allowance is not None and now >= self._allowance_until:
            self._allowance = None  # the server's window has reset; its next answer tells more
        wait, reason = self._paused_until - now, "the API's Retry-After"
        over = len(self._starts) + n - self.limit
        if over > 0:
            local = self._starts[over - 1] + self.window_s - now
            if local > wait:
                wait, reason = local, RATE_LIMIT_REASON
        if self._allowance is not None and self._allowance < n:
            server = self._allowance_until - now
            if server > wait:
                wait, reason = server, RATE_LIMIT_REASON
        return wait, reason

    def note_wait(self, seconds: float, reason: str) -> None:
        """A wait imposed outside the limiter (a retry after a 429): counted and named."""
        self._waiting(seconds, reason, self._clock())

    def _waiting(self, seconds: float, reason: str, now: float) -> None:
        self.waits.append(Wait(seconds, reason))
        until = now + seconds
        if seconds >= ANNOUNCE_MIN_S and until > self._announced_until + ANNOUNCE_MIN_S:
            self._announced_until = until
            wait_log.warning("waiting %d s for %s", math.ceil(seconds), reason)

    @property
    def waited_s(self) -> float:
        return sum(w.seconds for w in self.waits)

    # --- one request, one unit -----------------------------------------------------

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Around one HTTP request: a slot, a start in the budget, in-flight accounting.

        Inside a unit the unit's slot and reserved starts are used, without waiting
        for the window (only a server pause still holds the request back).
        """
        unit = _current_unit.get()
        if unit is not None and unit.limiter is self:
            await self._start_in_unit(unit)
            async with self._flight():
                yield
            return
        async with self._slots:
            probing = False
            if not self._answered:
                await self._probe.acquire()
                probing = not self._answered
                if not probing:
                    self._probe.release()
            try:
                await self._take(1)
                async with self._flight():
                    yield
            finally:
                if probing:
                    self._probe.release()

    @asynccontextmanager
    async def _flight(self) -> AsyncIterator[None]:
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    async def _start_in_unit(self, unit: _Unit) -> None:
        if not unit.reserved:
            await self._take(1)  # past the unit's budget (a later retry): an ordinary start
            return
        stamp = unit.reserved.pop(0)
        self._reserved_unsent -= 1
        now = self._clock()
        pause = self._paused_until - now
        if pause > 0:  # the server refuses everything until then; sending would only fail
            self._waiting(pause, "the API's Retry-After", now)
            await asyncio.sleep(pause)
            now = self._clock()
        # The reserved entry moves to the real start time (the newest, so order holds).
        with contextlib.suppress(ValueError):  # unless it already left the window
            self._starts.remove(stamp)
        self._starts.append(now)

    @asynccontextmanager
    async def unit(self, calls: int) -> AsyncIterator[None]:
        """Run a group of up to `calls` requests back to back (see the module docstring).

        Waits, if it must, before anything is sent; a nested unit runs inside the outer one.
        """
        if _current_unit.get() is not None:
            yield
            return
        async with self._slots:
            stamps = await self._take(calls)
            self._reserved_unsent += len(stamps)
            unit = _Unit(self, list(stamps))
            token = _current_unit.set(unit)
            try:
                yield
            finally:
                _current_unit.reset(token)
                self._release(unit)

    def _release(self, unit: _Unit) -> None:
        """Give back the starts a unit reserved and did not use."""
        for stamp in unit.reserved:
            try:
                self._starts.remove(stamp)
            except ValueError:
                continue
            if self._allowance is not None:
                self._allowance += 1
        self._reserved_unsent -= len(unit.reserved)
        unit.reserved.clear()

    # --- what the server says ------------------------------------------------------

    def pause_for(self, seconds: float) -> None:
        """Hold every request back for `seconds` (e.g. after a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def observe(self, headers: Mapping[str, str]) -> float | None:
        """Read the server's rate headers: the budget left, and any Retry-After.

        Called inside `request()`, so the answered request is still counted in flight;
        the others in flight may not be counted by the server yet, so they (and the
        starts units hold) come off what it says remains.

        Returns the server's requested wait in seconds (Retry-After), if any.
        """
        self._answered = True
        retry_after = parse_retry_after(headers)
        remaining, reset = _remaining_and_reset(headers)
        if remaining is not None:
            now = self._clock()
            others = max(0, self._in_flight - 1)
            self._allowance = max(0, remaining - others - self._reserved_unsent)
            self._allowance_until = now + (reset if reset is not None else self.window_s)
        return retry_after

    # --- looking ahead -------------------------------------------------------------

    def forecast(self, calls: int) -> float:
        """Roughly how long `calls` more requests will have to wait for the budget."""
        if calls <= 0:
            return 0.0
        now = self._clock()
        while self._starts and self._starts[0] <= now - self.window_s:
            self._starts.popleft()
        wait = max(0.0, self._paused_until - now)
        over = len(self._starts) + calls - self.limit
        if over > 0:
            full, rest = divmod(over - 1, self.limit)
            if rest < len(self._starts):
                wait = max(wait, self._starts[rest] + self.window_s - now + full * self.window_s)
            else:
                wait = max(wait, (full + 1) * self.window_s)
        if self._allowance is not None and now < self._allowance_until and calls > self._allowance:
            windows = (calls - self._allowance - 1) // self.limit
            wait = max(wait, self._allowance_until - now + windows * self.window_s)
        return wait

    def remaining(self) -> int | None:
        """Requests the server said remain (minus ours since), if it said."""
        if self._allowance is None or self._clock() >= self._allowance_until:
            return None
        return self._allowance

    def announce(self, calls: int, what: str) -> float:
        """Say up front when `calls` more requests will have to wait; returns the wait."""
        wait = self.forecast(calls)
        if wait >= ANNOUNCE_MIN_S:
            left = self.remaining()
            budget = f"{left} remain" if left is not None else f"{self.limit} per window"
            wait_log.warning(
                "%s needs about %d API calls and the rate limit allows %s: "
                "expect to wait about %d s",
                what,
                calls,
                budget,
                math.ceil(wait),
            )
        return wait


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None if absent or bad."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _remaining_and_reset(headers: Mapping[str, str]) -> tuple[int | None, float | None]:
    """Remaining requests and seconds to reset from `Ratelimit` or `X-RateLimit-*`."""
    combined = headers.get("ratelimit")
    if combined:
        r = _RATELIMIT_R.search(combined)
        t = _RATELIMIT_T.search(combined)
        return (int(r.group(1)) if r else None, float(t.group(1)) if t else None)
    remaining_raw = headers.get("x-ratelimit-remaining")
    reset_raw = headers.get("x-ratelimit-reset")
    remaining = int(remaining_raw) if remaining_raw and remaining_raw.strip().isdigit() else None
    reset: float | None = None
    if reset_raw:
        reset_raw = reset_raw.strip()
        if reset_raw.isdigit():
            value = float(reset_raw)
            # A large number is an epoch timestamp, a small one a delay in seconds.
            reset = value - time.time() if value > 1_000_000_000 else value
        else:
            try:
                reset = parsedate_to_datetime(reset_raw).timestamp() - time.time()
            except (TypeError, ValueError):
                reset = None
    return remaining, (max(0.0, reset) if reset is not None else None)
