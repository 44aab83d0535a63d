"""Gradual deployments in apply: a worker with `rollout` is uploaded as a version
(`POST …/versions`, the same assembly as a plain upload, its secrets inherited), then its
`worker_deployment` action deploys the split the plan showed (`POST …/deployments`).

Each version and deployment is annotated: `workers/tag` with our version digest (how the next
plan knows the version without reading its code) and `workers/message` from `rollout.message`,
else the manifests' git commit and subject. A pin deployed past a secret change is refused
by the API (10220) and sent again with `force`: the pin is a reviewed commit.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from reconciler.apply_steps.base import ApplyContext, ApplyStep, UploadExtras
from reconciler.apply_steps.secrets import secrets_record
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.errors import ApiError, ReconcilerError
from reconciler.plan.facets.deployment import NEW, target_split, uploading_workers
from reconciler.plan.model import Action, Plan
from reconciler.state import ROLLOUT_TAG_PREFIX, Worker, rollout_tag

log = logging.getLogger("reconciler.apply")
MESSAGE_LIMIT = 1000  # bytes, the API's workers/message limit
ROLLBACK_PAST_SECRET_CHANGE = 10220


def default_message(worker: Worker) -> str:
    """`<commit> <subject>` of the git checkout holding the worker's manifest ("" if none)."""
    if worker.location is None:
        return ""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %s"],
            cwd=Path(worker.location.file).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def fit(message: str) -> str:
    return message.encode()[:MESSAGE_LIMIT].decode("utf-8", "ignore")


def version_annotations(worker: Worker) -> dict[str, str]:
    rollout = worker.rollout
    message = rollout.message if rollout and rollout.message is not None else None
    if message is None:
        message = default_message(worker)
    tag = rollout_tag(worker) if rollout and rollout.version is None else ROLLOUT_TAG_PREFIX
    out = {"workers/tag": tag.strip()}
    if message:
        out["workers/message"] = fit(message)
    return out


class DeploymentStep(ApplyStep):
    facet = "deployment"
    kind = "worker_deployment"

    def __init__(self, context: ApplyContext, plan: Plan) -> None:
        super().__init__(context, plan)
        self._uploading = uploading_workers(plan.actions)
        # The version each worker's upload made in this run.
        self._new: dict[str, str] = {}

    def versioned(self, action: Action) -> bool:
        """Whether this worker's upload is a version (deployed by its own action)."""
        want = self.context.desired.workers.get(action.name)
        live = self.context.live.workers.get(action.name)
        return (
            want is not None
            and want.rollout is not None
            and live is not None
            and live.deployment is not None
            and action.action in ("update", "adopt")
        )

    def upload_extras(self, worker: str) -> UploadExtras:
        """The version's annotations; its workers/message is the secrets' fingerprint record
        when it carries one (the message then goes on the deployment only)."""
        want = self.context.desired.workers.get(worker)
        if want is None or want.rollout is None:
            return UploadExtras()
        notes = version_annotations(want)
        if secrets_record(self.context, worker, {}) is not None:
            notes.pop("workers/message", None)
        return UploadExtras(annotations=notes)

    async def send_version(self, action: Action, upload: WorkerUpload) -> None:
        ctx = self.context
        record = await ctx.client.upload_version(ctx.account, action.name, upload)
        self._new[action.name] = record.id

    async def run(self, action: Action) -> None:
        ctx = self.context
        want = ctx.desired.workers[action.name]
        live = ctx.live.workers[action.name]
        assert live.deployment is not None
        split = target_split(want, live.deployment, action.name in self._uploading)
        if split is None:
            raise ReconcilerError(f"worker '{action.name}': the pinned version is gone")
        sent: list[tuple[str, int]] = []
        for vid, share in split:
            if vid == NEW:
                vid = self._new.get(action.name, "")
                if not vid:
                    raise ReconcilerError(
                        f"worker '{action.name}': its new version was not uploaded, so it "
                        "was not deployed; run plan and apply again"
                    )
            sent.append((vid, round(share)))
        notes = version_annotations(want)
        ctx.forget_cached(action.name)
        try:
            await ctx.client.create_deployment(ctx.account, action.name, sent, notes)
        except ApiError as exc:
            if ROLLBACK_PAST_SECRET_CHANGE not in exc.codes or want.rollout is None:
                raise
            log.warning(
                "worker %s: its secrets changed since that version; deploying with force",
                action.name,
            )
            await ctx.client.create_deployment(ctx.account, action.name, sent, notes, force=True)
