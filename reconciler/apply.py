"""The applier: carries out a plan's actions, in order, and tells the truth about what happened.

Apply never decides what to do. Actions run group by group in the plan's dependency
order (stores, secrets, workers; deletes reversed); inside a group they run
concurrently within the client's limits. On the first failure nothing new starts,
running actions finish, and the report lists done / failed / not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Literal

from reconciler.apply_guard import refuse_unsafe
from reconciler.cloudflare.cache import CachedScript, ScriptCache, upload_entry
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.upload import build_upload
from reconciler.errors import ApiError, ReconcilerError
from reconciler.markers import WORKER_TAG, format_comment, parse_comment
from reconciler.plan.fingerprint import marked_comment
from reconciler.plan.model import Action, Plan
from reconciler.plan.order import action_rank
from reconciler.state import Secret, State

SecretUpdate = Literal["replace", "patch"]
Status = Literal["done", "failed", "not_started"]
# A recreate right after a delete may meet the name still being released.
RECREATE_ATTEMPTS = 3
RECREATE_PAUSE_S = 1.0


@dataclass
class Outcome:
    action: Action
    status: Status
    error: ReconcilerError | None = None
    # A secret deleted for replacement whose recreate failed: it is absent right now.
    secret_absent: bool = False


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
    def __init__(self, cause: ReconcilerError) -> None:
        self.cause = cause
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

    async def run(self, plan: Plan) -> ApplyReport:
        refuse_unsafe(plan, self.desired, self.live)
        self._store_ids = {s.name: s.id for s in self.live.stores.values() if s.id}
        report = ApplyReport()
        slots = asyncio.Semaphore(self.client.config.concurrency)
        for _, group in groupby(plan.actions, key=lambda a: action_rank(a)[0]):
            actions = list(group)
            if self._stop:
                report.outcomes += [self._emit(Outcome(a, "not_started")) for a in actions]
                continue
            results = await asyncio.gather(*(self._guarded(a, slots) for a in actions))
            report.outcomes += results
        if self._cache_changes:
            cache = ScriptCache.open(self.client.config.cache_dir, self.account)
            cache.record(self.account, self._cache_changes)
        return report

    async def _guarded(self, action: Action, slots: asyncio.Semaphore) -> Outcome:
        async with slots:
            if self._stop:
                return self._emit(Outcome(action, "not_started"))
            try:
                await self._execute(action)
                outcome = Outcome(action, "done")
            except _SecretAbsentError as exc:
                outcome = Outcome(action, "failed", exc.cause, secret_absent=True)
            except ReconcilerError as exc:
                outcome = Outcome(action, "failed", exc)
            except asyncio.CancelledError:
                # Interrupted (Ctrl-C): the report lists it as failed (its outcome is unknown),
                # and a secret caught between delete and create must be named.
                absent = action.label in self._absent_now
                interrupted = ReconcilerError(
                    "interrupted between the delete and the create"
                    if absent
                    else "interrupted while running; the next plan shows whether it took effect"
                )
                self._emit(Outcome(action, "failed", interrupted, secret_absent=absent))
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

    async def _execute(self, action: Action) -> None:
        if action.kind == "store":
            await self._store(action)
        elif action.kind == "secret":
            await self._secret(action)
        else:
            await self._worker(action)

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

    async def _secret(self, action: Action) -> None:
        assert action.store is not None
        key = (action.store, action.name)
        live = self.live.secrets.get(key)
        store_id = self._store_id(action.store)
        if action.action == "delete":
            assert live is not None and live.id is not None
            await self.client.delete_secret(self.account, store_id, live.id)
            return
        desired = self.desired.secrets[key]
        if action.action == "create" or live is None or live.id is None:
            await self._create_secret(store_id, desired)
        elif action.action == "update":
            await self._update_secret(store_id, desired, live)
        else:  # replace, adopt: the value must be (re)written
            if self.secret_update == "patch" and await self._patch_value(store_id, desired, live):
                return
            await self._recreate(store_id, desired, live.id)

    def _comment_and_value(self, secret: Secret) -> tuple[str, str]:
        assert secret.value_from is not None
        value = secret.value_from.read()
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

    async def _update_secret(self, store_id: str, desired: Secret, live: Secret) -> None:
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
        await self.client.delete_secret(self.account, store_id, live_id)
        self._absent_now.add(label)
        for attempt in range(RECREATE_ATTEMPTS):
            try:
                await self._create_secret(store_id, desired, prepared, replacing=live_id)
                self._absent_now.discard(label)
                return
            except ReconcilerError as exc:
                if attempt == RECREATE_ATTEMPTS - 1:
                    raise _SecretAbsentError(exc) from None
                await asyncio.sleep(self.recreate_pause_s * (attempt + 1))

    # --- workers ---------------------------------------------------------

    async def _worker(self, action: Action) -> None:
        self._cache_changes[action.name] = None
        if action.action == "delete":
            await self.client.delete_script(self.account, action.name)
            return
        worker = self.desired.workers[action.name]
        upload = build_upload(worker, self._store_ids, tags=[WORKER_TAG])
        result = await self.client.upload_script(self.account, action.name, upload)
        self._cache_changes[action.name] = upload_entry(result, upload, worker.script_digest)


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
