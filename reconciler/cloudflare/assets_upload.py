"""The direct-upload flow of a Worker's static assets, as the API defines it.

1. `POST …/scripts/{name}/assets-upload-session {"manifest": {"/path": {hash, size}}}`
   answers a token and the hashes the account lacks, in buckets (none: the token is
   already the completion token);
2. each bucket is one `POST …/workers/assets/upload?base64=true`, authorised by the
   session's token, a part per file named by its hash (base64 content, its type); buckets go
   concurrently (at most `BUCKET_CONCURRENCY` at once, each request through the client's
   limiter); the last bucket's answer carries the completion token;
3. the completion token goes into the script upload's metadata (`assets.jwt`).

Each file is read again through the file policy and re-hashed as it streams: a file that is
no longer what the plan hashed is refused, and the script upload does not happen.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from reconciler.asset_files import AssetError, AssetTree, content_type
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.models import AssetsSession
from reconciler.errors import ApiError, ReconcilerError
from reconciler.state import WorkerAssets

# wrangler uploads three buckets at once (BULK_UPLOAD_CONCURRENCY); a bucket is held in
# memory as it is sent, so this bounds memory too.
BUCKET_CONCURRENCY = 3
# A token goes into a header: only the characters of a JWT, and a sane length.
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,8192}$")
_HASH = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class SessionAnswer:
    """What a session said: the token and the paths of the files the account lacks."""

    jwt: str
    buckets: list[list[str]]
    missing_paths: tuple[str, ...]


def _checked(session: AssetsSession, tree: AssetTree, where: str) -> SessionAnswer:
    jwt = session.jwt or ""
    if not _TOKEN.match(jwt):
        raise _bad(where, "answered no usable upload token")
    paths_by_hash: dict[str, list[str]] = {}
    for f in tree.files:
        paths_by_hash.setdefault(f.hash, []).append(f.path)
    missing: list[str] = []
    for bucket in session.buckets:
        for h in bucket:
            if not isinstance(h, str) or not _HASH.match(h) or h not in paths_by_hash:
                raise _bad(where, "asked for a file the asset manifest does not hold")
            missing += paths_by_hash[h]
    return SessionAnswer(jwt, [list(b) for b in session.buckets if b], tuple(sorted(missing)))


def _bad(where: str, what: str) -> ApiError:
    return ApiError(
        status=200,
        codes=(),
        message=what,
        method="POST",
        path=where,
    )


async def ask_session(
    client: CloudflareClient, account: str, script: str, tree: AssetTree
) -> SessionAnswer:
    """Start a session: which files would have to be uploaded (nothing is uploaded)."""
    session = await client.start_assets_session(account, script, tree.manifest())
    return _checked(session, tree, f"/workers/scripts/{script}/assets-upload-session")


async def upload_assets(
    client: CloudflareClient, account: str, script: str, assets: WorkerAssets
) -> str:
    """Upload what the account lacks; returns the completion token for the script upload."""
    tree = assets.tree
    if tree is None:
        raise ReconcilerError(f"worker {script!r}: the assets were not read from a directory")
    answer = await ask_session(client, account, script, tree)
    if not answer.buckets:
        return answer.jwt
    path_of = {f.hash: f.path for f in tree.files}
    gate = asyncio.Semaphore(BUCKET_CONCURRENCY)

    async def send(bucket: list[str]) -> str | None:
        async with gate:
            parts = []
            for h in bucket:
                path = path_of[h]
                parts.append((h, assets.encode(path, h), content_type(path)))
            result = await client.upload_assets(account, answer.jwt, parts)
            return result.jwt

    try:
        tokens = await asyncio.gather(*(send(b) for b in answer.buckets))
    except AssetError as exc:
        raise ReconcilerError(
            f"worker {script!r}: asset file {exc.path} {exc.reason}, so the upload would not "
            "be what the plan shows; the Worker was not changed (files sent before it wait "
            "in the account's asset store, served by nothing): run plan (and apply) again"
        ) from None
    completion = next((t for t in reversed(tokens) if t), None)
    if completion is None or not _TOKEN.match(completion):
        raise ReconcilerError(
            f"worker {script!r}: the asset upload ended without a completion token, so the "
            "Worker was not changed; run apply again (files already sent are not sent twice)"
        )
    return completion
