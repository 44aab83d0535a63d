"""What a Worker facet does on the live side (see `reconciler/facets.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.state import Worker, WorkerParts


@dataclass(frozen=True)
class UploadPart:
    name: str
    content: bytes
    content_type: str


@dataclass
class UploadDraft:
    """An upload being built: each facet adds its parts and metadata keys in turn."""

    worker: Worker
    # Bindings name stores, the API wants ids.
    store_ids: dict[str, str]
    # Script secret values written inside this upload, by name.
    secrets: dict[str, str]
    # The worker as it is live (None: new), for what an upload would otherwise reset.
    live: Worker | None = None
    # The completion token of the assets uploaded for this upload (None: assets unchanged).
    assets_jwt: str | None = None
    # A version upload (`POST …/versions`, deployed apart) rather than `PUT …/scripts/{name}`.
    version: bool = False
    parts: list[UploadPart] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


class CloudflareFacet:
    """One facet's share of reading a script and of uploading one; defaults do nothing."""

    name: str = ""

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        """Its Worker fields from the script's listing and settings (store ids -> names).

        The code itself (digest, format) is the reader's: it decides which calls to make."""
        return {}

    def upload(self, draft: UploadDraft) -> None:
        """Add its parts and metadata keys for `PUT /workers/scripts/{name}`."""
