"""The applier: carries out a plan's actions, in order, and tells the truth about what happened.

Apply never decides what to do. Actions run group by group in the plan's dependency
order (stores, secrets, workers; deletes reversed); inside a group they run
concurrently within the client's limits. On the first failure nothing new starts,
running actions finish, and the report lists done / failed / not started.

A Worker facet with actions of its own kind (script secrets) carries them out in its
step (`apply_steps/`): one worker's actions of a group run one after the other, the
last one finishes them, and the step may add to the worker's upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Literal, NoReturn

from reconciler.apply_guard import refuse_unsafe
from reconciler.apply_steps import STEPS
from reconciler.apply_steps.base import ApplyStep, UploadExtras
from reconciler.cloudflare.cache import CachedScript, ScriptCache, upload_entry
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.codetag import code_tag, tags_to_write
from reconciler.cloudflare.upload import build_upload
from reconciler.errors import ApiError, ReconcilerError
from reconciler.markers import format_comment, parse_comment
from reconciler.plan.fingerprint import marked_comment
from reconciler.plan.model import Action, Plan, ValuePins
from reconciler.plan.order import action_rank
from reconciler.plan.saved import pinned_value
from reconciler.state import Secret, State

log = logging.getLogger("reconciler.apply")
SecretUpdate = Literal["replace", "patch"]
NOTE_PATCHED = "value written by PATCH (same id)"
NOTE_PATCH_REFUSED = (
    "PATCH with the value was refused (code 1001): deleted and recreated instead (new id)"
)
NOTE_UPDATE_REFUSED = "PATCH was refused (code 1001): deleted and recreated instead (new id)"
Status = Literal["done", "failed", "not_started"]
# A recreate right after a delete may meet the name still being released.
RECREATE_ATTEMPTS = 3
RECREATE_PAUSE_S = 1.0
# A replace as one limiter unit: the delete, the create and the create's first retry.
REPLACE_CALLS = 3


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


class _SecretAbsentError(ReconcilerError):
    def __init__(self, cause: ReconcilerError, *, confirmed: bool) -> None:
        self.cause = cause
        self.confirmed = confirmed
        super().__init__(str(cause))


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
    # Secrets deleted for replacement and not yet recreated: absent right now.
    _absent_now: set[str] = field(default_factory=set)
    # What uploads and deletes taught us, so the next plan skips re-reading those workers.
    _cache_changes: dict[str, CachedScript | None] = field(default_factory=dict)
    # Each facet's own kind of action (`apply_steps/`), made for this run.
    _steps: dict[str, ApplyStep] = field(default_factory=dict)
    # The plan's pins of the values it resolved: a value read again here must match.
    _pins: ValuePins | None = None

    def forget_cached(self, worker: str) -> None:
        self._cache_changes[worker] = None

    async def run(self, plan: Plan) -> ApplyReport:
        refuse_unsafe(plan, self.desired, self.live)
        self._pins = plan.value_pins
        self._store_ids = {s.name: s.id for s in self.live.stores.values() if s.id}
        self._steps = {step.kind: step(self, plan) for step in STEPS}
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
        for _, group in groupby(actions, key=lambda a: action_rank(a)[0]):
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
            except _SecretAbsentError as exc:
                outcome = Outcome(
                    action, "failed", exc.cause, secret_absent=True, absent_confirmed=exc.confirmed
                )
            except ReconcilerError as exc:
                outcome = Outcome(action, "failed", exc)
            except asyncio.CancelledError:
                # Interrupted (Ctrl-C): the report lists it as failed (its outcome is unknown),
                # and a secret caught between delete and create must be named (unconfirmed:
                # the create may have reached the API).
                absent = action.label in self._absent_now
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
            return await self._secret(action)
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

    async def _secret(self, action: Action) -> str:
        assert action.store is not None
        key = (action.store, action.name)
        live = self.live.secrets.get(key)
        store_id = self._store_id(action.store)
        if action.action == "delete":
            assert live is not None and live.id is not None
            await self.client.delete_secret(self.account, store_id, live.id)
            return ""
        desired = self.desired.secrets[key]
        if action.action == "create" or live is None or live.id is None:
            await self._create_secret(store_id, desired)
        elif action.action == "update":
            return await self._update_secret(store_id, desired, live)
        elif self.secret_update == "patch":  # replace, adopt: the value must be (re)written
            if await self._patch_value(store_id, desired, live):
                return NOTE_PATCHED
            await self._recreate(store_id, desired, live.id)
            return NOTE_PATCH_REFUSED
        else:
            await self._recreate(store_id, desired, live.id)
        return ""

    def _comment_and_value(self, secret: Secret) -> tuple[str, str]:
        assert secret.value_from is not None
        value = pinned_value(
            self._pins,
            self.fingerprint_key,
            "secret",
            secret.store,
            secret.name,
            secret.value_from.read(),
        )
        comment = marked_comment(
            self.fingerprint_key, secret.store, secret.name, secret.comment, value
        )
        return comment, value

    async def _create_secret(
        self,
        store_id: str,
        secret: Secret,
        prepared: tuple[str, str] | None = None,
        replacing: str | None = None,
    ) -> None:
        comment, value = prepared or self._comment_and_value(secret)
        await self.client.create_secret(
            self.account,
            store_id,
            name=secret.name,
            value=value,
            scopes=secret.scopes,
            comment=comment,
            replacing=replacing,
        )

    async def _update_secret(self, store_id: str, desired: Secret, live: Secret) -> str:
        """Comment/scopes by PATCH without value or name; on 1001, delete then recreate."""
        assert live.id is not None
        # The value does not change here, so the recorded fingerprint stays as it is: a
        # fingerprint of the manifest's value now would claim a value nobody wrote.
        comment = format_comment(desired.comment, live.fingerprint)
        try:
            await self.client.patch_secret(
                self.account, store_id, live.id, comment=comment, scopes=desired.scopes
            )
        except ApiError as exc:
            if not exc.has_code(1001):
                raise
            await self._recreate(store_id, desired, live.id)
            return NOTE_UPDATE_REFUSED
        return ""

    async def _patch_value(self, store_id: str, desired: Secret, live: Secret) -> bool:
        """Opt-in: PATCH with the value; False when the API refuses it (1001)."""
        assert live.id is not None
        comment, value = self._comment_and_value(desired)
        try:
            await self.client.patch_secret(
                self.account,
                store_id,
                live.id,
                comment=comment,
                scopes=desired.scopes,
                value=value,
            )
        except ApiError as exc:
            if exc.has_code(1001):
                return False
            raise
        return True

    async def _recreate(self, store_id: str, desired: Secret, live_id: str) -> None:
        """Delete then create, back to back; a failed recreate is retried, then reported loudly."""
        prepared = self._comment_and_value(desired)  # read the value before deleting anything
        label = f"{desired.store}/{desired.name}"
        # Budget and a slot for the whole replace are taken before the delete is sent, so
        # the limiter never holds the create back while the secret is absent.
        async with self.client.unit(REPLACE_CALLS):
            await self.client.delete_secret(self.account, store_id, live_id)
            self._absent_now.add(label)
            for attempt in range(RECREATE_ATTEMPTS):
                try:
                    await self._create_secret(store_id, desired, prepared, replacing=live_id)
                    self._absent_now.discard(label)
                    return
                except ReconcilerError as exc:
                    if attempt == RECREATE_ATTEMPTS - 1:
                        await self._raise_absent_or_present(store_id, desired, live_id, exc)
                    await asyncio.sleep(self.recreate_pause_s * (attempt + 1))

    async def _raise_absent_or_present(
        self, store_id: str, desired: Secret, live_id: str, cause: ReconcilerError
    ) -> NoReturn:
        """Say ABSENT only when a fresh read of the account confirms it.

        Another apply running at the same time may have recreated the secret (our create
        then fails on the name): it is not absent, and saying so would be a false alarm.
        """
        label = f"{desired.store}/{desired.name}"
        try:
            present = await self.client.find_secret(
                self.account, store_id, desired.name, excluding=live_id
            )
        except ReconcilerError:
            raise _SecretAbsentError(cause, confirmed=False) from None
        if present is None:
            raise _SecretAbsentError(cause, confirmed=True)
        self._absent_now.discard(label)
        raise ReconcilerError(
            f"{cause}; a secret {label} exists in the account now (id {present.id}, written "
            "by another run?), so it is not absent: run `reconciler plan` to check it"
        ) from None

    # --- workers ---------------------------------------------------------

    async def _worker(self, action: Action) -> None:
        self._cache_changes[action.name] = None
        if action.action == "delete":
            await self.client.delete_script(self.account, action.name)
            return
        worker = self.desired.workers[action.name]
        extras = UploadExtras()
        for step in self._steps.values():
            more = step.upload_extras(worker.name)
            extras.secrets.update(more.secrets)
            extras.annotations.update(more.annotations)
        live = self.live.workers.get(worker.name)
        existing = live.tags if live is not None else ()
        upload = build_upload(
            worker,
            self._store_ids,
            tags=tags_to_write(existing),
            secrets=extras.secrets,
            annotations=extras.annotations,
        )
        result = await self.client.upload_script(self.account, action.name, upload)
        if not worker.secrets and not (live is not None and live.secrets):
            # The cache holds what a settings read returns; an upload's own bindings would
            # carry secret text and miss the secrets it keeps, so those workers are re-read.
            self._cache_changes[action.name] = upload_entry(result, upload, worker.script_digest)
        await self._tag_code(action.name, existing, result.etag, worker.script_digest)

    async def _tag_code(
        self, name: str, existing: tuple[str, ...], etag: str | None, digest: str
    ) -> None:
        """Record the etag our upload left, so a cold plan can skip reading the code.

        Only a saving: when it fails, the next plan reads the code in full.
        """
        tag = code_tag(etag, digest) if etag else None
        tags = tags_to_write(existing, tag)
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
