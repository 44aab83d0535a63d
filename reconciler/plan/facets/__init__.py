"""The Worker facets' parts of the plan, in `reconciler.facets.WORKER_FACETS` order."""

from __future__ import annotations

from reconciler.plan.facets import (
    assets,
    bindings,
    code,
    deployment,
    migrations,
    secrets,
    settings,
    triggers,
)
from reconciler.plan.facets.base import PlanFacet

FACETS: tuple[PlanFacet, ...] = (
    code.FACET,
    bindings.FACET,
    secrets.FACET,
    migrations.FACET,
    triggers.FACET,
    settings.FACET,
    assets.FACET,
    deployment.FACET,
)
