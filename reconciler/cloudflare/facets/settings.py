"""The settings facet on the live side: read from the list item, uploaded in the metadata.

The workers list carries observability, logpush, tail consumers, placement and the usage
model, fresh on every plan; limits come from `GET …/settings`, which the reader makes (or
takes from its cache) for the bindings anyway. So no setting costs a read of its own
(docs/cheap-reads.md). An upload sends the settings the manifest sets, and the version
settings it leaves alone as they are live: an upload makes a version without the ones it
leaves out.
"""

from __future__ import annotations

from typing import Any

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.settings_forms import KEYS, carried, written
from reconciler.state import WorkerParts

# Read from the list item when it has them (settings may come from the cache).
LISTED = ("observability", "logpush", "tail_consumers", "placement", "usage_model")


class SettingsFacet(CloudflareFacet):
    name = "settings"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        found: dict[str, Any] = {}
        for key in LISTED:
            value = getattr(record, key)
            found[key] = value if value is not None else getattr(settings, key)
        if found["placement"] is None and isinstance(record.placement_mode, str):
            found["placement"] = {"mode": record.placement_mode}
        found["limits"] = settings.limits
        return {"settings": {key: found[key] for key in KEYS}}

    def upload(self, draft: UploadDraft) -> None:
        declared = draft.worker.settings
        live = draft.live.settings if draft.live is not None else {}
        for key in KEYS:
            if key in declared:
                draft.metadata[key] = written(key, declared[key])
            elif (kept := carried(key, live.get(key))) is not None:
                draft.metadata[key] = kept


FACET = SettingsFacet()
