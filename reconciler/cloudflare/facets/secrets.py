"""The script secrets facet on the live side: names and recorded fingerprints read from the
settings, values written inside an upload as `secret_text` bindings."""

from __future__ import annotations

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft
from reconciler.cloudflare.facets.bindings import SECRET_TEXT
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.markers import SECRETS_ANNOTATION, parse_secrets_record
from reconciler.state import WorkerParts, WorkerSecret


class SecretsFacet(CloudflareFacet):
    name = "secrets"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        """Script secret names, each with the fingerprint the deployed version records."""
        recorded = parse_secrets_record((settings.annotations or {}).get(SECRETS_ANNOTATION))
        fingerprints = recorded or {}
        names = sorted(
            {
                b["name"]
                for b in settings.bindings
                if b.get("type") == SECRET_TEXT and isinstance(b.get("name"), str)
            }
        )
        return {"secrets": tuple(WorkerSecret(n, fingerprint=fingerprints.get(n)) for n in names)}

    def upload(self, draft: UploadDraft) -> None:
        draft.metadata.setdefault("bindings", []).extend(
            {"name": name, "type": SECRET_TEXT, "text": value}
            for name, value in sorted(draft.secrets.items())
        )


FACET = SecretsFacet()
