"""The bindings facet on the live side: bindings read with store names, uploaded with ids.

Script secrets (`secret_text`) are the secrets facet's; key material (`secret_key`) is
never declared by manifests: both are left out here.
"""

from __future__ import annotations

from typing import Any

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.errors import ConfigError
from reconciler.state import Binding, Worker, WorkerParts

SECRET_TEXT = "secret_text"
SECRETS_STORE_SECRET = "secrets_store_secret"
# The assets binding is the assets facet's (`assets.binding`).
ASSETS = "assets"
# Key material bindings are never declared by manifests; they are kept, never compared.
OUT_OF_BAND_BINDINGS = frozenset({"secret_key"})


class BindingsFacet(CloudflareFacet):
    name = "bindings"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        return {"bindings": read_bindings(settings.bindings, store_names)}

    def upload(self, draft: UploadDraft) -> None:
        draft.metadata.setdefault("bindings", []).extend(
            _binding_dict(draft.worker, b, draft.store_ids) for b in draft.worker.bindings
        )


def read_bindings(raw: list[dict[str, Any]], store_names: dict[str, str]) -> tuple[Binding, ...]:
    out: list[Binding] = []
    for b in raw:
        type_, name = b.get("type"), b.get("name")
        if not isinstance(type_, str) or not isinstance(name, str):
            continue
        if type_ in OUT_OF_BAND_BINDINGS or type_ in (SECRET_TEXT, ASSETS):
            continue
        if type_ == SECRETS_STORE_SECRET:
            store_id = b.get("store_id")
            store = store_names.get(store_id) if isinstance(store_id, str) else None
            # A store we cannot name (e.g. deleted) keeps its id, so it never equals a name.
            params: dict[str, Any] = (
                {"store": store, "secret": b.get("secret_name")}
                if store is not None
                else {"store_id": store_id, "secret": b.get("secret_name")}
            )
        else:
            params = {k: v for k, v in b.items() if k not in ("name", "type")}
        out.append(Binding(name=name, type=type_, params=params))
    return tuple(sorted(out, key=lambda x: x.name))


def _binding_dict(worker: Worker, binding: Binding, store_ids: dict[str, str]) -> dict[str, Any]:
    name, type_, params = binding.name, binding.type, binding.params
    if type_ != SECRETS_STORE_SECRET:
        return {"name": name, "type": type_, **params}
    store = params.get("store")
    store_id = store_ids.get(store) if isinstance(store, str) else None
    if store_id is None:
        raise ConfigError(
            f"worker {worker.name!r} binding {name!r} refers to store {store!r}, "
            "which the account does not have; declare the store or fix the binding"
        )
    return {"name": name, "type": type_, "store_id": store_id, "secret_name": params.get("secret")}


FACET = BindingsFacet()
