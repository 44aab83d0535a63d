"""Plans shown to the agent, kept by id so `apply` can name exactly the plan that was shown.

Only plans live here (names, field changes, digests: never values). The book is bounded:
an agent that plans in a loop cannot grow the server without limit.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.plan.model import Plan

MAX_PLANS = 32


@dataclass(frozen=True)
class ShownPlan:
    """A plan as returned by the `plan` tool, with the manifest paths it was computed from."""

    plan: Plan
    paths: tuple[Path, ...]


class PlanBook:
    def __init__(self, limit: int = MAX_PLANS) -> None:
        self._limit = limit
        self._plans: OrderedDict[str, ShownPlan] = OrderedDict()

    def add(self, shown: ShownPlan) -> str:
        plan_id = f"plan-{secrets.token_hex(8)}"
        self._plans[plan_id] = shown
        while len(self._plans) > self._limit:
            self._plans.popitem(last=False)
        return plan_id

    def get(self, plan_id: str) -> ShownPlan:
        shown = self._plans.get(plan_id)
        if shown is None:
            raise ConfigError(
                f"no plan with id {plan_id[:80]!r} in this server session (ids last as long as the "
                f"server, the newest {self._limit} are kept); nothing was changed. "
                "Call the plan tool, show the plan, then apply its plan_id"
            )
        return shown
