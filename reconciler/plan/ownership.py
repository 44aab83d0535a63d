"""Which live resources are ours. Only these are ever deleted, and only with --prune.

Secrets carry our comment marker and workers our tag (Secret.managed, Worker.managed);
a managed worker's script secrets are ours with it, an unmanaged worker's never are.
Stores cannot carry a marker, so a store counts as ours when it holds at least one
managed secret and no unmanaged ones: deleting it can then never take a user's secret.
"""

from __future__ import annotations

from reconciler.state import State


def store_managed(live: State, store: str) -> bool:
    secrets = live.secrets_in(store)
    return bool(secrets) and all(s.managed for s in secrets)


def store_has_managed_secrets(live: State, store: str) -> bool:
    return any(s.managed for s in live.secrets_in(store))


def managed_count(live: State) -> int:
    """How many live resources we own: the base of the safety threshold."""
    stores = sum(1 for name in live.stores if store_managed(live, name))
    secrets = sum(1 for s in live.secrets.values() if s.managed)
    workers = sum(1 + len(w.secrets) for w in live.workers.values() if w.managed)
    return stores + secrets + workers
