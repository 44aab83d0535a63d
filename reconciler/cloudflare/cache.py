"""Per-script read cache: lets an unchanged worker skip its settings and content reads.

One file per account under the cache directory; an entry's settings are used only
while the script's `etag` and `modified_on` (from the cheap list call) both still
match, so any upload or settings change made out of band invalidates them; its code
digest is used while the `etag` (the API's hash of the content) matches. The cache
holds the settings the API returned (no secret values: `secret_text` bindings
come back without their text) and the content digest, never the code itself.
Files are 0600 in a 0700 directory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from reconciler import safewrite
from reconciler.cloudflare.models import UploadResult
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.settings_forms import SCRIPT_KEYS

CACHE_VERSION = 1


@dataclass(frozen=True)
class CachedScript:
    etag: str
    modified_on: str
    settings: dict[str, Any]
    digest: str | None


class ScriptCache:
    def __init__(self, path: Path | None, entries: dict[str, CachedScript]) -> None:
        self.path = path
        self._entries = entries
        self._fresh: dict[str, CachedScript] = {}

    @classmethod
    def open(cls, cache_dir: Path | None, account_id: str) -> ScriptCache:
        """The cache of one account; an absent, unreadable or old-format file is empty."""
        if cache_dir is None:
            return cls(None, {})
        name = hashlib.sha256(account_id.encode()).hexdigest()[:32]
        path = cache_dir / f"workers-{name}.json"
        entries: dict[str, CachedScript] = {}
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("version") == CACHE_VERSION and doc.get("account_id") == account_id:
                for script, e in doc.get("scripts", {}).items():
                    entries[script] = CachedScript(
                        etag=e["etag"],
                        modified_on=e["modified_on"],
                        settings=e["settings"],
                        digest=e.get("digest"),
                    )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(path, entries)

    def get(self, script: str, etag: str | None, modified_on: str | None) -> CachedScript | None:
        if etag is None or modified_on is None:
            return None
        entry = self._entries.get(script)
        if entry is None or entry.etag != etag or entry.modified_on != modified_on:
            return None
        if entry.digest is None:
            return None
        return entry

    def digest_for(self, script: str, etag: str | None) -> str | None:
        """The code digest while the `etag` (the API's hash of the content) is unchanged.

        Settings may have changed (they move `modified_on`, not the content); the code not.
        """
        entry = self._entries.get(script)
        if etag is None or entry is None or entry.etag != etag:
            return None
        return entry.digest

    def put(self, script: str, entry: CachedScript) -> None:
        self._fresh[script] = entry

    def record(self, account_id: str, changes: Mapping[str, CachedScript | None]) -> None:
        """Merge what apply learnt (uploads; None = deleted or unknown) and save."""
        self._fresh = {**self._entries, **self._fresh}
        for script, entry in changes.items():
            if entry is None:
                self._fresh.pop(script, None)
            else:
                self._fresh[script] = entry
        self.save(account_id)

    def save(self, account_id: str) -> None:
        """Write the entries of this run (scripts no longer listed drop out)."""
        if self.path is None or self._fresh == self._entries:
            return  # nothing new: a warm no-change plan writes nothing
        directory = safewrite.private_dir(self.path.parent)
        doc = {
            "version": CACHE_VERSION,
            "account_id": account_id,
            "scripts": {
                name: {
                    "etag": e.etag,
                    "modified_on": e.modified_on,
                    "settings": e.settings,
                    "digest": e.digest,
                }
                for name, e in sorted(self._fresh.items())
            },
        }
        # dumps, not dump: dump feeds the file chunk by chunk from the pure-Python encoder,
        # several times slower at 2000 workers.
        data = json.dumps(doc, separators=(",", ":")).encode()
        safewrite.write_file(directory, PurePosixPath(self.path.name), data, mode=0o600)


def upload_entry(result: UploadResult, upload: WorkerUpload, digest: str) -> CachedScript | None:
    """What the next read would learn about a script we just uploaded, so it can skip the reads.

    The settings are the ones we sent; an answer without etag or modified_on gives no entry.
    """
    if result.etag is None or result.modified_on is None:
        return None
    meta = upload.metadata
    settings = {
        "bindings": meta["bindings"],
        "compatibility_date": meta.get("compatibility_date"),
        "compatibility_flags": meta["compatibility_flags"],
        "tags": meta["tags"],
        # A version setting the upload leaves out is reset by it: none is what the read shows.
        "limits": meta.get("limits"),
        "placement": meta.get("placement"),
        "usage_model": meta.get("usage_model"),
    }
    # Script settings the upload leaves out stay as they were: unknown here, so not cached.
    settings.update({k: meta[k] for k in SCRIPT_KEYS if k in meta})
    return CachedScript(result.etag, result.modified_on, settings, digest)
