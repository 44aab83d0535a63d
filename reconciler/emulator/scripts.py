"""Worker scripts: upload parsing, versions, deployment and the JSON shapes the API returns.

A script row holds the live state; every upload or settings change makes a version
(a snapshot of code, bindings and code-affecting settings) and deploying a version
copies it into the script. `etag` is a sha256 of the code and what shapes it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.emulator import bindings, worker_settings
from reconciler.emulator.db import new_id, now_iso
from reconciler.emulator.envelope import ApiFailure
from reconciler.emulator.multipart import Part
from reconciler.emulator.routing import Ctx

SCRIPT_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
MODULE_TYPES = {
    "application/javascript+module",
    "text/javascript+module",
    "application/javascript",
    "text/javascript",
    "text/x-python",
    "text/x-python-requirement",
    "application/wasm",
    "text/plain",
    "application/octet-stream",
    "application/source-map",
}
ENTRY_TYPES = {
    "application/javascript+module",
    "text/javascript+module",
    "application/javascript",
    "text/javascript",
    "text/x-python",
}
CLASSIC_TYPES = {"application/javascript", "text/javascript"}
_BY_SUFFIX = {
    ".mjs": "application/javascript+module",
    ".cjs": "application/javascript",
    ".wasm": "application/wasm",
    ".py": "text/x-python",
    ".map": "application/source-map",
    ".txt": "text/plain",
}
METADATA_KEYS = {
    "main_module", "body_part", "bindings", "compatibility_date", "compatibility_flags",
    "keep_bindings", "keep_vars", "keep_assets", "assets", "tags", "usage_model", "logpush",
    "observability", "tail_consumers", "streaming_tail_consumers", "placement", "limits",
    "migrations", "annotations", "exports", "cache_options", "package_dependencies",
    "containers", "capnp_schema",
}  # fmt: skip
SETTINGS_KEYS = {
    "annotations", "bindings", "compatibility_date", "compatibility_flags", "limits",
    "logpush", "observability", "placement", "tags", "tail_consumers", "usage_model",
    "cache_options", "migrations",
}  # fmt: skip
# Settings that live on the version (the rest live on the script).
VERSION_KEYS = (
    "compatibility_date", "compatibility_flags", "limits", "annotations", "usage_model", "placement"
)  # fmt: skip
SCRIPT_KEYS = ("logpush", "observability", "tags", "tail_consumers")
_HANDLERS = ("fetch", "scheduled", "queue", "email", "tail", "trace")
_ESM_EXPORT = re.compile(rb"(?m)^\s*export\s")
_ESM_IMPORT = re.compile(rb"(?m)^\s*import\s*[\w{*'\"]")


def check_name(name: str) -> str:
    if not SCRIPT_NAME.match(name):
        raise ApiFailure(
            400, 10004,
            "Malformed URL parameter: the script name must be 1-63 characters of a-z, 0-9, "
            "'-' and '_', starting with a letter, digit or '_'",
        )  # fmt: skip
    return name


@dataclass(frozen=True)
class Module:
    name: str
    content_type: str
    data: bytes

    def to_doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode(),
        }

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> Module:
        return cls(d["name"], d["content_type"], base64.b64decode(d["data"]))


@dataclass(frozen=True)
class Upload:
    metadata: dict[str, Any]
    modules: list[Module]  # main module first
    main_module: str | None
    body_part: str | None


def _guess_type(name: str, esm: bool) -> str:
    for suffix, ct in _BY_SUFFIX.items():
        if name.endswith(suffix):
            return ct
    if name.endswith(".js"):
        return "application/javascript+module" if esm else "application/javascript"
    return "application/octet-stream"


def parse_upload(parts: list[Part]) -> Upload:
    """Metadata + modules, found by name/filename, never by order (conformance §8.3).

    The metadata part is the field named `metadata`, with or without a filename and a
    Content-Type (the TypeScript SDK sends `filename="metadata"`, application/json).
    """
    meta_parts = [p for p in parts if p.name == "metadata"]
    if len(meta_parts) != 1:
        raise ApiFailure(400, 10021, "The upload must have exactly one 'metadata' part")
    try:
        metadata = json.loads(meta_parts[0].data)
    except (ValueError, UnicodeDecodeError):
        raise ApiFailure(
            400, 10006, "Unparseable script body: metadata is not valid JSON"
        ) from None
    if not isinstance(metadata, dict):
        raise ApiFailure(400, 10021, "metadata must be a JSON object")
    unknown = sorted(set(metadata) - METADATA_KEYS)
    if unknown:
        raise ApiFailure(400, 10021, f"Unknown metadata field(s): {', '.join(unknown)}")
    main, body = metadata.get("main_module"), metadata.get("body_part")
    if main is None and body is None and metadata.get("assets") is not None:
        # An assets-only Worker: no code at all (what wrangler sends for one).
        if any(p is not meta_parts[0] for p in parts):
            raise ApiFailure(400, 10021, "An assets-only upload has no module parts")
        return Upload(metadata, [], None, None)
    if (main is None) == (body is None):
        raise ApiFailure(400, 10021, "metadata must set exactly one of main_module or body_part")
    entry = main if main is not None else body
    if not isinstance(entry, str) or not entry:
        raise ApiFailure(400, 10021, "main_module/body_part must name a part")
    esm = main is not None
    modules: list[Module] = []
    seen: set[str] = set()
    for p in parts:
        if p is meta_parts[0]:
            continue
        if p.key in seen:
            raise ApiFailure(400, 10021, f"Module '{p.key}' is uploaded more than once")
        seen.add(p.key)
        ct = p.content_type or _guess_type(p.key, esm)
        if ct not in MODULE_TYPES:
            raise ApiFailure(400, 10021, f"Module '{p.key}' has unsupported content type {ct}")
        modules.append(Module(p.key, ct, p.data))
    first = next((m for m in modules if m.name == entry), None)
    if first is None:
        raise ApiFailure(400, 10021, f'Uncaught Error: No such module "{entry}".')
    modules = [first] + [m for m in modules if m is not first]
    if esm:
        if first.content_type not in ENTRY_TYPES:
            raise ApiFailure(400, 10021, f"The main module '{entry}' is not a script")
    else:
        _check_classic(first, modules[1:], metadata)
    return Upload(metadata, modules, main, body)


def _check_classic(script: Module, others: list[Module], metadata: dict[str, Any]) -> None:
    """Field note 5: ES module syntax sent as a classic script fails like V8 would."""
    if script.content_type not in CLASSIC_TYPES:
        raise ApiFailure(400, 10021, "A service-worker script must be application/javascript")
    if _ESM_EXPORT.search(script.data):
        raise ApiFailure(
            400, 10021, "Uncaught SyntaxError: Unexpected token 'export'\n  at worker.js:1"
        )
    if _ESM_IMPORT.search(script.data):
        raise ApiFailure(
            400, 10021,
            "Uncaught SyntaxError: Cannot use import statement outside a module\n  at worker.js:1",
        )  # fmt: skip
    referenced = {
        b.get("part")
        for b in metadata.get("bindings") or []
        if isinstance(b, dict) and b.get("type") in bindings.CLASSIC_ONLY
    }
    stray = [m.name for m in others if m.name not in referenced]
    if stray:
        raise ApiFailure(
            400, 10021,
            "More than one module can only be specified for ES module workers (main_module); "
            f"unreferenced part(s): {', '.join(stray)}",
        )  # fmt: skip


def handlers_of(main: Module, esm: bool) -> list[str]:
    text = main.data.decode("utf-8", "replace")
    pat = r"\b(?:async\s+)?{h}\s*(?:\(|:)" if esm else r"addEventListener\(\s*[\"']{h}[\"']"
    return [h for h in _HANDLERS if re.search(pat.format(h=h), text)]


def etag_of(
    modules: list[Module], main: str | None, body: str | None, version: dict[str, Any]
) -> str:
    h = hashlib.sha256()
    shape = {
        "main_module": main,
        "body_part": body,
        "compatibility_date": version.get("compatibility_date"),
        "compatibility_flags": version.get("compatibility_flags"),
        "modules": [[m.name, m.content_type, hashlib.sha256(m.data).hexdigest()] for m in modules],
    }
    if version.get("assets") is not None:
        # Assets are part of what a version serves: new assets, a new etag.
        shape["assets"] = version["assets"]
    h.update(json.dumps(shape, sort_keys=True).encode())
    return h.hexdigest()


# --- persistence ----------------------------------------------------------------------


def load(ctx: Ctx, name: str) -> dict[str, Any] | None:
    row = ctx.conn.execute(
        "SELECT doc FROM scripts WHERE account_id = ? AND name = ?", (ctx.account_id, name)
    ).fetchone()
    return json.loads(row["doc"]) if row else None


def require(ctx: Ctx, name: str) -> dict[str, Any]:
    doc = load(ctx, check_name(name))
    if doc is None:
        raise ApiFailure(404, 10007, "This Worker does not exist on your account.")
    return doc


def save(ctx: Ctx, doc: dict[str, Any]) -> None:
    ctx.conn.execute(
        "INSERT INTO scripts (account_id, name, doc, seq) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(account_id, name) DO UPDATE SET doc = excluded.doc",
        (ctx.account_id, doc["id"], json.dumps(doc), ctx.db.next_seq(ctx.conn)),
    )


def load_version(ctx: Ctx, script: str, version_id: str) -> dict[str, Any] | None:
    row = ctx.conn.execute(
        "SELECT doc FROM versions WHERE id = ? AND account_id = ? AND script = ?",
        (version_id, ctx.account_id, script),
    ).fetchone()
    return json.loads(row["doc"]) if row else None


def new_version(
    ctx: Ctx,
    script: str,
    previous: dict[str, Any] | None,
    *,
    modules: list[Module],
    main: str | None,
    body: str | None,
    new_bindings: list[dict[str, Any]],
    keep_types: set[str],
    settings: dict[str, Any],
    strict_inherit: bool,
    assets: Any = "previous",
) -> dict[str, Any]:
    """Store a version snapshot; `previous` is the version the change builds on; `assets`
    the static assets it serves (by default the previous version's)."""
    if assets == "previous":
        assets = (previous or {}).get("assets")
    prev_bindings = previous["bindings"] if previous else []
    version: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "number": _next_number(ctx, script),
        "created_on": now_iso(),
        "modules": [m.to_doc() for m in modules],
        "main_module": main,
        "body_part": body,
        "bindings": bindings.merge(new_bindings, prev_bindings, keep_types, strict_inherit),
        "compatibility_date": settings.get("compatibility_date") or "",
        "compatibility_flags": settings.get("compatibility_flags") or [],
        "limits": settings.get("limits") or {},
        "annotations": settings.get("annotations") or {},
        "usage_model": settings.get("usage_model") or "standard",
        "placement": settings.get("placement") or {},
        "handlers": handlers_of(modules[0], main is not None) if modules else [],
        "source": _source(ctx),
        "assets": assets,
        # What the request itself named (inspection only): `inherit` stays `inherit` here.
        "sent_bindings": [{"name": b.get("name"), "type": b.get("type")} for b in new_bindings],
    }
    version["etag"] = etag_of(modules, main, body, version)
    ctx.conn.execute(
        "INSERT INTO versions (id, account_id, script, number, doc) VALUES (?, ?, ?, ?, ?)",
        (version["id"], ctx.account_id, script, version["number"], json.dumps(version)),
    )
    return version


def _next_number(ctx: Ctx, script: str) -> int:
    row = ctx.conn.execute(
        "SELECT MAX(number) FROM versions WHERE account_id = ? AND script = ?",
        (ctx.account_id, script),
    ).fetchone()
    return int(row[0] or 0) + 1


def _source(ctx: Ctx) -> str:
    return "wrangler" if ctx.headers.get("user-agent", "").startswith("wrangler") else "api"


def latest_version(ctx: Ctx, script: str) -> dict[str, Any] | None:
    """The newest version uploaded (deployed or not): what secret changes build on."""
    row = ctx.conn.execute(
        "SELECT doc FROM versions WHERE account_id = ? AND script = ? ORDER BY number DESC",
        (ctx.account_id, script),
    ).fetchone()
    return json.loads(row["doc"]) if row else None


def latest_deployment(ctx: Ctx, script: str) -> dict[str, Any] | None:
    row = ctx.conn.execute(
        "SELECT doc FROM deployments WHERE account_id = ? AND script = ? ORDER BY seq DESC",
        (ctx.account_id, script),
    ).fetchone()
    return json.loads(row["doc"]) if row else None


def require_latest_deployed(ctx: Ctx, script: str) -> None:
    """10215 (as the API answers secret changes during a gradual deployment): the newest
    version must serve 100 % of traffic."""
    latest = latest_version(ctx, script)
    dep = latest_deployment(ctx, script)
    split = dep["versions"] if dep else []
    if latest is None or [v["version_id"] for v in split] != [latest["id"]]:
        raise ApiFailure(
            400,
            10215,
            "The latest version of this Worker is not deployed to 100% of traffic; deploy it "
            "fully (POST deployments) before changing secrets",
        )


def current_version(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    version = load_version(ctx, doc["id"], doc["version_id"])
    assert version is not None  # a script always has its deployed version
    return version


def deploy(
    ctx: Ctx,
    name: str,
    version: dict[str, Any],
    split: list[dict[str, Any]] | None = None,
    annotations: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make `version` live: update (or create) the script row and record a deployment."""
    doc = load(ctx, name)
    if doc is None:
        ts = now_iso()
        doc = {
            "id": name,
            "tag": new_id(),
            "created_on": ts,
            "modified_on": ts,
            "logpush": False,
            "observability": worker_settings.observability_form(None),
            "tags": [],
            "tail_consumers": [],
            "subdomain": {"enabled": False, "previews_enabled": False},
        }
    else:
        doc["modified_on"] = now_iso(after=doc["modified_on"])
    doc["version_id"] = version["id"]
    doc["etag"] = version["etag"]
    doc["last_deployed_from"] = version["source"]
    save(ctx, doc)
    dep = {
        "id": str(uuid.uuid4()),
        "source": version["source"],
        "strategy": "percentage",
        "author_email": "emulator@localhost",
        "created_on": now_iso(),
        "annotations": annotations or {},
        "versions": split or [{"version_id": version["id"], "percentage": 100.0}],
    }
    ctx.conn.execute(
        "INSERT INTO deployments (id, account_id, script, seq, doc) VALUES (?, ?, ?, ?, ?)",
        (dep["id"], ctx.account_id, name, ctx.db.next_seq(ctx.conn), json.dumps(dep)),
    )
    return doc, dep


def settings_from(version: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return {k: overrides.get(k, version.get(k)) for k in VERSION_KEYS}


# --- shapes ---------------------------------------------------------------------------


def list_item(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    v = current_version(ctx, doc)
    return {
        "id": doc["id"],
        "tag": doc["tag"],
        "etag": doc["etag"],
        "created_on": doc["created_on"],
        "modified_on": doc["modified_on"],
        "compatibility_date": v["compatibility_date"],
        "compatibility_flags": v["compatibility_flags"],
        "handlers": v["handlers"],
        "named_handlers": [],
        "has_assets": v.get("assets") is not None,
        "has_modules": v["main_module"] is not None,
        "last_deployed_from": doc["last_deployed_from"],
        "logpush": doc["logpush"],
        "observability": doc["observability"],
        "placement": v.get("placement") or {},
        "tags": doc["tags"],
        "tail_consumers": doc["tail_consumers"],
        "usage_model": v["usage_model"],
        "routes": [
            {"id": r["id"], "pattern": r["pattern"], "script": r["script"]}
            for r in ctx.conn.execute(
                "SELECT id, pattern, script FROM routes WHERE account_id = ? AND script = ? "
                "ORDER BY seq",
                (ctx.account_id, doc["id"]),
            ).fetchall()
        ],
        **({"migration_tag": doc["migration_tag"]} if doc.get("migration_tag") else {}),
    }


def settings_json(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    v = current_version(ctx, doc)
    return {
        "bindings": [bindings.public_form(b) for b in v["bindings"]],
        "compatibility_date": v["compatibility_date"],
        "compatibility_flags": v["compatibility_flags"],
        "limits": v["limits"],
        "annotations": v["annotations"],
        "usage_model": v["usage_model"],
        "logpush": doc["logpush"],
        "observability": doc["observability"],
        "placement": v.get("placement") or {},
        "tags": doc["tags"],
        "tail_consumers": doc["tail_consumers"],
    }


def script_settings_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("logpush", "observability", "tags", "tail_consumers")}
