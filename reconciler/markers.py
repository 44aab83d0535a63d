"""Ownership markers we write into the account, the only state we keep.

A managed secret's comment ends with ``[reconciler]`` or ``[reconciler fp=<hex>]``
after the user's own text; a managed worker carries the tag ``reconciler-managed``.
A worker version we wrote records its script secrets' fingerprints in its
``workers/message`` annotation: ``[reconciler secrets] API_KEY=<hex> DB_URL=<hex>``.
Stores cannot carry a marker: a store counts as managed when it holds at least
one managed secret and no unmanaged ones.
"""

from __future__ import annotations

import re

WORKER_TAG = "reconciler-managed"
# Version annotations are not carried into versions others make (wrangler secret put,
# deploy, dashboard): a record there vouches only for the version we wrote.
SECRETS_ANNOTATION = "workers/message"
SECRETS_RECORD_MAX_BYTES = 1000  # the API's limit for workers/message
_RECORD_PREFIX = "[reconciler secrets]"
_RECORD_ENTRY = re.compile(r"^(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)=(?P<fp>[0-9a-f]{16,64})$")
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


def format_secrets_record(fingerprints: dict[str, str]) -> str:
    """The annotation text: our prefix, then `NAME=fingerprint` sorted by name."""
    entries = " ".join(f"{name}={fp}" for name, fp in sorted(fingerprints.items()))
    return f"{_RECORD_PREFIX} {entries}".rstrip()


def parse_secrets_record(text: object) -> dict[str, str] | None:
    """Fingerprints by secret name, or None when the text is not a record of ours."""
    if not isinstance(text, str) or not text.startswith(_RECORD_PREFIX):
        return None
    found: dict[str, str] = {}
    for entry in text[len(_RECORD_PREFIX) :].split():
        match = _RECORD_ENTRY.match(entry)
        if match is None:
            return None
        found[match.group("name")] = match.group("fp")
    return found


def secrets_record_fits(names: list[str], fingerprint_chars: int = 16) -> bool:
    """Whether a record of these secrets fits the annotation's byte limit."""
    longest = format_secrets_record({n: "0" * fingerprint_chars for n in names})
    return len(longest.encode("utf-8")) <= SECRETS_RECORD_MAX_BYTES
