"""What a Worker facet with actions of its own kind does in apply (see `reconciler/facets.py`).

A facet whose changes ride entirely inside the worker's upload (code, bindings) needs
no step here; its share of the upload is `cloudflare/facets/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.plan.model import Action, Plan, ResourceKind
from reconciler.state import State


class ApplyContext(Protocol):
    """What a step may use of the run it is part of."""

    client: CloudflareClient
    account: str
    desired: State
    live: State
    fingerprint_key: bytes | None

    def forget_cached(self, worker: str) -> None:
        """The worker changed in a way the read cache cannot follow: read it again next time."""


@dataclass
class UploadExtras:
    """What a step adds to a worker's upload when this plan uploads the worker."""

    secrets: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    # The completion token of the assets uploaded for this upload (None: keep the assets).
    assets_jwt: str | None = None


class ApplyStep:
    """Carries out one kind of action, one worker's actions of a plan group in order."""

    facet: str = ""
    # None: the facet has no actions of its own, only `update` below.
    kind: ResourceKind | None = None

    def __init__(self, context: ApplyContext, plan: Plan) -> None:
        self.context = context

    def upload_extras(self, worker: str) -> UploadExtras:
        return UploadExtras()

    async def prepare_upload(self, worker: str) -> UploadExtras:
        """What the upload needs that takes API calls first (the assets' upload)."""
        return self.upload_extras(worker)

    async def run(self, action: Action) -> None:
        raise NotImplementedError

    async def update(self, action: Action) -> bool:
        """A worker `update` this facet carries out without an upload, when every change is
        its own: True when it did (the worker is then not uploaded)."""
        return False

    def versioned(self, action: Action) -> bool:
        """Whether this facet sends the worker's upload as a version (`send_version`),
        deployed apart, instead of `PUT …/scripts/{name}`."""
        return False

    async def send_version(self, action: Action, upload: WorkerUpload) -> None:
        raise NotImplementedError

    async def finish(self, action: Action) -> None:
        """After a worker's last action of this kind in a plan group has succeeded."""
