"""The run's wait budget: how long, in all, retries may keep a run waiting.

A server that answers `Retry-After: 300` to every request would otherwise hold an
unattended CI job for retries x 5 minutes. Waits that overlap (several requests
backing off at once) are charged once: the budget is wall-clock time during which
at least one request was waiting to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from reconciler.cloudflare.config import MAX_WAIT_FLAG, MAX_WAIT_VAR
from reconciler.errors import ReconcilerError


class WaitBudgetError(ReconcilerError):
    """Waiting any longer would pass the run's wait budget; the run stops instead."""


class WaitBudget:
    """Charges waits against `total_s` seconds; refuses the one that would pass it."""

    def __init__(self, total_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.total_s = total_s
        self.spent_s = 0.0
        self._clock = clock
        self._horizon = 0.0

    def charge(self, seconds: float, what: str) -> None:
        """Account for a wait of `seconds` starting now, or raise before it starts."""
        now = self._clock()
        end = now + max(0.0, seconds)
        extra = max(0.0, end - max(now, self._horizon))
        if extra <= 0:
            return
        if self.spent_s + extra > self.total_s + 1e-9:
            raise WaitBudgetError(
                f"stopped instead of waiting: {what}, but this run has already waited "
                f"{self.spent_s:.0f} s of its {self.total_s:.0f} s wait budget; "
                f"raise it with {MAX_WAIT_FLAG} SECONDS or {MAX_WAIT_VAR}, or run again later"
            )
        self.spent_s += extra
        self._horizon = end
