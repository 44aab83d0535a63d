"""The applier: carries out a plan's actions, in order, and tells the truth about what happened.

Apply never decides what to do. Actions run group by group in the plan's dependency
order (stores, secrets, workers; deletes reversed); inside a group they run
concurrently within the client's limits. On the first failure nothing new starts,
running actions finish, and the report lists done / failed / not started.

A Worker facet with actions of its own kind (script secrets) carries them out in its
step (`apply_steps/`): one worker's actions of a group run one after the other, the
last one finishes them, and the step may add to the worker's upload. Secrets Store
secrets are written by `apply_secrets.py`; stores and worker uploads here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Literal

from reconciler.apply_guard import refuse_unsafe
from reconciler.apply_secrets import (
    RECREATE_PAUSE_S,
    REPLACE_CALLS,
    SecretAbsentError,
    SecretUpdate,
    SecretWrites,
)
from reconciler.apply_steps import STEPS
from reconciler.apply_steps.base import ApplyStep, UploadExtras
from reconciler.cloudflare.asset_cache import remember_assets
from reconciler.cloudflare.cache import CachedScript, ScriptCache, upload_entry
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.codetag import assets_tag, code_tag, tags_to_write
from reconciler.cloudflare.upload import build_upload
from reconciler.errors import ApiError, ReconcilerError
from reconciler.markers import parse_comment
from reconciler.plan.model import Action, Plan
from reconciler.plan.order import Layers, action_rank
from reconciler.state import State

__all__ = ["Applier", "ApplyReport", "Outcome", "SecretUpdate", "apply_plan"]

log = logging.getLogger("reconciler.apply")
Status = Literal["done", "failed", "not_started"]


@dataclass
class Outcome:
    action: Action
    status: Status
    error: ReconcilerError | None = None
    # A secret deleted for replacement whose recreate failed: it is absent right now.
    secret_absent: bool = False
    # False when the account could not be read to confirm the absence (or the run was cut).
    absent_confirmed: bool = True
    # How it was done, when that is not what the plan said (a PATCH refused, then recreated).
    note: str = ""


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status == "done" for o in self.outcomes)

    def with_status(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def absent_secrets(self) -> list[str]:
        return [o.action.label for o in self.outcomes if o.secret_absent]


@dataclass
class Applier:
    client: CloudflareClient
    account: str
    desired: State
    live: State
    fingerprint_key: bytes | None = None
    secret_update: SecretUpdate = "replace"
    on_outcome: Callable[[Outcome], None] | None = None
    recreate_pause_s: float = RECREATE_PAUSE_S
    _store_ids: dict[str, str] = field(default_factory=dict)
    _stop: bool = False
    # The Secrets Store secret actions (`apply_secrets.py`).
    _secrets: SecretWrites = field(init=False)
    # What uploads and deletes taught us, so the next plan skips re-reading those workers.
    _cache_changes: dict[str, CachedScript | None] = field(default_factory=dict)
    # Each facet's step (`apply_steps/`), made for this run, and by its own kind of action.
    _all_steps: list[ApplyStep] = field(default_factory=list)
    _steps: dict[str, ApplyStep] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._secrets = SecretWrites(
            self.client,
            self.account,
            self.desired,
            self.live,
            self.fingerprint_key,
            self.secret_update,
            self.recreate_pause_s,
            self._store_id,
        )

    def forget_cached(self, worker: str) -> None:
        self._cache_changes[worker] = None

    async def run(self, plan: Plan) -> ApplyReport:
        refuse_unsafe(plan, self.desired, self.live)
        self._secrets.pins = plan.value_pins
        self._store_ids = {s.name: s.id for s in self.live.stores.values() if s.id}
        self._all_steps = [step(self, plan) for step in STEPS]
        self._steps = {s.kind: s for s in self._all_steps if s.kind is not None}
        report = ApplyReport()
        slots = asyncio.Semaphore(self.client.config.concurrency)
        self.client.limiter.announce(sum(map(action_calls, plan.actions)), "apply")
        swap = store_swap_length(plan.actions)
        if swap:
            # The store swap as one limiter unit: from the first delete to the last secret
            # created in the new store, nothing waits for the budget half-way.
            async with self.client.unit(sum(map(action_calls, plan.actions[:swap]))):
                await self._run_groups(plan.actions[:swap], slots, report)
        await self._run_groups(plan.actions[swap:], slots, report)
        if self._cache_changes:
            cache = ScriptCache.open(self.client.config.cache_dir, self.account)
            cache.record(self.account, self._cache_changes)
        return report

    async def _run_groups(
        self, actions: list[Action], slots: asyncio.Semaphore, report: ApplyReport
    ) -> None:
        layers = Layers.of(self.desired, self.live)
        for _, group in groupby(actions, key=lambda a: action_rank(a, layers)[:2]):
            batch = list(group)
            if self._stop:
                report.outcomes += [self._emit(Outcome(a, "not_started")) for a in batch]
                continue
            if batch[0].kind in self._steps:
                batches = groupby(batch, key=lambda a: a.worker)
                done = await asyncio.gather(
                    *(self._guarded_batch(list(b), slots) for _, b in batches)
                )
                report.outcomes += [o for outcomes in done for o in outcomes]
                continue
            report.outcomes += await asyncio.gather(*(self._guarded(a, slots) for a in batch))

    async def _guarded_batch(
        self, actions: list[Action], slots: asyncio.Semaphore
    ) -> list[Outcome]:
        """One worker's actions of a facet's kind, in order; the last also finishes them."""
        async with slots:
            outcomes = []
            for i, action in enumerate(actions):
                last = i == len(actions) - 1
                outcomes.append(await self._guarded(action, None, record=last))
            return outcomes

    async def _guarded(
        self, action: Action, slots: asyncio.Semaphore | None, *, record: bool = False
    ) -> Outcome:
        async with slots or contextlib.nullcontext():
            if self._stop:
                return self._emit(Outcome(action, "not_started"))
            try:
                note = await self._execute(action)
                if record:
                    await self._steps[action.kind].finish(action)
                outcome = Outcome(action, "done", note=note)
            except SecretAbsentError as exc:
                outcome = Outcome(
                    action, "failed", exc.cause, secret_absent=True, absent_confirmed=exc.confirmed
                )
            except ReconcilerError as exc:
                outcome = Outcome(action, "failed", exc)
            except asyncio.CancelledError:
                # Interrupted (Ctrl-C): the report lists it as failed (its outcome is unknown),
                # and a secret caught between delete and create must be named (unconfirmed:
                # the create may have reached the API).
                absent = action.label in self._secrets.absent_now
                interrupted = ReconcilerError(
                    "interrupted between the delete and the create"
                    if absent
                    else "interrupted while running; the next plan shows whether it took effect"
                )
                self._emit(
                    Outcome(
                        action,
                        "failed",
                        interrupted,
                        secret_absent=absent,
                        absent_confirmed=not absent,
                    )
                )
                raise
            except Exception as exc:  # a bug of ours must still end in the report
                message = f"internal error: {type(exc).__name__}: {exc}"
                outcome = Outcome(action, "failed", ReconcilerError(message))
            if outcome.status == "failed":
                self._stop = True
        return self._emit(outcome)

    def _emit(self, outcome: Outcome) -> Outcome:
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    async def _execute(self, action: Action) -> str:
        """Carry out one action; returns a note when how it was done differs from the plan."""
        if action.kind == "secret":
            return await self._secrets.run(action)
        if action.kind == "store":
            await self._store(action)
        elif action.kind in self._steps:
            await self._steps[action.kind].run(action)
        else:
            await self._worker(action)
        return ""

    # --- stores ----------------------------------------------------------

    async def _store(self, action: Action) -> None:
        if action.action == "create":
            record = await self.client.create_store(self.account, action.name)
            self._store_ids[action.name] = record.id
        elif action.action == "delete":
            await self._delete_store(action.name)
        # adopt: nothing to call; the store is declared from now on.

    async def _delete_store(self, name: str) -> None:
        """The plan deletes a store only with its managed secrets (deleted just before).

        Force only when what is left is ours: a secret someone added since the plan was
        read makes the store not ours any more, and it stays.
        """
        store_id = self._store_id(name)
        try:
            await self.client.delete_store(self.account, store_id, force=False)
            return
        except ApiError as exc:
            if exc.status != 409:
                raise
        left = await self.client.list_secrets(self.account, store_id)
        theirs = sorted(
            r.name for r in left if r.status != "deleted" and not parse_comment(r.comment)[1]
        )
        if theirs:
            raise ReconcilerError(
                f"store {name!r} was not deleted: it now holds secrets reconciler does not "
                f"manage ({', '.join(theirs)}); move or delete them, then run apply again"
            )
        await self.client.delete_store(self.account, store_id, force=True)

    def _store_id(self, name: str) -> str:
        store_id = self._store_ids.get(name)
        if store_id is None:
            raise ReconcilerError(f"store {name!r} has no id: it was not created or read")
        return store_id

    # --- secrets ---------------------------------------------------------

    # --- workers ---------------------------------------------------------

    async def _worker(self, action: Action) -> None:
        self._cache_changes[action.name] = None
        if action.action == "delete":
            await self.client.delete_script(self.account, action.name)
            return
        if action.action == "update":
            for step in self._all_steps:
                if await step.update(action):
                    return
        worker = self.desired.workers[action.name]
        extras = UploadExtras()
        for step in self._all_steps:
            more = await step.prepare_upload(worker.name)
            extras.secrets.update(more.secrets)
            extras.annotations.update(more.annotations)
            extras.assets_jwt = more.assets_jwt or extras.assets_jwt
        live = self.live.workers.get(worker.name)
        existing = live.tags if live is not None else ()
        versioner = next((s for s in self._all_steps if s.versioned(action)), None)
        upload = build_upload(
            worker,
            self._store_ids,
            tags=tags_to_write(existing),
            secrets=extras.secrets,
            annotations=extras.annotations,
            live=live,
            assets_jwt=extras.assets_jwt,
            version=versioner is not None,
        )
        if versioner is not None:
            # A version, deployed by its own action (gradual deployments): the script's
            # listing keeps showing what serves, so neither the cache nor the code tag follow.
            await versioner.send_version(action, upload)
            return
        result = await self.client.upload_script(self.account, action.name, upload)
        if extras.assets_jwt is not None and worker.assets is not None:
            remember_assets(self.client, self.account, worker)
        if not worker.secrets and not (live is not None and live.secrets):
            # The cache holds what a settings read returns; an upload's own bindings would
            # carry secret text and miss the secrets it keeps, so those workers are re-read.
            self._cache_changes[action.name] = upload_entry(result, upload, worker.script_digest)
        await self._tag_code(
            action.name,
            existing,
            result.etag,
            worker.script_digest,
            worker.assets.digest if worker.assets is not None else None,
        )

    async def _tag_code(
        self,
        name: str,
        existing: tuple[str, ...],
        etag: str | None,
        digest: str,
        assets: str | None = None,
    ) -> None:
        """Record the etag our upload left, so a cold plan can skip reading the code (and
        knows which assets it left: nothing lists them).

        Only a saving: when it fails, the next plan reads the code in full (and asks the
        upload session which asset files the account lacks).
        """
        tag = code_tag(etag, digest) if etag else None
        more = assets_tag(etag, assets) if etag and assets else None
        tags = tags_to_write(existing, tag, more)
        if tag is None or tag not in tags:
            return
        try:
            await self.client.set_script_tags(self.account, name, tags)
        except ApiError as exc:
            log.warning("worker %s: the code tag was not written (%s)", name, exc)


def action_calls(action: Action) -> int:
    """API calls an action makes when all goes well, plus a create's first retry."""
    if action.action == "delete":
        return 3 if action.kind == "store" else 1  # a store delete may need list + force
    if action.kind == "worker":
        return 2  # the upload, then the tag recording its etag
    if action.kind == "secret" and action.action in ("replace", "adopt"):
        return REPLACE_CALLS
    return 2 if action.action == "create" else 1


def store_swap_length(actions: list[Action]) -> int:
    """How many leading actions form a store swap (0: none).

    Under the store limit the plan deletes the old store (and its secrets) before it
    creates the new one; the swap runs until the secrets group after the create ends.
    """
    first_create = next(
        (i for i, a in enumerate(actions) if a.kind == "store" and a.action == "create"), None
    )
    if first_create is None or not any(
        a.kind == "store" and a.action == "delete" for a in actions[:first_create]
    ):
        return 0
    end = first_create
    while end < len(actions) and actions[end].kind in ("store", "secret"):
        if actions[end].action == "delete":
            break
        end += 1
    return end


async def apply_plan(
    plan: Plan,
    *,
    client: CloudflareClient,
    desired: State,
    live: State,
    fingerprint_key: bytes | None = None,
    secret_update: SecretUpdate = "replace",
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyReport:
    """Execute the plan's actions; the caller has checked conflicts and staleness."""
    applier = Applier(
        client=client,
        account=plan.account_id,
        desired=desired,
        live=live,
        fingerprint_key=fingerprint_key,
        secret_update=secret_update,
        on_outcome=on_outcome,
    )
    return await applier.run(plan)
