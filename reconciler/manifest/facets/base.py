"""What a Worker facet does when manifests are merged (see `reconciler/facets.py`)."""

from __future__ import annotations

from reconciler.manifest.check import Checker
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.state import State, WorkerParts


class ManifestFacet:
    """One facet's keys of a `WorkerSpec`, checked and turned into its Worker fields."""

    name: str = ""

    def check(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec, state: State
    ) -> None:
        """Cross-checks against what else the manifests declare (`state` holds the stores and
        secrets); runs for every facet before any `load`."""

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        """Its fields, or None when a problem (added to `check`) leaves the worker unbuilt;
        the facets after it are then not loaded."""
        return {}
