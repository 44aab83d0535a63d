"""The one place a value becomes a URL path segment, checked against the API's shape first.

Ids come from the server (store, secret and script ids in lists) and names from manifests
or flags; any of them may be hostile. Percent-encoding leaves `.` and `..` as they are, and
the HTTP client then removes such dot segments: a secret id `..` turned a secret delete into
a delete of its store. So a value that is not the API's id shape is refused before any
request uses it, in one sentence.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from reconciler.errors import ReconcilerError

Kind = Literal[
    "account id", "store id", "secret id", "worker name", "secret name", "zone id", "route id",
    "domain id",
]  # fmt: skip

# Account, store and secret ids: 32 hex digits (the schema: strings of at most 32; in practice
# 32 hex, which every id our emulator mints is too). Names: what the API accepts for a script
# or a binding, and never a dot segment or a separator.
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_SHAPES: dict[Kind, tuple[re.Pattern[str], str]] = {
    "account id": (_HEX_ID, "32 hexadecimal digits"),
    "store id": (_HEX_ID, "32 hexadecimal digits"),
    "secret id": (_HEX_ID, "32 hexadecimal digits"),
    "zone id": (_HEX_ID, "32 hexadecimal digits"),
    "route id": (_HEX_ID, "32 hexadecimal digits"),
    "domain id": (_HEX_ID, "32 hexadecimal digits"),
    "worker name": (re.compile(r"[A-Za-z0-9_-]{1,255}"), "letters, digits, '-' and '_'"),
    "secret name": (re.compile(r"[A-Za-z0-9_$-]{1,255}"), "letters, digits, '_', '$' and '-'"),
}


class UnsafeIdError(ReconcilerError):
    """An id or name that would not stay one path segment; no request was sent with it."""


def segment(value: str, kind: Kind) -> str:
    """`value` percent-encoded as one path segment, after checking its shape."""
    pattern, shape = _SHAPES[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = repr(value)[:80] if isinstance(value, str) else type(value).__name__
        raise UnsafeIdError(
            f"refusing the {kind} {shown}: it is not the API's shape ({shape}), so it could "
            "aim a request at another path; nothing was sent with it. If it came from the "
            "API, the server (or a proxy) answered wrongly; if you gave it, check it."
        )
    return quote(value, safe="")
