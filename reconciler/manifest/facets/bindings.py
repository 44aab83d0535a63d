"""The bindings facet of a manifest: every binding but `secret_text` (the secrets facet's).

A Secrets Store binding must name a declared store and secret, and the secret needs the
`workers` scope: checked here against the rest of the manifest set.
"""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import (
    ApiBinding,
    SecretsStoreSecretBinding,
    SecretTextBinding,
    WorkerSpec,
)
from reconciler.state import Binding, State, WorkerParts


class BindingsManifest(ManifestFacet):
    name = "bindings"

    def check(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec, state: State
    ) -> None:
        names: dict[object, Location] = {}
        for j, binding in enumerate(spec.bindings):
            where = doc.at("workers", index, "bindings", j)
            check.unique(
                names,
                binding.name,
                doc.at("workers", index, "bindings", j, "name"),
                f"binding name {binding.name!r} in worker {spec.name!r}",
            )
            if not isinstance(binding, SecretsStoreSecretBinding):
                continue
            if binding.store not in state.stores:
                if check.invalid(("stores", binding.store)):
                    continue
                check.add(
                    where,
                    f"binding {binding.name!r} names store {binding.store!r}, "
                    "which is not declared under `stores:`",
                )
                continue
            secret = state.secrets.get((binding.store, binding.secret))
            if secret is None:
                if check.invalid(("secrets", binding.secret)):
                    continue
                check.add(
                    where,
                    f"binding {binding.name!r} names secret {binding.secret!r}, which is "
                    f"not declared in store {binding.store!r}",
                )
            elif "workers" not in secret.scopes:
                assert secret.location is not None
                check.add(
                    where,
                    f"binding {binding.name!r} needs secret {binding.secret!r} to have the "
                    "`workers` scope; add it to the secret's scopes",
                    secret.location,
                )

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        bindings = (_binding(b) for b in spec.bindings if not isinstance(b, SecretTextBinding))
        return {"bindings": tuple(sorted(bindings, key=lambda b: b.name))}


def _binding(spec: object) -> Binding:
    if isinstance(spec, SecretsStoreSecretBinding):
        return Binding(spec.name, spec.type, {"store": spec.store, "secret": spec.secret})
    assert isinstance(spec, ApiBinding)
    return Binding(spec.name, spec.type, spec.params)


FACET = BindingsManifest()
