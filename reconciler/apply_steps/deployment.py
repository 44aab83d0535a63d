"""Gradual deployments in apply: a worker with `rollout` is uploaded as a version
(`POST …/versions`, the same assembly as a plain upload, its secrets inherited), then its
`worker_deployment` action deploys the split the plan showed (`POST …/deployments`).

Each version and deployment is annotated: `workers/tag` with our version digest (how the next
plan knows the version without reading its code) and `workers/message` from `rollout.message`,
else the manifests' git commit and subject. A deployment the API refuses because one of its
versions has other secrets than the newest version (10220: a pin past a secret change, or a
split beside a version that writes one) is sent again with `force`: the split is a reviewed
commit. `roll_back` is the same deployment made from the command line (`reconciler rollback`).
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.apply_steps.base import ApplyContext, ApplyStep, UploadExtras
from reconciler.apply_steps.secrets import secrets_record
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.deployment_reads import read_deployment
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.errors import ApiError, ConfigError, ReconcilerError
from reconciler.plan.facets.deployment import (
    NEW,
    migrates,
    show,
    target_split,
    uploading_workers,
)
from reconciler.plan.facets.deployment import pinned as pinned_version
from reconciler.plan.model import Action, Plan
from reconciler.settings_forms import SCRIPT_KEYS
from reconciler.state import ROLLOUT_TAG_PREFIX, LiveDeployment, Worker, rollout_tag

log = logging.getLogger("reconciler.apply")
# What a version leaves to the script (`PATCH …/script-settings`), as the upload names it.
SCRIPT_SETTINGS = ("tags", *SCRIPT_KEYS)
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
            and not migrates(action)
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
        """Upload the version; then the settings that live on the script, which a version
        does not carry (tags with our ownership marker, observability, logpush, tail
        consumers), as the upload's metadata has them, in one `PATCH …/script-settings`."""
        ctx = self.context
        record = await ctx.client.upload_version(ctx.account, action.name, upload)
        self._new[action.name] = record.id
        script = {k: upload.metadata[k] for k in SCRIPT_SETTINGS if k in upload.metadata}
        await ctx.client.patch_script_settings(ctx.account, action.name, script)

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
        await deploy(ctx.client, ctx.account, action.name, sent, notes)


async def deploy(
    client: CloudflareClient,
    account: str,
    worker: str,
    split: list[tuple[str, int]],
    notes: dict[str, str],
) -> bool:
    """POST the deployment; refused because a version of it has other secrets than the
    newest version (10220: a pin past a secret change, or a split beside a version that
    writes one), it is sent again with `force`: the split is a reviewed commit, or an
    emergency rollback. True when it was forced."""
    try:
        await client.create_deployment(account, worker, split, notes)
        return False
    except ApiError as exc:
        if ROLLBACK_PAST_SECRET_CHANGE not in exc.codes:
            raise
    log.warning("worker %s: its secrets changed since that version; deploying with force", worker)
    await client.create_deployment(account, worker, split, notes, force=True)
    return True


@dataclass(frozen=True)
class Rollback:
    """What `reconciler rollback` did: the split before, the version now serving all traffic."""

    worker: str
    before: str
    version_id: str
    number: int
    forced: bool

    @property
    def after(self) -> str:
        return f"v{self.number} 100%"

    def manifest_change(self) -> str:
        """The manifest lines that keep the rollback (else the next apply undoes it)."""
        return f"rollout: {{version: {self.number}}}"


async def roll_back(
    client: CloudflareClient, account: str, worker: str, to: str | None, message: str | None
) -> Rollback:
    """Deploy one version to all traffic: `to` (an id, a number or vN), else the newest
    version older than the one serving the largest share now."""
    live = await read_deployment(client, account, worker)
    if to is not None:
        vid = pinned_version(to, live)
        if vid is None:
            raise ConfigError(
                f"worker '{worker}' has no version {to!r} among its newest "
                f"{len(live.versions)}: name one that `wrangler versions list` shows"
            )
    else:
        vid = previous_version(live)
        if vid is None:
            raise ConfigError(
                f"worker '{worker}' has no version older than the one serving now; "
                "name one with --to"
            )
    number = live.number(vid) or 0
    notes = {"workers/tag": ROLLOUT_TAG_PREFIX.strip(),
             "workers/message": fit(message or f"reconciler rollback to v{number}")}  # fmt: skip
    forced = await deploy(client, account, worker, [(vid, 100)], notes)
    return Rollback(worker, show(live.split, live), vid, number, forced)


def previous_version(live: LiveDeployment) -> str | None:
    """The newest version older than the one serving the largest share whose code and
    bindings differ from it (versions made by a secret change carry its tag and are skipped)."""
    if not live.split:
        return None
    serving = max(live.split, key=lambda s: s[1])[0]
    now = next((v for v in live.versions if v.id == serving), None)
    if now is None:
        return None
    older = [
        v for v in live.versions if v.number < now.number and not (now.tag and v.tag == now.tag)
    ]
    return max(older, key=lambda v: v.number).id if older else None
