"""The Worker facets' parts of reading and uploading scripts, in
`reconciler.facets.WORKER_FACETS` order."""

from __future__ import annotations

from reconciler.cloudflare.facets import (
    assets,
    bindings,
    code,
    deployment,
    migrations,
    secrets,
    settings,
    triggers,
)
from reconciler.cloudflare.facets.base import CloudflareFacet

FACETS: tuple[CloudflareFacet, ...] = (
    code.FACET,
    bindings.FACET,
    secrets.FACET,
    migrations.FACET,
    triggers.FACET,
    settings.FACET,
    assets.FACET,
    deployment.FACET,
)
