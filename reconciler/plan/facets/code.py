"""The code facet in the plan: the script's digest and its compatibility settings."""

from __future__ import annotations

from typing import Any

from reconciler.plan.facets.base import PlanFacet
from reconciler.state import Worker


class CodePlan(PlanFacet):
    name = "code"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        return {
            "script": worker.script_digest,
            # "" is how the API says there is none
            "compatibility_date": worker.compatibility_date or None,
            "compatibility_flags": list(worker.compatibility_flags),
        }


FACET = CodePlan()
