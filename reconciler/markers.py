"""Ownership markers we write into the account, the only state we keep.

A managed secret's comment ends with ``[reconciler]`` or ``[reconciler fp=<hex>]``
after the user's own text; a managed worker carries the tag ``reconciler-managed``.
Stores cannot carry a marker: a store counts as managed when it holds at least
one managed secret and no unmanaged ones.
"""

from __future__ import annotations

import re

WORKER_TAG = "reconciler-managed"
_MARKER = re.compile(r"\s*\[reconciler(?: fp=(?P<fp>[0-9a-f]{16,64}))?\]\s*$")


def format_comment(user_comment: str, fingerprint: str | None) -> str:
    """The comment we write: the user's text, then our marker."""
    marker = f"[reconciler fp={fingerprint}]" if fingerprint else "[reconciler]"
    return f"{user_comment} {marker}" if user_comment else marker


def parse_comment(comment: str | None) -> tuple[str, bool, str | None]:
    """Split a live comment into (user text, managed, fingerprint)."""
    text = comment or ""
    match = _MARKER.search(text)
    if match is None:
        return text, False, None
    return text[: match.start()], True, match.group("fp")
