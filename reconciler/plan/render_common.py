"""What every renderer says the same way: symbols, wording, value formatting, the summary line.

Secret values never reach a renderer (the plan holds none), and a change to the
`value` field is still always shown as "(sensitive)", whatever it carries.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import ACTION_TYPES, SENSITIVE, Action, Change, Plan
from reconciler.untrusted import printable
from reconciler.words import count

SYMBOLS: dict[str, str] = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "adopt": "<=",
}
STYLES: dict[str, str] = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "adopt": "cyan",
}
NONE = "(none)"
# Asset changes: the counts in words, then the paths (a long list is cut short in text).
ASSET_FILES = "assets.files"
ASSET_PATHS = ("assets.changed", "assets.added", "assets.removed", "assets.to_upload")
MAX_PATHS_SHOWN = 20
_DIGEST_PREFIX = "sha256:"
_SHORT_DIGEST = len(_DIGEST_PREFIX) + 12


def short_digest(digest: str) -> str:
    """Digests are long; twelve hex digits tell them apart in a review."""
    if digest.startswith(_DIGEST_PREFIX) and len(digest) > _SHORT_DIGEST:
        return digest[:_SHORT_DIGEST] + "…"
    return digest


def format_value(field: str, value: Any) -> str:
    """One side of a change, for people: one line, control characters escaped."""
    return printable(_format_value(field, value))


def _format_value(field: str, value: Any) -> str:
    if value is None:
        return NONE
    if field == "value":
        return SENSITIVE
    if field in ("script", "assets") and isinstance(value, str):
        return short_digest(value)
    if field == ASSET_FILES and isinstance(value, str):
        return value  # a sentence: "3 changed, 1 added, 0 removed of 1,204 files"
    if field in ASSET_PATHS and isinstance(value, list) and len(value) > MAX_PATHS_SHOWN:
        more = len(value) - MAX_PATHS_SHOWN
        shown = ", ".join(str(v) for v in value[:MAX_PATHS_SHOWN])
        return f"[{shown}, … and {more:,} more (all in --format json)]"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        rest = " ".join(
            f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
            for k, v in value.items()
            if k not in ("name", "type")
        )
        # A binding leads with its type; other mappings (a migration step, settings) are
        # their fields.
        return f"{value['type']} {rest}".strip() if "type" in value else rest or "{}"
    if isinstance(value, str | bool):
        return json.dumps(value, ensure_ascii=False)  # bools as YAML spells them: true/false
    return str(value)


def format_change(change: Change) -> tuple[str, str]:
    """(before, after) for people; a new resource shows only its after side."""
    return format_value(change.field, change.before), format_value(change.field, change.after)


def describe(action: Action) -> str:
    """`create secret app/API_KEY`."""
    return f"{action.action} {action.kind} {printable(action.label)}"


def summary_line(plan: Plan, *, drift: bool = False) -> str:
    """`Plan: 2 to create, ...; 5 unchanged.`, or `No changes. 5 unchanged.`"""
    counts = plan.summary
    unchanged = f"{counts['no_op']} unchanged"
    if not plan.has_changes:
        return f"{'In sync' if drift else 'No changes'}. {unchanged}."
    parts = ", ".join(f"{counts[a]} to {a}" for a in ACTION_TYPES)
    return f"{'Drift detected' if drift else 'Plan'}: {parts}; {unchanged}."


def headline(plan: Plan, *, drift: bool = False) -> str:
    if drift:
        if plan.has_changes:
            return "Drift detected"
        if plan.unmanaged:
            # `drift --fail-on unmanaged` exits 2 here: the headline must not read as all clear.
            return f"In sync, but {count(len(plan.unmanaged), 'unmanaged resource')} found"
        return "In sync"
    return "Plan has conflicts" if plan.conflicts else "Plan"
