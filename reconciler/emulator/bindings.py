"""Worker binding validation and the carry-over rules between versions (§4.4-4.5).

Types, required fields and shapes come from Cloudflare's schema (`reconciler.openapi`), as
the manifest validator's do; unknown keys are dropped, as a typed server model would.

Secret binding values are never kept: a secret_text's `text` (and a secret_key's key
material) becomes a salted digest before anything is stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.emulator.envelope import ApiFailure
from reconciler.emulator.routing import Ctx
from reconciler.emulator.secrets_store import value_digest
from reconciler.openapi import bindings as schema

SECRET_TYPES = ("secret_text", "secret_key")
CLASSIC_ONLY = ("wasm_module", "text_blob", "data_blob")
_KEY_MATERIAL = ("text", "key_base64", "key_jwk")


def invalid(message: str) -> ApiFailure:
    """10021: the upload parsed but failed validation (bindings, settings)."""
    return ApiFailure(400, 10021, message)


def validate(ctx: Ctx, raw: Any) -> list[dict[str, Any]]:
    """Checked bindings, secrets reduced to digests; inherit bindings are left for `merge`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("metadata.bindings must be an array")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for b in raw:
        if not isinstance(b, dict):
            raise invalid("each binding must be an object")
        name, kind = b.get("name"), b.get("type")
        if not isinstance(name, str) or not name:
            raise invalid("a binding has no name")
        issues = schema.check(b, strict=False)
        if issues:
            raise invalid(f"Binding '{name}': {issues[0].message}")
        if name in seen:
            raise invalid(f"Binding name '{name}' is used more than once")
        seen.add(name)
        if kind == "secrets_store_secret":
            _check_store_secret(ctx, name, b)
        out.append(store_form(_as_stored(ctx, b)))
    return out


def _as_stored(ctx: Ctx, b: dict[str, Any]) -> dict[str, Any]:
    """What the API keeps: the schema's fields only, renamed ones under their new name, and
    the id it assigns a Durable Object namespace (a field the server fills in)."""
    kind = schema.KINDS[b["type"]]
    out = {"name": b["name"], "type": b["type"]}
    for key, value in b.items():
        if key in kind.properties:
            renamed = kind.aliases.get(key)
            if renamed is None:
                out[key] = value
            elif renamed not in b:
                out[renamed] = value
    if b["type"] == "durable_object_namespace" and "namespace_id" not in out:
        owner = f"{ctx.account_id}/{out.get('script_name') or ctx.params.get('script_name')}"
        seed = f"{owner}/{out.get('class_name')}".encode()
        out["namespace_id"] = hashlib.sha256(seed).hexdigest()[:32]
    return out


def store_form(b: dict[str, Any]) -> dict[str, Any]:
    """What we persist: secret material replaced by a digest."""
    if b.get("type") not in SECRET_TYPES:
        return dict(b)
    kept = {k: v for k, v in b.items() if k not in _KEY_MATERIAL}
    material = next((b[k] for k in _KEY_MATERIAL if k in b), "")
    kept["digest"] = value_digest(material if isinstance(material, str) else repr(material))
    return kept


def public_form(b: dict[str, Any]) -> dict[str, Any]:
    """What the API returns: never a secret value or its digest."""
    if b.get("type") == "secrets_store_secret":
        return {k: b[k] for k in ("name", "type", "store_id", "secret_name")}
    if b.get("type") in SECRET_TYPES:
        return {k: v for k, v in b.items() if k != "digest" and k not in _KEY_MATERIAL}
    return {k: v for k, v in b.items() if k != "digest"}


def _check_store_secret(ctx: Ctx, name: str, b: dict[str, Any]) -> None:
    """Emulator choice (documented): a dangling store secret binding is 10021 at upload."""
    store = ctx.conn.execute(
        "SELECT id FROM stores WHERE id = ? AND account_id = ?", (b["store_id"], ctx.account_id)
    ).fetchone()
    if store is None:
        raise invalid(
            f"Binding '{name}' references Secrets Store store {b['store_id']!r}, "
            "which does not exist in this account"
        )
    row = ctx.conn.execute(
        "SELECT scopes FROM secrets WHERE store_id = ? AND name = ?",
        (b["store_id"], b["secret_name"]),
    ).fetchone()
    if row is None:
        raise invalid(
            f"Binding '{name}' references secret {b['secret_name']!r}, "
            f"which does not exist in store {b['store_id']!r}"
        )
    if "workers" not in row["scopes"]:
        raise invalid(
            f"Binding '{name}' references secret {b['secret_name']!r}, "
            "which lacks the 'workers' scope"
        )


def merge(
    new: list[dict[str, Any]],
    previous: list[dict[str, Any]],
    keep_types: set[str],
    strict_inherit: bool,
) -> list[dict[str, Any]]:
    """The next version's bindings: new ones, inherits resolved, secrets and kept types carried."""
    prev_by_name = {b["name"]: b for b in previous}
    out: list[dict[str, Any]] = []
    for b in new:
        if b["type"] != "inherit":
            out.append(b)
            continue
        source = prev_by_name.get(b.get("old_name") or b["name"])
        if source is None:
            if strict_inherit:
                raise ApiFailure(
                    400,
                    10057,
                    f"Invalid inherit binding '{b['name']}': no binding "
                    "of that name in the previous version",
                )
            continue
        out.append({**source, "name": b["name"]})
    names = {b["name"] for b in out}
    carried = keep_types | set(SECRET_TYPES)
    out.extend(b for b in previous if b["type"] in carried and b["name"] not in names)
    return out
