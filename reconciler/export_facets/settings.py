"""The settings facet in export: every settings key, as read, so the exported worker owns
them all and plans with no change; a value the manifest format cannot hold is left out with
a warning (the key is then not managed), never the whole worker."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from reconciler.export_facets.base import ExportFacet, WorkerExport
from reconciler.manifest.models import WorkerSpec
from reconciler.settings_forms import KEYS, exported


class SettingsExport(ExportFacet):
    name = "settings"

    def export(self, draft: WorkerExport) -> str | None:
        live = draft.worker.settings
        for key in KEYS:
            if key not in live:
                continue
            value = exported(key, live[key])
            problem = _invalid(key, value)
            if problem is None:
                draft.entry[key] = value
            else:
                draft.warnings.append(
                    f"worker {draft.worker.name!r}: {key} left out (not managed): the live "
                    f"value does not fit the manifest format ({problem})"
                )
        return None


def _invalid(key: str, value: Any) -> str | None:
    try:
        WorkerSpec.model_validate({"name": "w", "script": "w.js", key: value})
    except ValidationError as exc:
        return str(exc.errors()[0].get("msg", "invalid")).removeprefix("Value error, ")
    return None


FACET = SettingsExport()
