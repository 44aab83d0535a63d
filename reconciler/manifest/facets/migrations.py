"""The migrations facet of a manifest: Durable Object migration steps, as wrangler writes them.

`migrations:` left out means not managed (None); a list, even empty, is owned. Tags are the
steps' identity: each must be unique.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import Location
from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import MigrationStep, WorkerSpec
from reconciler.state import Migration, WorkerParts


class MigrationsManifest(ManifestFacet):
    name = "migrations"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        if spec.migrations is None:
            return {}
        tags: dict[object, Location] = {}
        for j, step in enumerate(spec.migrations):
            check.unique(
                tags,
                step.tag,
                doc.at("workers", index, "migrations", j, "tag"),
                f"migration tag {step.tag!r} in worker {spec.name!r}",
            )
        return {"migrations": tuple(migration(step) for step in spec.migrations)}


def migration(step: MigrationStep) -> Migration:
    """The step's API fields (the schema's `workers_migration_step`), empty ones left out."""
    raw: dict[str, Any] = step.model_dump(by_alias=True, exclude={"tag"})
    return Migration(step.tag, {k: v for k, v in raw.items() if v})


FACET = MigrationsManifest()
