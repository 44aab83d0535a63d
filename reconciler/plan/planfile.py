"""Saved plans (`plan --out`, `apply --plan`): the JSON rendering on disk, read back strictly.

A plan file holds no secret values: only names, field changes, reasons and digests.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.plan.model import Plan
from reconciler.plan.render_json import render_json


def write_plan(plan: Plan, path: Path) -> None:
    """Write atomically, so an interrupted run never leaves half a plan for apply to read."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write plan file {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_json(plan))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_plan(path: Path) -> Plan:
    """The saved plan; a missing, unreadable or malformed file is a ConfigError naming it."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"plan file {path} is not JSON: {exc}") from None
    try:
        if not isinstance(doc, dict):
            raise TypeError("the document is not an object")
        return Plan.from_dict(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"plan file {path} is not a reconciler plan: {exc}") from None
