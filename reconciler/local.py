"""`--local`: the built-in emulator in process, so the quick start needs no account and no setup.

Each manifest set gets its own local state, in `.reconciler/` inside the manifest directory
(for a manifest file, its directory): the quick start's `manifests/` and every example keep
apart, whatever the working directory. That directory holds the emulator's database
(`local.db`), the read cache and the fingerprint key (RECONCILER_FINGERPRINT_KEY when set,
else a random key in `local-fingerprint.key`, owner-only, never in git).

The embedded emulator serves the default account plus the account the manifests (or
`--account-id`) name, and each account's store limit is the one the plan is told, so a plan
under `--local` never promises what the emulator would refuse. The zones the manifests'
routes and custom domains name (`zone: example.com`) exist in the planned account, each with
an id derived from its name, so routes and domains can be tried locally too.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler import safewrite
from reconciler.emulator.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    AccountConfig,
    EmulatorConfig,
    TokenConfig,
    ZoneConfig,
)
from reconciler.state import State

STATE_DIR_NAME = ".reconciler"
LOCAL_DIR = Path(STATE_DIR_NAME)
LOCAL_BASE_URL = "http://127.0.0.1/client/v4"
LOCAL_TOKEN = DEFAULT_TOKEN
LOCAL_ACCOUNT_ID = DEFAULT_ACCOUNT_ID
LOCAL_MAX_STORES = 1  # free and standard plans: one store per account
_HEX = frozenset("0123456789abcdef")


def local_zone_id(name: str) -> str:
    """A local zone's id: the same for the same name on every run (routes keep their zone)."""
    return hashlib.sha256(f"reconciler-local-zone:{name}".encode()).hexdigest()[:32]


def zone_names(state: State) -> tuple[str, ...]:
    """The zone names a manifest set's routes and custom domains use."""
    names = {r.zone for w in state.workers.values() for r in w.routes or () if r.zone}
    names |= {d.zone for w in state.workers.values() for d in w.domains or () if d.zone}
    return tuple(sorted(names))


def private_dir(path: Path) -> Path:
    """Create a directory only its owner can enter (cache, local db, key); never a link."""
    return safewrite.private_dir(path)


def state_dir(manifest_paths: Sequence[str]) -> Path:
    """The local state of a manifest set: `.reconciler/` in the (first) manifest directory."""
    if not manifest_paths:
        return LOCAL_DIR
    first = Path(manifest_paths[0])
    return (first if first.is_dir() else first.parent) / STATE_DIR_NAME


LOCAL_DB = "local.db"


def has_local_account(manifest_dir: Path) -> bool:
    """Whether a manifest directory has a local account (`apply --local` made one there)."""
    return (manifest_dir / STATE_DIR_NAME / LOCAL_DB).is_file()


@dataclass(frozen=True)
class LocalEmulator:
    """The embedded emulator of one manifest set: where its state lives, what it serves."""

    directory: Path = LOCAL_DIR
    accounts: tuple[str, ...] = ()
    max_stores: int = LOCAL_MAX_STORES
    zones: tuple[str, ...] = ()

    def config(self) -> EmulatorConfig:
        # Ids that are not account ids are left out: the account check then names them.
        valid = [a for a in self.accounts if len(a) == 32 and set(a) <= _HEX]
        ids = dict.fromkeys([LOCAL_ACCOUNT_ID, *valid])
        # The account a plan resolves to: the manifests' first, else --account-id, else ours.
        planned = valid[0] if valid else LOCAL_ACCOUNT_ID
        return EmulatorConfig(
            accounts=[AccountConfig(id=a, max_stores=self.max_stores) for a in ids],
            tokens=[TokenConfig(token=LOCAL_TOKEN, accounts=list(ids))],
            zones=[ZoneConfig(id=local_zone_id(n), name=n, account=planned) for n in self.zones],
        )

    @property
    def cache_dir(self) -> Path:
        return self.directory / "cache"

    def transport(self) -> httpx.AsyncBaseTransport:
        private_dir(self.directory)
        # Imported here: the emulator (Starlette, sqlite3) costs every run without --local
        # about 60 ms of start-up.
        from reconciler.emulator.app import create_app

        return httpx.ASGITransport(app=create_app(self.config(), str(self.directory / LOCAL_DB)))

    def fingerprint_key(self) -> bytes:
        path = self.directory / "local-fingerprint.key"
        if path.exists():
            return path.read_bytes().strip()
        private_dir(self.directory)
        key = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key
