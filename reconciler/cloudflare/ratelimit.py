"""Client-side rate limiting.

Cloudflare allows 1200 requests per 5 minutes per token and blocks the token for
5 minutes past it, so we never rely on the server to tell us: a sliding window
keeps the run under the budget, and the server's own headers (Retry-After,
Ratelimit, X-RateLimit-*) can only make us slower, never faster.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

_RATELIMIT_R = re.compile(r"(?:^|;)\s*r\s*=\s*(\d+)")
_RATELIMIT_T = re.compile(r"(?:^|;)\s*t\s*=\s*(\d+)")


class RateLimiter:
    """At most `limit` request starts in any `window_s` seconds, plus server-imposed pauses."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits, then record it."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window_s:
                    self._starts.popleft()
                wait = self._paused_until - now
                if len(self._starts) >= self.limit:
                    wait = max(wait, self._starts[0] + self.window_s - now)
                if wait <= 0:
                    self._starts.append(now)
                    return
                await asyncio.sleep(wait)

    def pause_for(self, seconds: float) -> None:
        """Hold every request back for `seconds` (e.g. after a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def observe(self, headers: Mapping[str, str]) -> float | None:
        """Read the server's rate headers; pause if it says the budget is spent.

        Returns the server's requested wait in seconds (Retry-After), if any.
        """
        retry_after = parse_retry_after(headers)
        remaining, reset = _remaining_and_reset(headers)
        if remaining is not None and remaining <= 0 and reset is not None:
            self.pause_for(reset)
        return retry_after


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
