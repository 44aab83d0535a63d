"""Static assets in apply: before the worker's upload, the files the account lacks are
uploaded (`cloudflare/assets_upload.py`) and the completion token rides in the upload; when
the assets are what the account holds already, the upload keeps them (`keep_assets`)."""

from __future__ import annotations

from reconciler.apply_steps.base import ApplyStep, UploadExtras
from reconciler.cloudflare.assets_upload import upload_assets


class AssetsStep(ApplyStep):
    facet = "assets"

    async def prepare_upload(self, worker: str) -> UploadExtras:
        desired = self.context.desired.workers[worker].assets
        if desired is None:
            return UploadExtras()
        live = self.context.live.workers.get(worker)
        live_assets = live.assets if live is not None else None
        if live_assets is not None and live_assets.digest == desired.digest:
            return UploadExtras()
        jwt = await upload_assets(self.context.client, self.context.account, worker, desired)
        return UploadExtras(assets_jwt=jwt)
