"""The assets facet on the live side: what can be known of a script's assets without any
read of its own (the listing's `has_assets`, the assets binding in the settings, and our
assets tag), and its share of the upload: the completion token and the config, or
`keep_assets` when the assets did not change or the manifest does not manage them."""

from __future__ import annotations

from typing import Any

from reconciler.cloudflare.codetag import assets_digest_from_tags
from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings
from reconciler.state import WorkerAssets, WorkerParts

ASSETS_BINDING = "assets"


class AssetsFacet(CloudflareFacet):
    name = "assets"

    def read(
        self, record: ScriptRecord, settings: ScriptSettings, store_names: dict[str, str]
    ) -> WorkerParts:
        tags = record.tags if record.tags is not None else settings.tags or []
        binding = next(
            (
                b["name"]
                for b in settings.bindings
                if b.get("type") == ASSETS_BINDING and isinstance(b.get("name"), str)
            ),
            None,
        )
        digest = assets_digest_from_tags(tags, record.etag)
        if not record.has_assets and binding is None and digest is None:
            return {"assets": None}
        return {"assets": WorkerAssets(digest=digest, binding=binding, present=True)}

    def upload(self, draft: UploadDraft) -> None:
        assets = draft.worker.assets
        live = draft.live.assets if draft.live is not None else None
        if assets is None:
            # Not managed: an upload without them would take the live assets down.
            if live is not None and live.present:
                draft.metadata["keep_assets"] = True
                if live.binding:
                    self._bind(draft, live.binding)
            return
        if draft.assets_jwt is None:
            draft.metadata["keep_assets"] = True
        else:
            config: dict[str, Any] = dict(assets.config)
            tree = assets.tree
            if tree is not None and tree.headers is not None:
                config["_headers"] = tree.headers
            if tree is not None and tree.redirects is not None:
                config["_redirects"] = tree.redirects
            draft.metadata["assets"] = {"jwt": draft.assets_jwt, "config": config}
        if assets.binding:
            self._bind(draft, assets.binding)

    @staticmethod
    def _bind(draft: UploadDraft, name: str) -> None:
        draft.metadata.setdefault("bindings", []).append({"type": ASSETS_BINDING, "name": name})


FACET = AssetsFacet()
