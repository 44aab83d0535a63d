"""Secret value sources. A value is read only when needed and never kept longer."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import Location, ValueSourceError
from reconciler.manifest.files import (
    MAX_VALUE_BYTES,
    MAX_VALUE_FILE_BYTES,
    FileRefusedError,
    read_manifest_file,
)
from reconciler.manifest.sources import Resolution, Source

__all__ = ["MAX_VALUE_BYTES", "ValueSource", "check_value"]

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
