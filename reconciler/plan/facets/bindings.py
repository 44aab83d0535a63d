"""The bindings facet in the plan: one field per binding name, its whole definition."""

from __future__ import annotations

from typing import Any

from reconciler.plan.facets.base import PlanFacet
from reconciler.state import Worker


class BindingsPlan(PlanFacet):
    name = "bindings"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        return {
            f"bindings.{b.name}": dict(sorted(b.to_dict().items()))
            for b in sorted(worker.bindings, key=lambda b: b.name)
        }


FACET = BindingsPlan()
