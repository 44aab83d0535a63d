"""The Worker facets' parts of `reconciler export`, in `reconciler.facets.WORKER_FACETS` order."""

from __future__ import annotations

from reconciler.export_facets import (
    assets,
    bindings,
    code,
    deployment,
    migrations,
    secrets,
    settings,
    triggers,
)
from reconciler.export_facets.base import ExportFacet

FACETS: tuple[ExportFacet, ...] = (
    code.FACET,
    bindings.FACET,
    secrets.FACET,
    migrations.FACET,
    triggers.FACET,
    settings.FACET,
    assets.FACET,
    deployment.FACET,
)
