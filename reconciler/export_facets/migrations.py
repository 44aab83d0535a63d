"""The migrations facet in `reconciler export`: the API keeps only the last tag that ran,
never the steps, so `migrations:` is left out (not managed) and a warning says why."""

from __future__ import annotations

from reconciler.export_facets.base import ExportFacet, WorkerExport


class MigrationsExport(ExportFacet):
    name = "migrations"

    def export(self, draft: WorkerExport) -> str | None:
        tag = draft.worker.migration_tag
        if tag:
            draft.warnings.append(
                f"worker {draft.worker.name!r} has run Durable Object migrations up to tag "
                f"{tag!r}; the API does not return the steps, so `migrations:` is left out "
                "(not managed); copy the steps from its wrangler config to manage them"
            )
        return None


FACET = MigrationsExport()
