"""What a Worker facet does in the plan (see `reconciler/facets.py`)."""

from __future__ import annotations

from typing import Any

from reconciler.plan.context import Planning
from reconciler.state import Worker
from reconciler.values import ValueSource


class PlanFacet:
    """One facet's part of the diff; the defaults do nothing, a facet overrides what it has."""

    name: str = ""

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        """Its fields in the worker's own create/update/adopt action: JSON types, compared
        field by field (`compare.field_changes`), shown as the action's changes. `desired`
        is the manifests' worker `worker` is compared with (`worker` itself on that side):
        keys managed only when the manifest sets them are viewed only then."""
        return {}

    def values(self, planning: Planning) -> list[ValueSource]:
        """The values `plan` will read (resolved together, once, before it runs)."""
        return []

    def plan(self, planning: Planning) -> None:
        """Actions of its own kind (after the workers' own), warnings, missing values."""

    def unverified(self, planning: Planning) -> bool:
        """Whether, with no fingerprint key, it has values whose changes go unseen."""
        return False

    def replace_targets(self, desired: Worker) -> list[str]:
        """Names `--replace WORKER/NAME` (or NAME) may rotate."""
        return []
