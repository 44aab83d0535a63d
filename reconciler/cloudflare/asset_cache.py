"""The file lists of the assets our uploads sent, one file per account under the cache
directory, so the next plan can tell changed from added from removed files.

The API lists no script's assets. Our assets tag proves which digest our last upload sent
(while the etag is that upload's); this cache holds that upload's `{path: hash}` under the
digest, and is used only when the digests match. A missing or unreadable cache only makes
the plan less precise (it asks the upload session which files the account lacks instead).
Files are 0600 in a 0700 directory; they hold paths and hashes, never content.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path, PurePosixPath

from reconciler import safewrite
from reconciler.cloudflare.client import CloudflareClient
from reconciler.state import Worker

VERSION = 1


class AssetCache:
    def __init__(self, path: Path | None, entries: dict[str, dict[str, object]]) -> None:
        self.path = path
        self._entries = entries

    @classmethod
    def open(cls, cache_dir: Path | None, account_id: str) -> AssetCache:
        if cache_dir is None:
            return cls(None, {})
        name = hashlib.sha256(account_id.encode()).hexdigest()[:32]
        path = cache_dir / f"assets-{name}.json"
        entries: dict[str, dict[str, object]] = {}
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("version") == VERSION and doc.get("account_id") == account_id:
                entries = {k: v for k, v in doc["scripts"].items() if isinstance(v, dict)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(path, entries)

    def files_for(self, script: str, digest: str | None) -> dict[str, str] | None:
        """The file list our upload of `digest` sent, if this cache holds it."""
        entry = self._entries.get(script)
        if digest is None or entry is None or entry.get("digest") != digest:
            return None
        files = entry.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            return None
        return dict(files)

    def record(self, account_id: str, script: str, digest: str, files: dict[str, str]) -> None:
        """After an upload of these assets: remember its list, and save."""
        if self.path is None:
            return
        self._entries[script] = {"digest": digest, "files": files}
        directory = safewrite.private_dir(self.path.parent)
        doc = {"version": VERSION, "account_id": account_id, "scripts": self._entries}
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        safewrite.write_file(directory, PurePosixPath(self.path.name), data, mode=0o600)


def remember_assets(client: CloudflareClient, account: str, worker: Worker) -> None:
    """Record the file list of the assets just uploaded for `worker` (a saving only)."""
    assets = worker.assets
    if assets is None or assets.tree is None or assets.digest is None:
        return
    files = {f.path: f.hash for f in assets.tree.files}
    # On failure the next plan asks the upload session instead.
    with contextlib.suppress(OSError):
        AssetCache.open(client.config.cache_dir, account).record(
            account, worker.name, assets.digest, files
        )
