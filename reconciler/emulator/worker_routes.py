"""Worker routes: per zone (`/zones/{zone_id}/workers/routes`, what the SDKs use) and per
script (`PUT …/scripts/{name}/routes`, what `wrangler deploy` sends: the script's whole set).

A pattern is unique in its zone: a second route with the same pattern is refused (409,
10020 `duplicate_route`: wrangler-action #241 shows the code, terraform-provider #5501
the 409), whichever script holds it; re-pointing a route is a PUT of that route.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.emulator import scripts, zones
from reconciler.emulator.bindings import invalid
from reconciler.emulator.config import ZoneConfig
from reconciler.emulator.db import new_id
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.routing import Ctx, Route, route

_HOST = re.compile(r"^\*?\.?([a-z0-9-]+(\.[a-z0-9-]+)+)$")
MAX_PATTERN = 1024


def route_json(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r["id"], "pattern": r["pattern"]}
    if r["script"] is not None:
        out["script"] = r["script"]
    return out


def host_of(pattern: str) -> str | None:
    """The hostname a route pattern matches (leading `*`/`*.` removed), or None if malformed."""
    rest = re.sub(r"^https?://", "", pattern, flags=re.IGNORECASE)
    host = rest.split("/", 1)[0].lower()
    m = _HOST.match(host)
    return m.group(1) if m else None


def _check_pattern(raw: Any, zone: ZoneConfig | None) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > MAX_PATTERN or raw != raw.strip():
        raise ApiFailure(400, 10022, "Invalid route pattern: a non-empty string is required")
    host = host_of(raw)
    if host is None:
        raise ApiFailure(400, 10022, f"Invalid route pattern {raw!r}")
    if zone is not None and not zones.host_in_zone(host, zone):
        raise ApiFailure(400, 10022, f"Route pattern {raw!r} does not belong to zone {zone.name}")
    return raw


def _check_script(ctx: Ctx, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or scripts.load(ctx, raw) is None:
        raise ApiFailure(
            400,
            10019,
            "Cannot configure a route for a Worker which does not exist. "
            "Please ensure this Worker exists and try again.",
        )
    return raw


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("the route must be a JSON object {pattern, script?}")
    unknown = sorted(set(body) - {"pattern", "script", "request_limit_fail_open"})
    if unknown:
        raise invalid(f"Unknown route field(s): {', '.join(unknown)}")
    return body


def _duplicate(pattern: str) -> ApiFailure:
    return ApiFailure(
        409, 10020, f"workers.api.error.duplicate_route: a route with pattern {pattern!r} exists"
    )


def _held(ctx: Ctx, zone_id: str, pattern: str, other_than: str | None = None) -> Any:
    return ctx.conn.execute(
        "SELECT * FROM routes WHERE zone_id = ? AND pattern = ? AND id IS NOT ?",
        (zone_id, pattern, other_than),
    ).fetchone()


def _route(ctx: Ctx, zone: ZoneConfig) -> Any:
    row = ctx.conn.execute(
        "SELECT * FROM routes WHERE id = ? AND zone_id = ?", (ctx.params["route_id"], zone.id)
    ).fetchone()
    if row is None:
        raise ApiFailure(404, 10009, "workers.api.error.route_not_found")
    return row


def _insert(ctx: Ctx, zone: ZoneConfig, pattern: str, script: str | None) -> dict[str, Any]:
    rid = new_id()
    ctx.conn.execute(
        "INSERT INTO routes (id, account_id, zone_id, pattern, script, seq) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (rid, zone.account, zone.id, pattern, script, ctx.db.next_seq(ctx.conn)),
    )
    return {"id": rid, "pattern": pattern, "script": script}


def list_zone_routes(ctx: Ctx) -> Reply:
    zone = zones.zone_of(ctx, write=False)
    rows = ctx.conn.execute(
        "SELECT * FROM routes WHERE zone_id = ? ORDER BY seq", (zone.id,)
    ).fetchall()
    return Reply(result=[route_json(r) for r in rows])


def create_zone_route(ctx: Ctx) -> Reply:
    zone = zones.zone_of(ctx, write=True)
    body = _body(ctx)
    pattern = _check_pattern(body.get("pattern"), zone)
    script = _check_script(ctx, body.get("script"))
    if _held(ctx, zone.id, pattern) is not None:
        raise _duplicate(pattern)
    return Reply(result=route_json(_insert(ctx, zone, pattern, script)))


def get_zone_route(ctx: Ctx) -> Reply:
    zone = zones.zone_of(ctx, write=False)
    return Reply(result=route_json(_route(ctx, zone)))


def update_zone_route(ctx: Ctx) -> Reply:
    zone = zones.zone_of(ctx, write=True)
    row = _route(ctx, zone)
    body = _body(ctx)
    pattern = _check_pattern(body.get("pattern"), zone)
    script = _check_script(ctx, body.get("script"))
    if _held(ctx, zone.id, pattern, other_than=row["id"]) is not None:
        raise _duplicate(pattern)
    ctx.conn.execute(
        "UPDATE routes SET pattern = ?, script = ? WHERE id = ?", (pattern, script, row["id"])
    )
    return Reply(result=route_json({"id": row["id"], "pattern": pattern, "script": script}))


def delete_zone_route(ctx: Ctx) -> Reply:
    zone = zones.zone_of(ctx, write=True)
    row = _route(ctx, zone)
    ctx.conn.execute("DELETE FROM routes WHERE id = ?", (row["id"],))
    return Reply(result={"id": row["id"]})


# --- per script (wrangler) ------------------------------------------------------------


def script_routes(ctx: Ctx, name: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            "SELECT * FROM routes WHERE account_id = ? AND script = ? ORDER BY seq",
            (ctx.account_id, name),
        ).fetchall()
    )


def _zone_of_item(ctx: Ctx, item: dict[str, Any], host: str) -> ZoneConfig:
    zone: ZoneConfig | None
    if isinstance(item.get("zone_id"), str):
        zone = ctx.config.zone(item["zone_id"])
        if zone is not None and zone.account != ctx.account_id:
            zone = None
    elif isinstance(item.get("zone_name"), str):
        zone = zones.zone_by_name(ctx, item["zone_name"])
    else:
        zone = zones.zone_for_host(ctx, host)
    if zone is None:
        raise ApiFailure(400, 10022, f"Could not find a zone of this account for {host!r}")
    return zone


def put_script_routes(ctx: Ctx) -> Reply:
    """Replace the script's routes with the body's list (strings or {pattern, zone_*})."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, list):
        raise invalid("the body must be an array of routes")
    wanted: list[tuple[ZoneConfig, str]] = []
    for item in body:
        item = {"pattern": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            raise invalid("each route must be a pattern or an object {pattern, zone_id?}")
        pattern = _check_pattern(item.get("pattern"), None)
        zone = _zone_of_item(ctx, item, host_of(pattern) or "")
        _check_pattern(pattern, zone)
        held = _held(ctx, zone.id, pattern)
        if held is not None and held["script"] != doc["id"]:
            raise _duplicate(pattern)
        wanted.append((zone, pattern))
    keep = {(z.id, p) for z, p in wanted}
    for r in script_routes(ctx, doc["id"]):
        if (r["zone_id"], r["pattern"]) not in keep:
            ctx.conn.execute("DELETE FROM routes WHERE id = ?", (r["id"],))
    out = []
    for zone, pattern in wanted:
        held = _held(ctx, zone.id, pattern)
        out.append(route_json(held) if held is not None else route_json(
            _insert(ctx, zone, pattern, doc["id"])
        ))  # fmt: skip
    return Reply(result=out)


def get_script_routes(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result=[route_json(r) for r in script_routes(ctx, doc["id"])])


_Z = "/zones/{zone_id}/workers/routes"
_S = "/accounts/{account_id}/workers/scripts/{script_name}/routes"
ROUTES: list[Route] = [
    route("GET", _Z, list_zone_routes, None),
    route("POST", _Z, create_zone_route, None),
    route("GET", f"{_Z}/{{route_id}}", get_zone_route, None),
    route("PUT", f"{_Z}/{{route_id}}", update_zone_route, None),
    route("DELETE", f"{_Z}/{{route_id}}", delete_zone_route, None),
    route("GET", _S, get_script_routes, "workers"),
    route("PUT", _S, put_script_routes, "workers"),
]
