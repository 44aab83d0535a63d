"""`value_from: {command: [op, read, "op://vault/item/field"]}`: a program's standard output.

Refused unless the run is given --allow-commands (checked when the manifests are loaded): a
plan on a pull request would otherwise run whatever the pull request's manifests name. The
program runs without a shell, with a deadline and an output cap; one trailing newline is
dropped, as for files.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from reconciler.file_policy import MAX_VALUE_FILE_BYTES
from reconciler.manifest.sources.program import run_program

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class CommandSource:
    argv: tuple[str, ...]
    where: str

    def describe(self) -> str:
        shown = shlex.join(self.argv)
        if len(shown) > 80:
            shown = shown[:79] + "…"
        return f"command `{shown}` ({self.where})"

    def load_key(self) -> tuple[str, tuple[str, ...]]:
        return ("command", self.argv)

    def load(self, masks: frozenset[str]) -> bytes:
        return run_program(
            self.argv,
            what=self.describe(),
            timeout_s=TIMEOUT_S,
            max_output=MAX_VALUE_FILE_BYTES,
            masks=masks,
        )

    def pick(self, loaded: bytes) -> bytes:
        return loaded.removesuffix(b"\n").removesuffix(b"\r")
