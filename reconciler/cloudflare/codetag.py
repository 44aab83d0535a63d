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
# The same for static assets: the digest of the asset files, rules, binding and config our
# upload sent (`state.assets_digest`), valid while the listed etag is the upload's.
ASSETS_TAG_PREFIX = "reconciler-assets-"
MAX_TAGS = 8
_CODE_TAG = re.compile(r"^reconciler-code-(?P<e>[0-9a-f]{16})-(?P<d>[0-9a-f]{64})$")
_ASSETS_TAG = re.compile(r"^reconciler-assets-(?P<e>[0-9a-f]{16})-(?P<d>[0-9a-f]{64})$")


def _etag_hash(etag: str) -> str:
    return hashlib.sha256(etag.encode()).hexdigest()[:16]


def code_tag(etag: str, digest: str) -> str | None:
    """The tag for an upload that answered `etag`, of code with `digest` ("sha256:<hex>")."""
    algo, _, hexdigest = digest.partition(":")
    tag = f"{CODE_TAG_PREFIX}{_etag_hash(etag)}-{hexdigest}"
    return tag if algo == "sha256" and _CODE_TAG.match(tag) else None


def assets_tag(etag: str, digest: str) -> str | None:
    """The tag for an upload that answered `etag`, with assets of `digest` ("sha256:<hex>")."""
    algo, _, hexdigest = digest.partition(":")
    tag = f"{ASSETS_TAG_PREFIX}{_etag_hash(etag)}-{hexdigest}"
    return tag if algo == "sha256" and _ASSETS_TAG.match(tag) else None


def assets_digest_from_tags(tags: Iterable[str], etag: str | None) -> str | None:
    """The assets digest an assets tag proves for the listed `etag`, or None."""
    return digest_from_tags(tags, etag, _ASSETS_TAG)


def digest_from_tags(
    tags: Iterable[str], etag: str | None, pattern: re.Pattern[str] = _CODE_TAG
) -> str | None:
    """The code digest a code tag proves for the listed `etag`, or None."""
    if etag is None:
        return None
    found = [m for m in map(pattern.match, tags) if m is not None]
    if len(found) != 1 or found[0].group("e") != _etag_hash(etag):
        return None
    return "sha256:" + found[0].group("d")


def their_tags(tags: Iterable[str]) -> list[str]:
    """Tags set by others (wrangler, the dashboard): kept on every write of ours."""
    return [
        t
        for t in tags
        if t != WORKER_TAG and not t.startswith((CODE_TAG_PREFIX, ASSETS_TAG_PREFIX))
    ]


def tags_to_write(
    existing: Iterable[str], code: str | None = None, assets: str | None = None
) -> list[str]:
    """Their tags, our marker, and the code and assets tags as far as they fit the limit."""
    theirs = their_tags(existing)
    ours = [WORKER_TAG]
    for tag in (code, assets):
        if tag and len(theirs) + len(ours) < MAX_TAGS:
            ours.append(tag)
    return sorted(set(theirs)) + ours
