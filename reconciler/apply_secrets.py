"""Apply for Secrets Store secrets: create, update, and a value rewritten by delete-then-create
(or PATCH first, by opt-in), never leaving a secret silently absent.

A replace is one limiter unit (delete, create and the create's first retry), its value read
before anything is deleted; a failed recreate is retried, then reported as ABSENT only when
a fresh read of the account confirms it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from reconciler.cloudflare.client import CloudflareClient
from reconciler.errors import ApiError, ReconcilerError
from reconciler.markers import format_comment
from reconciler.plan.fingerprint import marked_comment
from reconciler.plan.model import Action, ValuePins
from reconciler.plan.saved import pinned_value
from reconciler.state import Secret, State

SecretUpdate = Literal["replace", "patch"]
NOTE_PATCHED = "value written by PATCH (same id)"
NOTE_PATCH_REFUSED = (
    "PATCH with the value was refused (code 1001): deleted and recreated instead (new id)"
)
NOTE_UPDATE_REFUSED = "PATCH was refused (code 1001): deleted and recreated instead (new id)"
# A recreate right after a delete may meet the name still being released.
RECREATE_ATTEMPTS = 3
RECREATE_PAUSE_S = 1.0
# A replace as one limiter unit: the delete, the create and the create's first retry.
REPLACE_CALLS = 3


class SecretAbsentError(ReconcilerError):
    def __init__(self, cause: ReconcilerError, *, confirmed: bool) -> None:
        self.cause = cause
        self.confirmed = confirmed
        super().__init__(str(cause))


@dataclass
class SecretWrites:
    """The secret actions of one apply run."""

    client: CloudflareClient
    account: str
    desired: State
    live: State
    fingerprint_key: bytes | None
    secret_update: SecretUpdate
    recreate_pause_s: float
    # A store's id by name (stores created by this run included).
    store_id: Callable[[str], str]
    # Secrets deleted for replacement and not yet recreated: absent right now.
    absent_now: set[str] = field(default_factory=set)
    # The plan's pins of the values it resolved: a value read again here must match.
    pins: ValuePins | None = None

    async def run(self, action: Action) -> str:
        """Write one secret action; a note when how it was done differs from the plan."""
        assert action.store is not None
        key = (action.store, action.name)
        live = self.live.secrets.get(key)
        store_id = self.store_id(action.store)
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
            self.pins,
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
            self.absent_now.add(label)
            for attempt in range(RECREATE_ATTEMPTS):
                try:
                    await self._create_secret(store_id, desired, prepared, replacing=live_id)
                    self.absent_now.discard(label)
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
            raise SecretAbsentError(cause, confirmed=False) from None
        if present is None:
            raise SecretAbsentError(cause, confirmed=True)
        self.absent_now.discard(label)
        raise ReconcilerError(
            f"{cause}; a secret {label} exists in the account now (id {present.id}, written "
            "by another run?), so it is not absent: run `reconciler plan` to check it"
        ) from None
