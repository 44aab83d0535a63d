"""The code facet on the live side: the module parts, main_module or body_part, and the
compatibility settings."""

from __future__ import annotations

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft, UploadPart
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.empty import canonical
from reconciler.errors import ConfigError
from reconciler.state import WorkerParts

MODULE_TYPE = "application/javascript+module"
CLASSIC_TYPE = "application/javascript"
CLASSIC_PART = "script"


def content_type_for(name: str) -> str:
    """Part type of a non-main module of an ES module worker."""
    lower = name.lower()
    if lower.endswith((".js", ".mjs")):
        return MODULE_TYPE
    if lower.endswith(".wasm"):
        return "application/wasm"
    if lower.endswith(".txt"):
        return "text/plain"
    return "application/octet-stream"


class CodeFacet(CloudflareFacet):
    name = "code"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        flags = (
            record.compatibility_flags
            if record.compatibility_flags is not None
            else settings.compatibility_flags or []
        )
        return {
            "compatibility_date": canonical(
                record.compatibility_date or settings.compatibility_date
            ),
            "compatibility_flags": tuple(flags),
        }

    def upload(self, draft: UploadDraft) -> None:
        worker = draft.worker
        if not worker.modules and worker.assets is not None:
            # An assets-only Worker: the upload is its metadata alone (as wrangler sends it).
            if worker.compatibility_date:
                draft.metadata["compatibility_date"] = worker.compatibility_date
            draft.metadata["compatibility_flags"] = list(worker.compatibility_flags)
            return
        if not worker.modules:
            raise ConfigError(f"worker {worker.name!r} has no code to upload")
        main, *rest = worker.modules
        if worker.format == "module":
            draft.metadata["main_module"] = main.name
            draft.parts.append(UploadPart(main.name, main.load(), MODULE_TYPE))
            draft.parts += [UploadPart(m.name, m.load(), content_type_for(m.name)) for m in rest]
        else:
            if rest:
                raise ConfigError(
                    f"worker {worker.name!r} is a classic script with {len(worker.modules)} "
                    "files; classic workers have exactly one file (use ES module syntax for more)"
                )
            draft.metadata["body_part"] = CLASSIC_PART
            draft.parts.append(UploadPart(CLASSIC_PART, main.load(), CLASSIC_TYPE))
        if worker.compatibility_date:
            draft.metadata["compatibility_date"] = worker.compatibility_date
        draft.metadata["compatibility_flags"] = list(worker.compatibility_flags)


FACET = CodeFacet()
