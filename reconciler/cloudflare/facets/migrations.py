"""The migrations facet on the live side: the script's `migration_tag` from the listing
(no read of its own), and the steps after it sent with an upload.

The upload's metadata carries `{old_tag, new_tag, steps}` (§4.4, N13): `old_tag` is the
live tag, which the API checks (10079 when another upload moved it meanwhile).
"""

from __future__ import annotations

from typing import Any

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.errors import ConfigError
from reconciler.state import Migration, WorkerParts


class MigrationsFacet(CloudflareFacet):
    name = "migrations"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        return {"migration_tag": record.migration_tag or None}

    def upload(self, draft: UploadDraft) -> None:
        steps = draft.worker.migrations
        if not steps:
            return
        live_tag = draft.live.migration_tag if draft.live is not None else None
        todo = pending(steps, live_tag)
        if todo is None:
            raise ConfigError(
                f"worker {draft.worker.name!r} has run Durable Object migration {live_tag!r}, "
                "which its manifest's `migrations` do not list; nothing was uploaded"
            )
        if todo:
            body: dict[str, Any] = {"new_tag": todo[-1].tag, "steps": [m.changes for m in todo]}
            if live_tag is not None:
                body = {"old_tag": live_tag, **body}
            draft.metadata["migrations"] = body


def pending(steps: tuple[Migration, ...], live_tag: str | None) -> tuple[Migration, ...] | None:
    """The steps after the live tag (all of them when none ran); None when the steps do not
    contain the live tag, a conflict the plan reports before anything is applied."""
    if live_tag is None:
        return steps
    tags = [m.tag for m in steps]
    if live_tag not in tags:
        return None
    return steps[tags.index(live_tag) + 1 :]


FACET = MigrationsFacet()
