"""The steps every command shares: connect, pick the account, read live state, plan, apply.

The CLI parses flags and renders; this module wires manifests, client, reader,
planner and applier together in the one direction the design allows.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import local
from reconciler.apply import ApplyReport, Outcome, SecretUpdate, apply_plan
from reconciler.cloudflare.accounts import resolve_account
from reconciler.cloudflare.asset_reads import read_asset_states
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ACCOUNT_VAR, TOKEN_VAR, ClientConfig, Timeouts
from reconciler.cloudflare.facets.triggers import TriggerNeeds
from reconciler.cloudflare.reader import read_live
from reconciler.errors import ConfigError, StalePlanError
from reconciler.local import LOCAL_DIR, LocalEmulator
from reconciler.manifest.merge import ManifestSet
from reconciler.plan.diff import check_replace, compute_plan
from reconciler.plan.fingerprint import load_key
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.saved import check_saved_plan, check_stale
from reconciler.state import State, Worker

if TYPE_CHECKING:
    from reconciler.export import Export

MAX_STORES_VAR = "RECONCILER_MAX_STORES"


@dataclass(frozen=True)
class Connection:
    """How to reach the account: flags and environment, or the built-in emulator."""

    local: bool = False
    account_id: str | None = None
    api_base_url: str | None = None
    concurrency: int | None = None
    rate_limit: int | None = None
    no_cache: bool = False
    max_stores: int | None = None
    timeout_s: float | None = None
    max_wait_s: float | None = None
    # --local only: where the embedded emulator keeps its state, and the accounts it serves.
    local_dir: Path = LOCAL_DIR
    local_accounts: tuple[str, ...] = ()
    local_zones: tuple[str, ...] = ()

    def client_config(self) -> ClientConfig:
        """One path for both: the environment (or the emulator's fixed token), flags on top."""
        config = ClientConfig.from_env(
            {TOKEN_VAR: local.LOCAL_TOKEN} if self.local else None,
            base_url=local.LOCAL_BASE_URL if self.local else self.api_base_url,
            concurrency=self.concurrency,
            rate_limit=self.rate_limit,
            no_cache=self.no_cache,
            max_wait_s=self.max_wait_s,
            cache_dir=self.local_emulator().cache_dir if self.local else None,
        )
        if config.cache_dir is not None:
            local.private_dir(config.cache_dir.parent)
        changes: dict[str, Any] = {}
        if self.local:
            changes["transport"] = self.local_emulator().transport()
            changes["base_url_source"] = "--local"
        if self.timeout_s is not None:
            changes["timeouts"] = Timeouts.uniform(self.timeout_s)
        return dataclasses.replace(config, **changes)

    def for_manifests(
        self, paths: Sequence[str], manifest_account: str | None, zones: Sequence[str] = ()
    ) -> Connection:
        """Under --local, the embedded emulator of this manifest set: its state, its accounts,
        the zones its routes and domains name."""
        return dataclasses.replace(
            self,
            local_dir=local.state_dir(paths),
            local_accounts=tuple(a for a in (manifest_account, self.account_id) if a),
            local_zones=tuple(zones),
        )

    def local_emulator(self) -> LocalEmulator:
        """The embedded emulator; its store limit is the one the plan uses."""
        limit = self.store_limit()
        return LocalEmulator(
            directory=self.local_dir,
            accounts=self.local_accounts,
            max_stores=local.LOCAL_MAX_STORES if limit is None else limit,
            zones=self.local_zones,
        )

    def store_limit(self) -> int | None:
        if self.max_stores is not None:
            return self.max_stores
        raw = os.environ.get(MAX_STORES_VAR)
        if not raw:
            return local.LOCAL_MAX_STORES if self.local else None
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{MAX_STORES_VAR} must be a whole number, got {raw!r}") from None

    def fingerprint_key(self) -> bytes | None:
        key = load_key()
        if key is None and self.local:
            return self.local_emulator().fingerprint_key()
        return key


@dataclass
class Session:
    """An open client bound to one resolved account."""

    client: CloudflareClient
    account: str
    connection: Connection

    async def read(
        self, needs: TriggerNeeds | None = None, rollouts: dict[str, Worker] | None = None
    ) -> State:
        """The account; `needs`: the trigger keys to read (none unless a manifest sets one);
        `rollouts`: the workers whose deployments to read (those setting `rollout`)."""
        return await read_live(
            self.client,
            self.account,
            max_stores=self.connection.store_limit(),
            needs=needs,
            rollouts=rollouts,
        )

    async def read_all(self) -> State:
        """The account with every worker's triggers, in every zone: what export writes."""
        return await self.read(TriggerNeeds.everything())

    async def plan(
        self, manifests: ManifestSet, options: PlanOptions, *, pin_salt: str | None = None
    ) -> tuple[Plan, State]:
        desired = manifests.state
        live = await self.read(TriggerNeeds.of(desired.workers.values()), desired.rollouts())
        await read_asset_states(self.client, self.account, live, desired)
        plan = compute_plan(
            manifests.state,
            live,
            options=options,
            fingerprint_key=self.connection.fingerprint_key(),
            manifest_digest=manifests.digest,
            pin_salt=pin_salt,
        )
        return plan, live

    async def check_saved_plan(self, saved: Plan, manifests: ManifestSet) -> tuple[Plan, State]:
        """The fresh plan to run in place of a saved one, after checking they are equal.

        The file's actions are never run: the plan is recomputed from the manifests and the
        account with the file's options, and refused (StalePlanError, nothing changed) when
        it differs from the file in any way apply would act on. One read, as a plain apply.
        """
        check_stale(saved, account=self.account, manifest_digest=manifests.digest)
        try:
            check_replace(manifests.state, saved.options.replace)
        except ConfigError as exc:
            raise StalePlanError(
                f"the plan file's options cannot be planned ({exc}); nothing was changed"
            ) from None
        # Pinned with the file's salt, so the values it resolves compare with the file's pins.
        salt = saved.value_pins.salt if saved.value_pins is not None else None
        fresh, live = await self.plan(manifests, saved.options, pin_salt=salt)
        check_saved_plan(saved, fresh)
        return fresh, live

    async def apply(
        self,
        plan: Plan,
        manifests: ManifestSet,
        live: State,
        *,
        secret_update: SecretUpdate,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> ApplyReport:
        plan.raise_if_conflicts()
        return await apply_plan(
            plan,
            client=self.client,
            desired=manifests.state,
            live=live,
            fingerprint_key=self.connection.fingerprint_key(),
            secret_update=secret_update,
            on_outcome=on_outcome,
        )


@asynccontextmanager
async def open_session(
    connection: Connection, manifest_account: str | None
) -> AsyncIterator[Session]:
    async with CloudflareClient(connection.client_config()) as client:
        if connection.local:
            account = await resolve_account(
                client,
                manifest_account=manifest_account,
                flag_account=connection.account_id,
                env_account=local.LOCAL_ACCOUNT_ID,
            )
        else:
            account = await resolve_account(
                client,
                manifest_account=manifest_account,
                flag_account=connection.account_id,
                env_account=os.environ.get(ACCOUNT_VAR),
            )
        yield Session(client, account, connection)


async def export_live(connection: Connection) -> Export:
    """Read the account and turn it into manifests (`reconciler export`, the MCP export tool)."""
    # Imported here: only export needs it (start-up of every other command).
    from reconciler.export import export_account

    async with open_session(connection, None) as session:
        return await export_account(session.client, session.account, await session.read_all())
