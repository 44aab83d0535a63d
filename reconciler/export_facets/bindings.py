"""The bindings facet in export: each binding the manifest format can hold."""

from __future__ import annotations

from typing import Any

from reconciler.export_facets.base import ExportFacet, WorkerExport
from reconciler.manifest.models import BINDING_TYPES
from reconciler.openapi.bindings import KINDS, normal_form
from reconciler.state import Binding


class BindingsExport(ExportFacet):
    name = "bindings"

    def export(self, draft: WorkerExport) -> str | None:
        bindings, skipped = [], []
        for binding in draft.worker.bindings:
            spec = _binding(binding, draft.bindable)
            if spec is None:
                skipped.append(f"{binding.name} ({binding.type})")
            else:
                bindings.append(spec)
        if bindings:
            draft.entry.setdefault("bindings", []).extend(bindings)
        if skipped:
            draft.warnings.append(
                f"worker {draft.worker.name!r}: skipped binding(s) the exported manifests cannot "
                "hold (a type the format lacks, or a secret not exported with the workers "
                f"scope): {', '.join(skipped)}; an apply of the exported manifests would remove "
                "them"
            )
        return None


def _binding(binding: Binding, bindable: set[tuple[str, str]]) -> dict[str, Any] | None:
    """The manifest form of a binding, or None when the exported manifests cannot hold it."""
    params = binding.params
    if binding.type == "secrets_store_secret":
        ref = (params.get("store"), params.get("secret"))
        if ref not in bindable:
            return None
        return {"type": binding.type, "name": binding.name, "store": ref[0], "secret": ref[1]}
    if binding.type in BINDING_TYPES:
        # In the schema's normal form (the field names it knows, no empty or default values),
        # so the exported entry validates and plans as it reads.
        kind = KINDS[binding.type]
        known = {k: v for k, v in normal_form(binding.type, params).items() if k in kind.properties}
        return {"type": binding.type, "name": binding.name, **known}
    return None


FACET = BindingsExport()
