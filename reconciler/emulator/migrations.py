"""Durable Object migrations sent with an upload (§4.4, N13): the tag precondition.

The metadata's `migrations` is one step `{old_tag, new_tag, new_classes, ...}` or
`{old_tag, new_tag, steps: [...]}`. `old_tag` must be the script's live `migration_tag`
(absent when none has run), else the API answers 10079 "Migration tag precondition failed;
current tag is v1" (the real answer, quoted in cloudflare/workers-sdk issue #705).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.bindings import invalid
from reconciler.emulator.envelope import ApiFailure
from reconciler.openapi.bindings import check_shape

PRECONDITION_FAILED = 10079


def next_tag(current: str | None, raw: Any) -> str | None:
    """The script's migration tag after this upload (unchanged when it carries none)."""
    if raw is None:
        return current
    if not isinstance(raw, dict):
        raise invalid("metadata.migrations must be an object")
    for name in ("old_tag", "new_tag"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise invalid(f"migrations.{name} must be a string")
    steps = raw.get("steps")
    if steps is not None:
        if not isinstance(steps, list):
            raise invalid("migrations.steps must be an array")
        issues = [
            i
            for n, s in enumerate(steps)
            for i in check_shape(s, "workers_migration_step", ("steps", n))
        ]
    else:
        issues = check_shape(raw, "workers_migration_step", ("migrations",))
    if issues:
        raise invalid(f"migrations: {issues[0].message}")
    old = raw.get("old_tag")
    if old != current:
        raise ApiFailure(
            400,
            PRECONDITION_FAILED,
            f"Migration tag precondition failed; current tag is {current or '(none)'}",
        )
    new = raw.get("new_tag")
    return new if isinstance(new, str) and new else current
