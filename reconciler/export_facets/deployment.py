"""The deployment facet in export: no key. A live split is a rollout under way, not a state
to keep: the exported worker is deployed whole by its next upload, and `rollout` is added by
the team that wants gradual deployments (export reads no deployment)."""

from __future__ import annotations

from reconciler.export_facets.base import ExportFacet, WorkerExport


class DeploymentExport(ExportFacet):
    name = "deployment"

    def export(self, draft: WorkerExport) -> str | None:
        return None


FACET = DeploymentExport()
