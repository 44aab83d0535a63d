"""Workers static assets, direct upload (reference N11): the upload session, the bucket
upload authorised by the session's token, and the completion token a script upload names.

Asset content is kept per account by hash (content-addressed, as the API deduplicates):
a session answers, in buckets, only the hashes the account lacks, and with a completion
token at once when it lacks none. An upload's parts are named by hash and carry base64
content; each is checked against its hash (BLAKE3 over the base64 text and the extension of
a path the session's manifest gave that hash: wrangler's hash) before it is kept. The last
bucket's answer carries the completion token. Tokens look like JWTs (wrangler reads `exp`
and `max_file_count_allowed` from the payload) and are looked up, never trusted by shape.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from typing import Any

from reconciler.asset_files import MAX_ASSET_BYTES, MAX_ASSET_COUNT, hash_base64
from reconciler.emulator import scripts
from reconciler.emulator.bindings import invalid
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.routing import Ctx, Route, route

_HASH = re.compile(r"^[0-9a-f]{32}$")
BUCKET_FILES = 50
# Raw bytes per bucket (base64 is a third more): buckets stay well under the body limit.
BUCKET_BYTES = 6 * 1024 * 1024
TOKEN_TTL_S = 3600
CONFIG_KEYS = {"html_handling", "not_found_handling", "run_worker_first", "_headers", "_redirects"}
_HTML = {"auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"}
_NOT_FOUND = {"none", "404-page", "single-page-application"}


def _b64url(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def _token(ctx: Ctx, script: str, kind: str, manifest: dict[str, str]) -> str:
    expires = time.time() + TOKEN_TTL_S
    payload = {"exp": int(expires), "max_file_count_allowed": MAX_ASSET_COUNT, "kind": kind}
    token = ".".join(
        [_b64url({"alg": "HS256", "typ": "JWT"}), _b64url(payload), secrets.token_urlsafe(24)]
    )
    ctx.conn.execute(
        "INSERT INTO asset_tokens (token, account_id, script, kind, manifest, expires) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (token, ctx.account_id, script, kind, json.dumps(manifest), expires),
    )
    return token


def _lookup(ctx: Ctx, token: str, kind: str) -> Any:
    row = ctx.conn.execute(
        "SELECT * FROM asset_tokens WHERE token = ? AND account_id = ? AND kind = ?",
        (token, ctx.account_id, kind),
    ).fetchone()
    if row is None or row["expires"] < time.time():
        return None
    return row


def _manifest(ctx: Ctx) -> dict[str, tuple[str, int]]:
    body = ctx.json(10006)
    manifest = body.get("manifest") if isinstance(body, dict) else None
    if not isinstance(manifest, dict):
        raise invalid('the body must be {"manifest": {"/path": {"hash", "size"}}}')
    if len(manifest) > MAX_ASSET_COUNT:
        raise invalid(f"an asset manifest holds at most {MAX_ASSET_COUNT} files")
    out: dict[str, tuple[str, int]] = {}
    for path, entry in manifest.items():
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 4096:
            raise invalid(f"asset path {str(path)[:100]!r} must start with /")
        h = entry.get("hash") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(h, str) or not _HASH.match(h):
            raise invalid(f"asset {path}: hash must be 32 hex characters")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_ASSET_BYTES:
            raise invalid(f"asset {path}: size must be 0 to {MAX_ASSET_BYTES} bytes")
        out[path] = (h, size)
    return out


def upload_session(ctx: Ctx) -> Reply:
    """`POST …/scripts/{name}/assets-upload-session`: which files the account lacks."""
    name = scripts.check_name(ctx.params["script_name"])
    manifest = _manifest(ctx)
    hashes = {path: h for path, (h, _) in manifest.items()}
    have = {
        r["hash"]
        for r in ctx.conn.execute(
            "SELECT hash FROM asset_blobs WHERE account_id = ?", (ctx.account_id,)
        ).fetchall()
    }
    sizes: dict[str, int] = {}
    for h, size in manifest.values():
        if h not in have:
            sizes[h] = size
    if not sizes:
        return Reply(result={"jwt": _token(ctx, name, "completion", hashes), "buckets": []})
    buckets: list[list[str]] = [[]]
    used = 0
    for h, size in sorted(sizes.items()):
        if buckets[-1] and (len(buckets[-1]) >= BUCKET_FILES or used + size > BUCKET_BYTES):
            buckets.append([])
            used = 0
        buckets[-1].append(h)
        used += size
    return Reply(result={"jwt": _token(ctx, name, "upload", hashes), "buckets": buckets})


def upload(ctx: Ctx) -> Reply:
    """`POST A/workers/assets/upload?base64=true`, authorised by the session's token."""
    scheme, _, value = ctx.headers.get("authorization", "").partition(" ")
    row = _lookup(ctx, value.strip(), "upload") if scheme.lower() == "bearer" else None
    if row is None:
        raise ApiFailure(401, 10000, "Authentication error: not a valid asset upload token")
    hashes: dict[str, str] = json.loads(row["manifest"])
    ext_path = {h: path for path, h in sorted(hashes.items())}
    encoded = ctx.flag("base64")
    for part in ctx.parts():
        h = part.name
        if h not in ext_path:
            raise invalid(f"part {h[:40]!r} is not a file of this upload session")
        data = part.data
        try:
            raw = base64.b64decode(data, validate=True) if encoded else data
        except ValueError:
            raise invalid(f"part {h} is not valid base64") from None
        text = data if encoded else base64.b64encode(data)
        if hash_base64(ext_path[h], text) != h:
            raise invalid(f"part {h}: the content does not match its hash")
        ctx.conn.execute(
            "INSERT OR IGNORE INTO asset_blobs (account_id, hash, size) VALUES (?, ?, ?)",
            (ctx.account_id, h, len(raw)),
        )
    have = {
        r["hash"]
        for r in ctx.conn.execute(
            "SELECT hash FROM asset_blobs WHERE account_id = ?", (ctx.account_id,)
        ).fetchall()
    }
    if set(hashes.values()) <= have:
        return Reply(result={"jwt": _token(ctx, row["script"], "completion", hashes)})
    return Reply(result={})


def version_assets(
    ctx: Ctx, script: str, metadata: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The assets a new version holds: those a completion token names, the previous
    version's (`keep_assets`), or none."""
    assets = metadata.get("assets")
    if assets is None:
        if metadata.get("keep_assets") is True:
            return (previous or {}).get("assets")
        return None
    if not isinstance(assets, dict) or not isinstance(assets.get("jwt"), str):
        raise invalid('assets must be {"jwt": <completion token>, "config": {...}}')
    row = _lookup(ctx, assets["jwt"], "completion")
    if row is None or row["script"] != script:
        raise invalid("assets.jwt is not a completion token of an asset upload for this Worker")
    config = assets.get("config") or {}
    if not isinstance(config, dict):
        raise invalid("assets.config must be an object")
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise invalid(f"Unknown assets.config field(s): {', '.join(unknown)}")
    config = {k: v for k, v in config.items() if v is not None}
    if config.get("html_handling", "auto-trailing-slash") not in _HTML:
        raise invalid(f"assets.config.html_handling must be one of {', '.join(sorted(_HTML))}")
    if config.get("not_found_handling", "none") not in _NOT_FOUND:
        raise invalid(
            f"assets.config.not_found_handling must be one of {', '.join(sorted(_NOT_FOUND))}"
        )
    first = config.get("run_worker_first", False)
    if not isinstance(first, bool) and not (
        isinstance(first, list) and all(isinstance(r, str) for r in first)
    ):
        raise invalid("assets.config.run_worker_first must be a boolean or a list of rules")
    return {"manifest": json.loads(row["manifest"]), "config": config}


ROUTES: list[Route] = [
    route(
        "POST",
        "/accounts/{account_id}/workers/scripts/{script_name}/assets-upload-session",
        upload_session,
        "workers",
    ),
    route("POST", "/accounts/{account_id}/workers/assets/upload", upload, None, session_auth=True),
]
