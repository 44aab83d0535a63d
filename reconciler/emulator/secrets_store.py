"""Secrets Store (§5): stores, secrets, quota, with the observed behaviour (field notes 1-4).

Secret values are never stored: only a salted digest, so the database file never holds
a plaintext value, and no response or state dump can leak one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from typing import Any

from reconciler.emulator.db import new_id, now_iso
from reconciler.emulator.envelope import ApiFailure, Reply, page_window, paged
from reconciler.emulator.routing import Ctx, Route, route
from reconciler.state import SCOPES

MAX_VALUE_BYTES = 65_536
_NAME = re.compile(r"^\S+$")
SECRET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # newer fact N4: `.` and `%` are refused
_SECRET_ORDER = {"name", "comment", "created", "modified", "status"}
_STORE_ORDER = {"name", "created", "modified"}


def bad(message: str, status: int = 400) -> ApiFailure:
    return ApiFailure(status, 1001, message)


def value_digest(value: str) -> str:
    salt = os.urandom(16).hex()
    return salt + "$" + hashlib.sha256((salt + value).encode()).hexdigest()


def store_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "account_id": row["account_id"],
        "created": row["created"],
        "modified": row["modified"],
    }


def secret_json(row: sqlite3.Row, status: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "store_id": row["store_id"],
        "scopes": json.loads(row["scopes"]),
        "status": status or row["status"],
        "created": row["created"],
        "modified": row["modified"],
    }
    out["comment"] = row["comment"] if row["comment"] is not None else ""
    return out


# --- validation -----------------------------------------------------------------------


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad("invalid_json_body")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad(f"invalid_json_body: unknown field(s) {', '.join(unknown)}")
    return body


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{what}_name_empty")
    if not _NAME.match(value):
        raise bad(f"{what}_name_invalid: the name cannot contain spaces")
    return value


def _secret_name(ctx: Ctx, value: Any) -> str:
    """The `behaviour.secret_names` rule: the real pattern (default) or no spaces only."""
    strict = ctx.config.behaviour.secret_names == "pattern"
    if strict and isinstance(value, str) and value.strip() and not SECRET_NAME.match(value):
        raise bad(
            "invalid_secret_name: a secret name may contain only letters A-Z and a-z, "
            "digits, '_' and '-' (no spaces, '.' or '%')"
        )
    return _name(value, "secret")


def _scopes(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad("secret_scopes_empty")
    if not all(isinstance(s, str) and s in SCOPES for s in value):
        raise bad(f"secret_scope_invalid: scopes must be among {', '.join(SCOPES)}")
    return sorted(set(value))


def _comment(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad("invalid_json_body: comment must be a string")
    return value


def _value(value: Any) -> str:
    if not isinstance(value, str):
        raise bad(
            "secret_value_empty" if value is None else "invalid_json_body: value must be a string"
        )
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise bad(f"secret_value_too_large: the value exceeds {MAX_VALUE_BYTES} bytes")
    return value


# --- lookups --------------------------------------------------------------------------


def get_store(ctx: Ctx, store_id: str) -> sqlite3.Row:
    row = ctx.conn.execute(
        "SELECT * FROM stores WHERE id = ? AND account_id = ?", (store_id, ctx.account_id)
    ).fetchone()
    if row is None:
        raise ApiFailure(404, 1001, "store_not_found")
    found: sqlite3.Row = row
    return found


def _get_secret(ctx: Ctx) -> sqlite3.Row:
    store = get_store(ctx, ctx.params["store_id"])
    row = ctx.conn.execute(
        "SELECT * FROM secrets WHERE id = ? AND store_id = ?",
        (ctx.params["secret_id"], store["id"]),
    ).fetchone()
    if row is None:
        raise ApiFailure(404, 1001, "secret_not_found")
    found: sqlite3.Row = row
    return found


# --- pending status (behaviour.pending_secrets) ------------------------------------------


def _mark_pending(ctx: Ctx, secret_id: str) -> None:
    pending = ctx.config.behaviour.pending_secrets
    if pending.reads or pending.seconds:
        ctx.conn.execute(
            "INSERT INTO pending (secret_id, reads_left, until) VALUES (?, ?, ?)",
            (secret_id, pending.reads, time.time() + pending.seconds),
        )


def status_of(conn: sqlite3.Connection, row: sqlite3.Row, *, count: bool) -> str:
    """`pending` while reads or seconds are left, else the stored status.

    With `count`, this answer is one of the secret's reads (inspection does not count).
    """
    p = conn.execute(
        "SELECT reads_left, until FROM pending WHERE secret_id = ?", (row["id"],)
    ).fetchone()
    if p is None:
        return str(row["status"])
    reads_left, until = int(p["reads_left"]), float(p["until"])
    if reads_left <= 0 and time.time() >= until:
        if count:
            conn.execute("DELETE FROM pending WHERE secret_id = ?", (row["id"],))
        return str(row["status"])
    if count and reads_left > 0:
        conn.execute(
            "UPDATE pending SET reads_left = ? WHERE secret_id = ?", (reads_left - 1, row["id"])
        )
    return "pending"


def shown(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    """A secret as an answer shows it (counts as one of its pending reads)."""
    return secret_json(row, status_of(ctx.conn, row, count=True))


def _forget_pending(ctx: Ctx) -> None:
    ctx.conn.execute("DELETE FROM pending WHERE secret_id NOT IN (SELECT id FROM secrets)")


def _account_usage(ctx: Ctx) -> int:
    return int(
        ctx.conn.execute(
            "SELECT COUNT(*) FROM secrets WHERE account_id = ?", (ctx.account_id,)
        ).fetchone()[0]
    )


def _sorted(items: list[dict[str, Any]], ctx: Ctx, orders: set[str]) -> list[dict[str, Any]]:
    order = ctx.query.get("order") or "created"
    if order not in orders:
        raise bad(f"invalid_order: order must be one of {', '.join(sorted(orders))}")
    direction = ctx.query.get("direction") or "asc"
    if direction not in {"asc", "desc"}:
        raise bad("invalid_direction: direction must be asc or desc")
    # Stable within equal keys: creation order (seq) breaks ties.
    return sorted(items, key=lambda i: str(i.get(order) or ""), reverse=direction == "desc")


def _window(ctx: Ctx) -> tuple[int, int]:
    return page_window(ctx.query.get("page"), ctx.query.get("per_page"), default=20, lo=1, hi=100)


def _page(ctx: Ctx, items: list[dict[str, Any]]) -> Reply:
    """One page; `behaviour.list_result_info` decides whether `total_pages` is there."""
    page, per_page = _window(ctx)
    with_pages = ctx.config.behaviour.list_result_info == "with_total_pages"
    return paged(items, page, per_page, total_pages=with_pages)


# --- stores ---------------------------------------------------------------------------


def list_stores(ctx: Ctx) -> Reply:
    rows = ctx.conn.execute(
        "SELECT * FROM stores WHERE account_id = ? ORDER BY seq", (ctx.account_id,)
    ).fetchall()
    return _page(ctx, _sorted([store_json(r) for r in rows], ctx, _STORE_ORDER))


def _insert_store(ctx: Ctx, body: Any) -> dict[str, Any]:
    name = _name(_object(body, {"name"}).get("name"), "store")
    assert ctx.account is not None
    count = ctx.conn.execute(
        "SELECT COUNT(*) FROM stores WHERE account_id = ?", (ctx.account_id,)
    ).fetchone()[0]
    if count >= ctx.account.max_stores:
        raise ApiFailure(400, 1003, "maximum_stores_exceeded")
    if ctx.conn.execute(
        "SELECT 1 FROM stores WHERE account_id = ? AND name = ?", (ctx.account_id, name)
    ).fetchone():
        raise ApiFailure(400, 1003, "store_name_already_exists")
    ts = now_iso()
    sid = new_id()
    ctx.conn.execute(
        "INSERT INTO stores VALUES (?, ?, ?, ?, ?, ?)",
        (sid, ctx.account_id, name, ts, ts, ctx.db.next_seq(ctx.conn)),
    )
    return store_json(get_store(ctx, sid))


def create_store(ctx: Ctx) -> Reply:
    body = ctx.json(1001)
    if isinstance(body, list):
        # Field note 1: the array form (2025 SDKs) is refused unless switched on.
        if ctx.config.behaviour.store_create_array == "reject" or not body:
            raise bad("invalid_json_body")
        return Reply(result=[_insert_store(ctx, item) for item in body])
    return Reply(result=_insert_store(ctx, body))


def get_store_by_id(ctx: Ctx) -> Reply:
    return Reply(result=store_json(get_store(ctx, ctx.params["store_id"])))


def delete_store(ctx: Ctx) -> Reply:
    store = get_store(ctx, ctx.params["store_id"])
    used = ctx.conn.execute(
        "SELECT COUNT(*) FROM secrets WHERE store_id = ?", (store["id"],)
    ).fetchone()[0]
    if used and not ctx.flag("force"):
        raise ApiFailure(409, 1003, "store_not_empty")
    ctx.conn.execute("DELETE FROM secrets WHERE store_id = ?", (store["id"],))
    ctx.conn.execute("DELETE FROM stores WHERE id = ?", (store["id"],))
    _forget_pending(ctx)
    return Reply(result=None)


def quota(ctx: Ctx) -> Reply:
    assert ctx.account is not None
    return Reply(
        result={"secrets": {"quota": ctx.account.max_secrets, "usage": _account_usage(ctx)}}
    )


# --- secrets --------------------------------------------------------------------------


def list_secrets(ctx: Ctx) -> Reply:
    store = get_store(ctx, ctx.params["store_id"])
    rows = ctx.conn.execute(
        "SELECT * FROM secrets WHERE store_id = ? ORDER BY seq", (store["id"],)
    ).fetchall()
    by_id = {r["id"]: r for r in rows}
    items = [secret_json(r) for r in rows]
    search = (ctx.query.get("search") or "").lower()
    if search:
        items = [i for i in items if search in i["name"].lower() or search in i["comment"].lower()]
    scopes = [s for raw in ctx.query.getlist("scopes") for s in raw.split(",") if s]
    if scopes:
        _scopes(scopes)
        items = [i for i in items if set(scopes) <= set(i["scopes"])]
    reply = _page(ctx, _sorted(items, ctx, _SECRET_ORDER))
    reply.result = [shown(ctx, by_id[i["id"]]) for i in reply.result]  # the page's reads
    return reply


def _insert_secret(
    ctx: Ctx, store_id: str, name: str, digest: str, scopes: list[str], comment: str
) -> dict[str, Any]:
    assert ctx.account is not None
    if ctx.conn.execute(
        "SELECT 1 FROM secrets WHERE store_id = ? AND name = ?", (store_id, name)
    ).fetchone():
        raise ApiFailure(400, 1003, "secret_name_already_exists")
    if _account_usage(ctx) >= ctx.account.max_secrets:
        raise ApiFailure(400, 1003, "maximum_secrets_exceeded")
    ts = now_iso()
    sid = new_id()
    ctx.conn.execute(
        "INSERT INTO secrets VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
        (
            sid,
            ctx.account_id,
            store_id,
            name,
            digest,
            comment,
            json.dumps(scopes),
            ts,
            ts,
            ctx.db.next_seq(ctx.conn),
        ),
    )
    _mark_pending(ctx, sid)
    row = ctx.conn.execute("SELECT * FROM secrets WHERE id = ?", (sid,)).fetchone()
    return secret_json(row, status_of(ctx.conn, row, count=False))


def create_secrets(ctx: Ctx) -> Reply:
    """Field note 3: an array of {name, value, scopes, comment?}; the result is an array."""
    store = get_store(ctx, ctx.params["store_id"])
    body = ctx.json(1001)
    if not isinstance(body, list) or not body:
        raise bad("invalid_json_body: expected a non-empty array of secrets")
    created = []
    for item in body:
        obj = _object(item, {"name", "value", "scopes", "comment"})
        name = _secret_name(ctx, obj.get("name"))
        digest = value_digest(_value(obj.get("value")))
        created.append(
            _insert_secret(
                ctx,
                store["id"],
                name,
                digest,
                _scopes(obj.get("scopes")),
                _comment(obj.get("comment")),
            )
        )
    return Reply(result=created)


def get_secret(ctx: Ctx) -> Reply:
    return Reply(result=shown(ctx, _get_secret(ctx)))


def patch_secret(ctx: Ctx) -> Reply:
    """Field note 4, with the `behaviour.patch_secret` switch."""
    row = _get_secret(ctx)
    mode = ctx.config.behaviour.patch_secret
    body = ctx.json(1001)
    if mode == "reject_all" or not isinstance(body, dict):
        raise bad("invalid_json_body")
    if "name" in body or (mode == "reject_value" and "value" in body):
        raise bad("invalid_json_body")
    obj = _object(body, {"comment", "scopes", "value"})
    sets: dict[str, Any] = {}
    if "comment" in obj:
        sets["comment"] = _comment(obj["comment"])
    if "scopes" in obj:
        sets["scopes"] = json.dumps(_scopes(obj["scopes"]))
    if "value" in obj:
        sets["value_digest"] = value_digest(_value(obj["value"]))
    if sets:
        sets["modified"] = now_iso(after=row["modified"])
        cols = ", ".join(f"{k} = ?" for k in sets)
        ctx.conn.execute(f"UPDATE secrets SET {cols} WHERE id = ?", (*sets.values(), row["id"]))
    return get_secret(ctx)


def delete_secret(ctx: Ctx) -> Reply:
    row = _get_secret(ctx)
    ctx.conn.execute("DELETE FROM secrets WHERE id = ?", (row["id"],))
    _forget_pending(ctx)
    return Reply(result=None, status=202)


def bulk_delete(ctx: Ctx) -> Reply:
    store = get_store(ctx, ctx.params["store_id"])
    body = _object(ctx.json(1001), {"ids"})
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad("invalid_json_body: ids must be a non-empty array of secret ids")
    for sid in ids:
        n = ctx.conn.execute(
            "DELETE FROM secrets WHERE id = ? AND store_id = ?", (sid, store["id"])
        ).rowcount
        if n == 0:
            raise ApiFailure(404, 1001, "secret_not_found")
    _forget_pending(ctx)
    return Reply(result=None, status=202)


def duplicate_secret(ctx: Ctx) -> Reply:
    row = _get_secret(ctx)
    obj = _object(ctx.json(1001), {"name", "scopes", "comment"})
    name = _secret_name(ctx, obj.get("name"))
    return Reply(
        result=_insert_secret(
            ctx,
            row["store_id"],
            name,
            row["value_digest"],
            _scopes(obj.get("scopes")),
            _comment(obj.get("comment")),
        )
    )


_S = "/accounts/{account_id}/secrets_store"
ROUTES: list[Route] = [
    route("GET", f"{_S}/quota", quota, "secrets_store"),
    route("GET", f"{_S}/stores", list_stores, "secrets_store"),
    route("POST", f"{_S}/stores", create_store, "secrets_store"),
    route("GET", f"{_S}/stores/{{store_id}}", get_store_by_id, "secrets_store"),
    route("DELETE", f"{_S}/stores/{{store_id}}", delete_store, "secrets_store"),
    route("GET", f"{_S}/stores/{{store_id}}/secrets", list_secrets, "secrets_store"),
    route("POST", f"{_S}/stores/{{store_id}}/secrets", create_secrets, "secrets_store"),
    route("DELETE", f"{_S}/stores/{{store_id}}/secrets", bulk_delete, "secrets_store"),
    route("GET", f"{_S}/stores/{{store_id}}/secrets/{{secret_id}}", get_secret, "secrets_store"),
    route(
        "PATCH", f"{_S}/stores/{{store_id}}/secrets/{{secret_id}}", patch_secret, "secrets_store"
    ),
    route(
        "DELETE", f"{_S}/stores/{{store_id}}/secrets/{{secret_id}}", delete_secret, "secrets_store"
    ),
    route(
        "POST",
        f"{_S}/stores/{{store_id}}/secrets/{{secret_id}}/duplicate",
        duplicate_secret,
        "secrets_store",
    ),
]
