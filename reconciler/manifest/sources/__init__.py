"""Value sources beyond env and file: one small module per source, one interface for all.

A source says what it is (`describe`, for messages: never a value), what it shares with other
secrets (`load_key`: one sops file is decrypted once for all its keys, one AWS secret fetched
once for all its JSON keys), how to load that (`load`, the slow part: a program or a network
call) and how to take this secret's value from it (`pick`). A `Resolution` is one run's cache:
each load happens at most once per run, loads run concurrently when prefetched, and errors
are kept like values so one failing file is reported for each secret, asked once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from reconciler.errors import ValueSourceError

CONCURRENCY = 8


class Source(Protocol):
    """One external value source of one secret (frozen, hashable)."""

    def describe(self) -> str:
        """What the source is, for messages: "sops file x.enc.yaml, key a.b". Never a value."""
        ...

    def load_key(self) -> Hashable:
        """Sources with the same key share one load per run."""
        ...

    def load(self, masks: frozenset[str]) -> Any:
        """The slow part; raises ValueSourceError naming the source (never a value), with
        any program output masked with `masks` (the values resolved so far)."""
        ...

    def pick(self, loaded: Any) -> bytes:
        """This secret's value out of what `load` returned; raises ValueSourceError."""
        ...


class Resolution:
    """One run's resolved sources: loaded once each, kept only in memory for the run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._loaded: dict[Hashable, tuple[Any, ValueSourceError | None]] = {}
        self._values: set[str] = set()
        self.loads = 0  # how many loads ran (tests: a no-change plan loads nothing it need not)

    def masks(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)

    def remember(self, value: str) -> None:
        with self._lock:
            self._values.add(value)

    def _load(self, source: Source) -> Any:
        key = source.load_key()
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._loaded:
                with self._lock:
                    self.loads += 1
                try:
                    self._loaded[key] = (source.load(self.masks()), None)
                except ValueSourceError as exc:
                    self._loaded[key] = (None, exc)
            loaded, error = self._loaded[key]
        if error is not None:
            raise ValueSourceError(str(error))
        return loaded

    def raw(self, source: Source) -> bytes:
        return source.pick(self._load(source))

    def prefetch(self, sources: Iterable[Source]) -> None:
        """Load every distinct source concurrently; errors wait for the secret that asks."""
        distinct = {s.load_key(): s for s in sources}
        if len(distinct) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(distinct))) as pool:
            list(pool.map(self._load_quietly, distinct.values()))

    def _load_quietly(self, source: Source) -> None:
        with contextlib.suppress(ValueSourceError):
            self._load(source)
