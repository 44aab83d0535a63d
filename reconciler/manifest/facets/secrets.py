"""The script secrets facet of a manifest: each `secret_text` binding and its value source."""

from __future__ import annotations

from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import SecretTextBinding, WorkerSpec
from reconciler.state import WorkerParts, WorkerSecret


class SecretsManifest(ManifestFacet):
    name = "secrets"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        secrets = (
            WorkerSecret(
                b.name,
                value_from=check.value_source(
                    doc, doc.at("workers", index, "bindings", j, "value_from"), b.value_from
                ),
                location=doc.at("workers", index, "bindings", j),
            )
            for j, b in enumerate(spec.bindings)
            if isinstance(b, SecretTextBinding)
        )
        return {"secrets": tuple(sorted(secrets, key=lambda s: s.name))}


FACET = SecretsManifest()
