"""The deployment facet of a manifest: the `rollout` key (left out: not managed, not read)."""

from __future__ import annotations

from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.state import Rollout, WorkerParts


class DeploymentManifest(ManifestFacet):
    name = "deployment"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        r = spec.rollout
        if r is None:
            return {}
        pin = str(r.version) if r.version is not None else None
        percentage = 100 if r.percentage is None else r.percentage
        return {"rollout": Rollout(percentage=percentage, message=r.message, version=pin)}


FACET = DeploymentManifest()
