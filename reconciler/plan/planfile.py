"""Saved plans (`plan --out`, `apply --plan`): the JSON rendering on disk, read back strictly.

A plan file holds no secret values: only names, field changes, reasons and digests.
It is hostile input (a CI artifact someone else may have written): it is read as a
regular file, with its size and nesting depth bounded, and then only compared with a
fresh plan (reconciler/plan/saved.py), never executed.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from reconciler import safewrite
from reconciler.errors import ConfigError
from reconciler.file_policy import FileRefusedError, read_manifest_file
from reconciler.plan.model import Plan
from reconciler.plan.render_json import render_json

# A plan of 10,000 resources is a few MiB; far past that, the file is not one of ours.
MAX_PLAN_BYTES = 64 * 1024 * 1024
# Our plans nest 6 deep (plan, actions, action, changes, change, binding object, its values).
MAX_PLAN_DEPTH = 32


def write_plan(plan: Plan, path: Path, *, options: Mapping[str, object] | None = None) -> None:
    """Write atomically, so an interrupted run never leaves half a plan for apply to read.

    `options` as for render_json: `drift --out` writes the drift report (drift's options)."""
    path = Path(path)
    if path.is_dir():
        example = path / "plan.json"
        raise ConfigError(
            f"cannot write plan file {path}: it is a directory; name a file, e.g. {example}"
        )
    try:
        # A temporary file renamed into place, never through a link named like the plan.
        safewrite.write_file(
            path.parent,
            PurePosixPath(path.name),
            render_json(plan, options=options).encode(),
            mode=0o600,
        )
    except OSError as exc:
        raise ConfigError(f"cannot write plan file {path}: {exc.strerror or exc}") from None


def read_plan(path: Path) -> Plan:
    """The saved plan; a missing, unreadable, oversized or malformed file is a ConfigError."""
    raw = _read_bounded(Path(path))
    try:
        doc = loads_strict(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, StrictJsonError) as exc:
        raise ConfigError(f"plan file {path} is not JSON: {exc}") from None
    except RecursionError:
        doc = None
    if doc is None or _too_deep(doc):
        raise ConfigError(
            f"plan file {path} is not a reconciler plan: it nests deeper than "
            f"{MAX_PLAN_DEPTH} levels"
        )
    try:
        if not isinstance(doc, dict):
            raise TypeError("the document is not an object")
        return Plan.from_dict(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"plan file {path} is not a reconciler plan: {exc}") from None


class StrictJsonError(ValueError):
    """JSON that Python's parser takes but a plan never holds."""


def loads_strict(text: str) -> Any:
    """`json.loads` refusing what a plan we wrote never holds: NaN and Infinity (also as an
    overflowing float), a key twice in one object (which copy would win is the parser's
    choice, not the reviewer's), and numbers past the interpreter's digit limit."""
    try:
        return json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except ValueError as exc:
        if isinstance(exc, (json.JSONDecodeError, StrictJsonError)):
            raise
        # int() past sys.get_int_max_str_digits() (CVE-2020-10735 guard).
        raise StrictJsonError(
            f"a number has more than {sys.get_int_max_str_digits()} digits"
        ) from None


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"{text[:20]} is too large for a number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJsonError(f"the key {key[:60]!r} appears twice in one object")
        out[key] = value
    return out


def _read_bounded(path: Path) -> bytes:
    """A regular file of at most MAX_PLAN_BYTES, read as the files manifests name are."""
    too_large = (
        f"is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB: it is not a plan reconciler wrote"
    )
    try:
        return read_manifest_file(path, root=None, limit=MAX_PLAN_BYTES, too_large=too_large)
    except FileRefusedError as exc:
        raise ConfigError(f"cannot read plan file {path}: it {exc}") from None


def _too_deep(doc: Any) -> bool:
    """Walk the parsed document without recursion; True past MAX_PLAN_DEPTH."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_PLAN_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False
