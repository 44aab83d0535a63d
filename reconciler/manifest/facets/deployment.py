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
        if spec.assets is not None:
            # A version upload does not yet carry the proof of the assets it sent, so such a
            # worker would plan its assets again after every apply: refused, not half-managed.
            check.add(
                doc.at("workers", index, "rollout"),
                "rollout and assets on one worker are not supported yet (the plan could not "
                "tell the assets a version carries, so it would never settle): remove rollout "
                "to deploy this worker whole, or move its assets to a worker without rollout",
            )
            return None
        pin = str(r.version) if r.version is not None else None
        percentage = 100 if r.percentage is None else r.percentage
        return {"rollout": Rollout(percentage=percentage, message=r.message, version=pin)}


FACET = DeploymentManifest()
