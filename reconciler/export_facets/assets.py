"""The assets facet in export: the API has no way to download a Worker's assets, so a
Worker that has some is exported with a warning saying what to add by hand."""

from __future__ import annotations

from reconciler.export_facets.base import ExportFacet, WorkerExport


class AssetsExport(ExportFacet):
    name = "assets"

    def export(self, draft: WorkerExport) -> str | None:
        assets = draft.worker.assets
        if assets is not None and assets.present:
            binding = f", binding: {assets.binding}" if assets.binding else ""
            draft.warnings.append(
                f"worker {draft.worker.name} serves static assets, which the API cannot "
                "download: add `assets: {directory: <your build output>" + binding + "}` to "
                "its entry (the plan then shows how many files differ)"
            )
        return None


FACET = AssetsExport()
