"""Builders for Desired and Live states, so plan tests read like tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from reconciler.plan.fingerprint import fingerprint, worker_secret_fingerprint
from reconciler.state import (
    Binding,
    Module,
    Secret,
    State,
    Store,
    Worker,
    WorkerSecret,
    script_digest,
)
from reconciler.values import ValueSource

KEY = b"test-fingerprint-key"
ACCOUNT = "0123456789abcdef0123456789abcdef"
# Values that must never appear in any rendering; long and distinctive on purpose.
VALUES = {
    "API_KEY": "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "DB_PASSWORD": "correct-horse-battery-staple-4242",
    "TOKEN": "tok_ZXhhbXBsZS1zZWNyZXQtdmFsdWUtMTIz",
}


def env_name(store: str, name: str) -> str:
    return f"RECON_TEST_{store}_{name}".upper().replace("-", "_")


def value_of(name: str) -> str:
    return VALUES.get(name, f"value-of-{name}-7c1d2e3f")


def desired_secret(
    store: str,
    name: str,
    scopes: Iterable[str] = ("workers",),
    comment: str = "",
    *,
    source: ValueSource | None = None,
) -> Secret:
    return Secret(
        store=store,
        name=name,
        scopes=frozenset(scopes),
        comment=comment,
        managed=True,
        value_from=source if source is not None else ValueSource(env=env_name(store, name)),
    )


def live_secret(
    store: str,
    name: str,
    scopes: Iterable[str] = ("workers",),
    comment: str = "",
    *,
    managed: bool = True,
    value: str | None = None,
    fp: str | None = "auto",
) -> Secret:
    """A live secret; by default its recorded fingerprint matches the test value."""
    if fp == "auto":
        fp = fingerprint(KEY, store, name, value or value_of(name)) if managed else None
    return Secret(
        store=store,
        name=name,
        scopes=frozenset(scopes),
        comment=comment,
        managed=managed,
        fingerprint=fp,
        id=f"id-{store}-{name}",
    )


def desired_worker_secret(worker: str, name: str) -> WorkerSecret:
    """A declared script secret whose value comes from env_name(worker, name)."""
    return WorkerSecret(name, value_from=ValueSource(env=env_name(worker, name)))


def live_worker_secret(
    worker: str, name: str, *, value: str | None = None, fp: str | None = "auto"
) -> WorkerSecret:
    """A live script secret; by default the version's record matches the test value."""
    if fp == "auto":
        fp = worker_secret_fingerprint(KEY, worker, name, value or value_of(name))
    return WorkerSecret(name, fingerprint=fp)


def secret_binding(name: str, store: str, secret: str) -> Binding:
    return Binding(name, "secrets_store_secret", {"store": store, "secret": secret})


def worker(
    name: str,
    code: str = "export default {}",
    *,
    bindings: Iterable[Binding] = (),
    date: str | None = "2025-01-01",
    flags: Iterable[str] = (),
    managed: bool = True,
    secrets: Iterable[WorkerSecret] = (),
) -> Worker:
    modules = (Module("index.js", code.encode()),)
    return Worker(
        name=name,
        format="module",
        script_digest=script_digest(modules),
        modules=modules,
        compatibility_date=date,
        compatibility_flags=tuple(flags),
        bindings=tuple(bindings),
        secrets=tuple(sorted(secrets, key=lambda s: s.name)),
        managed=managed,
    )


def state(
    *,
    stores: Iterable[str] = (),
    secrets: Iterable[Secret] = (),
    workers: Iterable[Worker] = (),
    max_stores: int | None = None,
    live: bool = False,
) -> State:
    return State(
        account_id=ACCOUNT,
        stores={s: Store(s, id=f"store-{s}" if live else None) for s in stores},
        secrets={s.key: s for s in secrets},
        workers={w.name: w for w in workers},
        max_stores=max_stores,
    )


def live_state(**kwargs: object) -> State:
    return state(live=True, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def values_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Export a value for every secret name the tests use, in the common stores."""
    names = [*VALUES, "A", "B", "C", "D", "E", "OLD", "NEW"]
    for store in ("app", "other", "default_secrets_store", "s0", "s1", "s2"):
        for name in names:
            monkeypatch.setenv(env_name(store, name), value_of(name))
    yield


@pytest.fixture
def value_file(tmp_path: Path) -> Path:
    path = tmp_path / "value.txt"
    path.write_text(VALUES["DB_PASSWORD"] + "\n")
    return path
