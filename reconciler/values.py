"""Secret value sources. A value is read only when needed and never kept longer.

Part of the model: Desired secrets carry a `ValueSource`. The external sources themselves
(sops, AWS, commands) are in `reconciler/manifest/sources/`, one module each; this module
holds the interface they share (`Source`) and one run's cache of them (`Resolution`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import Location, ValueSourceError
from reconciler.file_policy import (
    MAX_VALUE_BYTES,
    MAX_VALUE_FILE_BYTES,
    FileRefusedError,
    read_manifest_file,
)

__all__ = ["MAX_VALUE_BYTES", "Resolution", "Source", "ValueSource", "check_value"]

CONCURRENCY = 8

_TOO_LARGE = f"holds more than {MAX_VALUE_BYTES:,} bytes, the Secrets Store limit"


@dataclass(frozen=True)
class ValueSource:
    """Where a secret's value comes from: an environment variable, a file, or an external
    source (`reconciler/manifest/sources/`: sops, AWS Secrets Manager, a command).

    `root` is the manifest's directory a file must stay inside (None with
    --allow-outside-files); the file policy is checked again each time the value is read.
    External sources resolve through the run's `resolution`, once per run.
    """

    env: str | None = None
    file: Path | None = None
    root: Path | None = None
    external: Source | None = None
    resolution: Resolution | None = field(default=None, compare=False, repr=False)
    where: Location | None = field(default=None, compare=False)

    def describe(self) -> str:
        if self.external is not None:
            return self.external.describe()
        if self.env is not None:
            return f"environment variable {self.env}"
        return f"file {self.file}"

    def available(self) -> bool:
        if self.external is not None:
            return True  # known only by resolving it; a failure is reported by read()
        if self.env is not None:
            return self.env in os.environ
        return self.file is not None and self.file.is_file()

    def read(self) -> str:
        """Return the value; errors name the source, never the value."""
        if self.external is not None:
            resolution = self.resolution or Resolution()
            value = check_value(resolution.raw(self.external), self.describe())
            resolution.remember(value)
            return value
        if self.env is not None:
            raw = _environ_bytes(self.env)
            if raw is None:
                raise ValueSourceError(
                    f"the {self.describe()} is not set; export it before running reconciler"
                )
        else:
            assert self.file is not None
            try:
                raw = read_manifest_file(
                    self.file, root=self.root, limit=MAX_VALUE_FILE_BYTES, too_large=_TOO_LARGE
                )
            except FileRefusedError as exc:
                raise ValueSourceError(f"the {self.describe()} {exc}") from None
            # Files written by editors end with a newline that is not part of the value.
            raw = raw.removesuffix(b"\n").removesuffix(b"\r")
        return check_value(raw, self.describe())


def check_value(raw: bytes, what: str) -> str:
    """Every source's value obeys the same rules: not empty, within the limit, UTF-8."""
    if not raw:
        # An unset CI secret often arrives as an empty variable; never store a blank secret.
        raise ValueSourceError(f"the {what} is empty; a secret needs a value")
    if len(raw) > MAX_VALUE_BYTES:
        raise ValueSourceError(f"the {what} {_TOO_LARGE}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueSourceError(
            f"the {what} is not UTF-8 text (bad byte at offset {exc.start}); a secret value is text"
        ) from None


def _environ_bytes(name: str) -> bytes | None:
    """The variable's bytes as the process got them: os.environ hides bad UTF-8 as surrogates."""
    environb = getattr(os, "environb", None)
    if environb is None:  # Windows: the environment is text already
        value = os.environ.get(name)
        return None if value is None else value.encode("utf-8", "surrogateescape")
    try:
        return environb.get(os.fsencode(name))  # type: ignore[no-any-return]
    except UnicodeError:
        return None


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
