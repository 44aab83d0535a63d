"""Secret value sources. A value is read only when needed and never kept longer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ValueSourceError

MAX_VALUE_BYTES = 65_536


@dataclass(frozen=True)
class ValueSource:
    """Where a secret's value comes from: an environment variable or a file."""

    env: str | None = None
    file: Path | None = None

    def describe(self) -> str:
        if self.env is not None:
            return f"environment variable {self.env}"
        return f"file {self.file}"

    def available(self) -> bool:
        if self.env is not None:
            return self.env in os.environ
        return self.file is not None and self.file.is_file()

    def read(self) -> str:
        """Return the value; errors name the source, never the value."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ValueSourceError(
                    f"the {self.describe()} is not set; export it before running reconciler"
                )
        else:
            assert self.file is not None
            try:
                raw = self.file.read_bytes()
            except OSError as exc:
                raise ValueSourceError(
                    f"cannot read the {self.describe()}: {exc.strerror or exc}"
                ) from None
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueSourceError(f"the {self.describe()} is not UTF-8 text") from None
            # Files written by editors end with a newline that is not part of the value.
            value = value.removesuffix("\n").removesuffix("\r")
        if not value:
            # An unset CI secret often arrives as an empty variable; never store a blank secret.
            raise ValueSourceError(f"the {self.describe()} is empty; a secret needs a value")
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise ValueSourceError(
                f"the {self.describe()} holds more than {MAX_VALUE_BYTES:,} bytes, "
                "the Secrets Store limit"
            )
        return value
