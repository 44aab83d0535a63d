"""The settings facet of a manifest: the settings keys it sets, each owned whole.

A key left out is not managed, so it is not in `Worker.settings` at all; a key set holds the
manifest's value in the API's field names (fields left out of it are the API's defaults,
filled in where the plan compares, `settings_forms`).
"""

from __future__ import annotations

from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.settings_forms import KEYS
from reconciler.state import WorkerParts


class SettingsManifest(ManifestFacet):
    name = "settings"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        declared = spec.model_dump(include=set(KEYS), exclude_none=True, mode="json")
        return {"settings": {key: declared[key] for key in KEYS if key in declared}}


FACET = SettingsManifest()
