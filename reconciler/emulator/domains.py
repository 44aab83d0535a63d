"""Workers Custom Domains: `GET/PUT A/workers/domains`, `GET/DELETE …/domains/{id}` (N8).

A hostname belongs to one Worker. Attaching a hostname another Worker holds is refused
(409, 100116, unless the body sets `override_existing_origin`), as the real API answers
(alchemy-run/alchemy-async PR #1384 quotes the error); attaching it again to the same
Worker changes nothing. Unknown ids answer 404, 100114 (alchemy-run/distilled's probed
error patches).
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

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_FIELDS = {
    "hostname", "service", "zone_id", "zone_name", "environment",
    "override_existing_origin", "override_existing_dns_record",
}  # fmt: skip


def domain_json(ctx: Ctx, r: Any) -> dict[str, Any]:
    zone = ctx.config.zone(r["zone_id"])
    return {
        "id": r["id"],
        "zone_id": r["zone_id"],
        "zone_name": zone.name if zone else "",
        "hostname": r["hostname"],
        "service": r["service"],
        "environment": r["environment"],
        "cert_id": r["cert_id"],
    }


def _rows(ctx: Ctx) -> list[Any]:
    return list(
        ctx.conn.execute(
            "SELECT * FROM domains WHERE account_id = ? ORDER BY seq", (ctx.account_id,)
        ).fetchall()
    )


def list_domains(ctx: Ctx) -> Reply:
    """Every domain of the account (one page), filtered by the query's fields."""
    items = [domain_json(ctx, r) for r in _rows(ctx)]
    for key in ("hostname", "service", "zone_id", "zone_name", "environment"):
        wanted = ctx.query.get(key)
        if wanted:
            items = [i for i in items if i[key] == wanted]
    return Reply(result=items)


def _zone(ctx: Ctx, body: dict[str, Any], hostname: str) -> ZoneConfig:
    zone: ZoneConfig | None
    if body.get("zone_id") is not None:
        zone = ctx.config.zone(str(body["zone_id"]))
        if zone is not None and zone.account != ctx.account_id:
            zone = None
    elif body.get("zone_name") is not None:
        zone = zones.zone_by_name(ctx, str(body["zone_name"]))
    else:
        zone = zones.zone_for_host(ctx, hostname)
    if zone is None:
        raise ApiFailure(404, 1001, "Zone not found: name a zone of this account")
    if not zones.host_in_zone(hostname, zone):
        raise ApiFailure(
            400, 100119, f"Hostname {hostname!r} is not in zone {zone.name}: use the zone apex "
            "or one of its subdomains",
        )  # fmt: skip
    return zone


def put_domain(ctx: Ctx) -> Reply:
    body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("the domain must be a JSON object {hostname, service, zone_id?}")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise invalid(f"Unknown domain field(s): {', '.join(unknown)}")
    hostname, service = body.get("hostname"), body.get("service")
    if not isinstance(hostname, str) or not _HOSTNAME.match(hostname):
        raise invalid("hostname must be a lowercase hostname such as api.example.com")
    if not isinstance(service, str) or scripts.load(ctx, service) is None:
        raise ApiFailure(404, 10007, "This Worker does not exist on your account.")
    return Reply(
        result=_attach(ctx, body, service, override=body.get("override_existing_origin") is True)
    )


def _attach(ctx: Ctx, body: dict[str, Any], service: str, *, override: bool) -> dict[str, Any]:
    """Attach `body`'s hostname to `service` (refused when another Worker holds it)."""
    hostname = body.get("hostname")
    if not isinstance(hostname, str) or not _HOSTNAME.match(hostname):
        raise invalid("hostname must be a lowercase hostname such as api.example.com")
    environment = body.get("environment") or "production"
    if not isinstance(environment, str):
        raise invalid("environment must be a string")
    zone = _zone(ctx, body, hostname)
    held = ctx.conn.execute("SELECT * FROM domains WHERE hostname = ?", (hostname,)).fetchone()
    if held is not None and held["account_id"] != ctx.account_id:
        raise ApiFailure(409, 100116, f"Hostname '{hostname}' already in use by another account")
    if held is not None and held["service"] != service and not override:
        raise ApiFailure(
            409, 100116,
            f"Hostname '{hostname}' already in use by other custom domain. Either delete it, "
            "try a different hostname, or use the option 'override_existing_origin' to override.",
        )  # fmt: skip
    if held is not None:
        ctx.conn.execute(
            "UPDATE domains SET service = ?, environment = ?, zone_id = ? WHERE id = ?",
            (service, environment, zone.id, held["id"]),
        )
        did = held["id"]
    else:
        did = new_id()
        ctx.conn.execute(
            "INSERT INTO domains (id, account_id, zone_id, hostname, service, environment, "
            "cert_id, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (did, ctx.account_id, zone.id, hostname, service, environment, new_id(),
             ctx.db.next_seq(ctx.conn)),
        )  # fmt: skip
    row = ctx.conn.execute("SELECT * FROM domains WHERE id = ?", (did,)).fetchone()
    return domain_json(ctx, row)


def put_script_domains(ctx: Ctx) -> Reply:
    """wrangler's `PUT …/scripts/{name}/domains/records {override_scope, override_existing_origin,
    override_existing_dns_record, origins: [{hostname, zone_id?, zone_name?}]}`: attach each;
    with `override_scope` the script's other domains are detached (the whole set, inferred)."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    origins = body.get("origins") if isinstance(body, dict) else None
    if not isinstance(origins, list) or not all(isinstance(o, dict) for o in origins):
        raise invalid("the body must be {origins: [{hostname, zone_id?, zone_name?}], …}")
    override = body.get("override_existing_origin") is True
    attached = [
        _attach(ctx, {k: o.get(k) for k in ("hostname", "zone_id", "zone_name")}, doc["id"],
                override=override)
        for o in origins
    ]  # fmt: skip
    if body.get("override_scope") is True:
        keep = {d["id"] for d in attached}
        for r in _rows(ctx):
            if r["service"] == doc["id"] and r["id"] not in keep:
                ctx.conn.execute("DELETE FROM domains WHERE id = ?", (r["id"],))
    return Reply(result=attached)


def _one(ctx: Ctx) -> Any:
    row = ctx.conn.execute(
        "SELECT * FROM domains WHERE id = ? AND account_id = ?",
        (ctx.params["domain_id"], ctx.account_id),
    ).fetchone()
    if row is None:
        raise ApiFailure(404, 100114, "Domain not found")
    return row


def get_domain(ctx: Ctx) -> Reply:
    return Reply(result=domain_json(ctx, _one(ctx)))


def delete_domain(ctx: Ctx) -> Reply:
    row = _one(ctx)
    ctx.conn.execute("DELETE FROM domains WHERE id = ?", (row["id"],))
    return Reply(result=None)


_D = "/accounts/{account_id}/workers/domains"
ROUTES: list[Route] = [
    route("GET", _D, list_domains, "workers"),
    route("PUT", _D, put_domain, "workers"),
    route("GET", f"{_D}/{{domain_id}}", get_domain, "workers"),
    route("DELETE", f"{_D}/{{domain_id}}", delete_domain, "workers"),
    route(
        "PUT",
        "/accounts/{account_id}/workers/scripts/{script_name}/domains/records",
        put_script_domains,
        "workers",
    ),
]
