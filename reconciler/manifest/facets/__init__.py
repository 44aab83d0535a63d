"""The Worker facets' parts of merging manifests, in `reconciler.facets.WORKER_FACETS` order."""

from __future__ import annotations

from reconciler.manifest.facets import (
    assets,
    bindings,
    code,
    deployment,
    migrations,
    secrets,
    settings,
    triggers,
)
from reconciler.manifest.facets.base import ManifestFacet

FACETS: tuple[ManifestFacet, ...] = (
    code.FACET,
    bindings.FACET,
    secrets.FACET,
    migrations.FACET,
    triggers.FACET,
    settings.FACET,
    assets.FACET,
    deployment.FACET,
)
