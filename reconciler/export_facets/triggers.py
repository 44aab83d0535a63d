"""The triggers facet in export: each key read (export reads every worker's crons, routes in
every zone, custom domains and workers.dev flags), written as the manifest spells it, so
the exported account plans with no changes. A key the read did not fill is left out."""

from __future__ import annotations

from typing import Any

from reconciler.export_facets.base import ExportFacet, WorkerExport


def _zoned(key: str, value: str, zone: str | None, zone_id: str | None) -> dict[str, Any]:
    return {key: value, **({"zone": zone} if zone is not None else {"zone_id": zone_id})}


class TriggersExport(ExportFacet):
    name = "triggers"

    def export(self, draft: WorkerExport) -> str | None:
        worker = draft.worker
        if worker.crons is not None:
            draft.entry["crons"] = sorted(worker.crons)
        if worker.routes is not None:
            draft.entry["routes"] = [
                _zoned("pattern", r.pattern, r.zone, r.zone_id) for r in worker.routes
            ]
        if worker.domains is not None:
            draft.entry["domains"] = [
                _zoned("hostname", d.hostname, d.zone, d.zone_id) for d in worker.domains
            ]
        if worker.workers_dev is not None:
            draft.entry["workers_dev"] = worker.workers_dev
        if worker.preview_urls is not None:
            draft.entry["preview_urls"] = worker.preview_urls
        return None


FACET = TriggersExport()
