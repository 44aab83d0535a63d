"""Injected trouble: latency, seeded 5xx errors, and the per-token rate limit (§7)."""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from reconciler.emulator.config import EmulatorConfig, RateLimitConfig
from reconciler.emulator.envelope import ApiFailure

_FAULT_STATUSES = (500, 502, 503)


class FaultSettings(BaseModel):
    """Body of `PUT /__emulator/faults` (an emulator extension)."""

    model_config = ConfigDict(extra="forbid")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int | None = None
    rate_limit: RateLimitConfig | None = None
    latency_ms: int = Field(default=0, ge=0)


@dataclass
class _Window:
    start: float
    count: int = 0
    # Set when the limit is passed: every call is refused until then.
    blocked_until: float | None = None


@dataclass
class Faults:
    """Mutable at run time; guarded by its own lock (requests may come from several threads)."""

    settings: FaultSettings
    rng: random.Random = field(default_factory=random.Random)
    windows: dict[str, _Window] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> Faults:
        f = cls(FaultSettings())
        f.apply(
            FaultSettings(
                error_rate=config.faults.error_rate,
                seed=config.faults.seed,
                rate_limit=config.faults.rate_limit,
                latency_ms=config.latency_ms,
            )
        )
        return f

    def apply(self, settings: FaultSettings) -> None:
        with self.lock:
            self.settings = settings
            self.rng = random.Random(settings.seed)
            self.windows.clear()

    def latency_s(self) -> float:
        """The delay for one request: latency_ms with ±25 % jitter."""
        ms = self.settings.latency_ms
        if ms <= 0:
            return 0.0
        with self.lock:
            return ms * self.rng.uniform(0.75, 1.25) / 1000.0

    def maybe_fail(self) -> None:
        """A seeded fraction of requests fail before any change is made."""
        with self.lock:
            if self.settings.error_rate <= 0 or self.rng.random() >= self.settings.error_rate:
                return
            status = self.rng.choice(_FAULT_STATUSES)
        raise ApiFailure(status, 10002, "Unexpected internal server error (injected fault)")

    def count(self, key: str) -> dict[str, str]:
        """Count one request for `key`; the rate-limit headers, or a 429 past the limit.

        Like the real API, passing the limit blocks the token for a whole window
        from that moment ("all API calls for the next five minutes will be blocked").
        """
        rl = self.settings.rate_limit or RateLimitConfig()
        now = time.monotonic()
        with self.lock:
            w = self.windows.get(key)
            blocked = w is not None and w.blocked_until is not None and now < w.blocked_until
            if w is None or (not blocked and now - w.start >= rl.window_s):
                w = self.windows[key] = _Window(start=now)
            w.count += 1
            over = blocked or w.count > rl.requests
            if over and w.blocked_until is None:
                w.blocked_until = now + rl.window_s
            if w.blocked_until is not None:
                reset = max(w.blocked_until - now, 0.0)
            else:
                reset = max(rl.window_s - (now - w.start), 0.0)
            remaining = 0 if over else max(rl.requests - w.count, 0)
        # Rounded first: now + window - now is not always exactly window in floats.
        reset_s = math.ceil(round(reset, 3))
        headers = {
            "Ratelimit": f'"default";r={remaining};t={reset_s}',
            "Ratelimit-Policy": f'"default";q={rl.requests};w={math.ceil(rl.window_s)}',
        }
        if over:
            headers["Retry-After"] = str(max(reset_s, 1))
            raise ApiFailure(
                429, 971, "Please wait and consider throttling your request speed", headers=headers
            )
        return headers
