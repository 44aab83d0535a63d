"""The deployment facet on the live side: a version upload's share of the metadata.

A version (`POST …/versions`) is the same assembly as a plain upload; what differs is that
the worker's script secrets not written in it are carried over by inheritance (`inherit`
bindings, sent with `bindings_inherit=strict`), so a code-only rollout sends no value. The
deployment itself is read apart (`cloudflare/deployment_reads.py`): it needs calls of its own.
"""

from __future__ import annotations

from reconciler.cloudflare.facets.base import CloudflareFacet, UploadDraft


class DeploymentFacet(CloudflareFacet):
    name = "deployment"

    def upload(self, draft: UploadDraft) -> None:
        if not draft.version or draft.live is None:
            return
        live = {s.name for s in draft.live.secrets}
        draft.metadata.setdefault("bindings", []).extend(
            {"type": "inherit", "name": s.name}
            for s in draft.worker.secrets
            if s.name in live and s.name not in draft.secrets
        )


FACET = DeploymentFacet()
