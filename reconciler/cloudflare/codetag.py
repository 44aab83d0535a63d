"""The tag recording what code our last upload left, so a cold read can skip the code.

Right after an upload we tag the script `reconciler-code-<E>-<D>`: `E` is a short
hash of the `etag` the upload answered, `D` the digest of the code we sent. The
`etag` is the API's hash of the script content, and the workers list returns it, so
while the listed `etag` still hashes to `E` the code is the one we uploaded and its
digest is `D`, without reading it (see docs/cheap-reads.md for what that proves).

Tags are shared with wrangler and the dashboard: theirs are kept; a script holds
at most 8, none with `,` or `&`; when there is no room the code tag is left out,
and a script without it (or with a stale one) is read in full.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from reconciler.markers import WORKER_TAG

CODE_TAG_PREFIX = "reconciler-code-"
MAX_TAGS = 8
_CODE_TAG = re.compile(r"^reconciler-code-(?P<e>[0-9a-f]{16})-(?P<d>[0-9a-f]{64})$")


def _etag_hash(etag: str) -> str:
    return hashlib.sha256(etag.encode()).hexdigest()[:16]


def code_tag(etag: str, digest: str) -> str | None:
    """The tag for an upload that answered `etag`, of code with `digest` ("sha256:<hex>")."""
    algo, _, hexdigest = digest.partition(":")
    tag = f"{CODE_TAG_PREFIX}{_etag_hash(etag)}-{hexdigest}"
    return tag if algo == "sha256" and _CODE_TAG.match(tag) else None


def digest_from_tags(tags: Iterable[str], etag: str | None) -> str | None:
    """The code digest a code tag proves for the listed `etag`, or None."""
    if etag is None:
        return None
    found = [m for m in map(_CODE_TAG.match, tags) if m is not None]
    if len(found) != 1 or found[0].group("e") != _etag_hash(etag):
        return None
    return "sha256:" + found[0].group("d")


def their_tags(tags: Iterable[str]) -> list[str]:
    """Tags set by others (wrangler, the dashboard): kept on every write of ours."""
    return [t for t in tags if t != WORKER_TAG and not t.startswith(CODE_TAG_PREFIX)]


def tags_to_write(existing: Iterable[str], code: str | None = None) -> list[str]:
    """Their tags, our marker, and the code tag when it fits within the limit."""
    ours = [WORKER_TAG] + ([code] if code else [])
    theirs = their_tags(existing)
    if len(theirs) + len(ours) > MAX_TAGS:
        ours = [WORKER_TAG]
    return sorted(set(theirs)) + ours
