"""Zones from the config file: `GET /zones` (filters, paging) and the zone a request names.

Zones are read-only here: the emulator serves the zones its config declares, so routes and
custom domains have somewhere to live. Zone-scoped endpoints are authorised through the
zone's account, like account-scoped ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reconciler.emulator.accounts import ACCOUNT_CREATED_ON
from reconciler.emulator.auth import authorize
from reconciler.emulator.config import ZoneConfig
from reconciler.emulator.envelope import ApiFailure, Reply, page_window, paged
from reconciler.emulator.routing import Ctx, Route, route

_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
# `name=` takes an optional operator prefix (the SDK's `zones.list` docstring).
_NAME_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equal": lambda v, q: v == q.lower(),
    "not_equal": lambda v, q: v != q.lower(),
    "starts_with": lambda v, q: v.startswith(q.lower()),
    "ends_with": lambda v, q: v.endswith(q.lower()),
    "contains": lambda v, q: q.lower() in v,
    "starts_with_case_sensitive": lambda v, q: v.startswith(q),
    "ends_with_case_sensitive": lambda v, q: v.endswith(q),
    "contains_case_sensitive": lambda v, q: q in v,
}


def zone_json(ctx: Ctx, z: ZoneConfig) -> dict[str, Any]:
    account = ctx.config.account(z.account)
    return {
        "id": z.id,
        "name": z.name,
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "created_on": ACCOUNT_CREATED_ON,
        "modified_on": ACCOUNT_CREATED_ON,
        "activated_on": ACCOUNT_CREATED_ON,
        "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3},
        "owner": {"id": None, "type": "user", "name": None},
        "account": {"id": z.account, "name": account.name if account else ""},
        "permissions": ["#worker:read", "#worker:edit", "#zone:read"],
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0},
    }


def _name_filter(raw: str) -> Callable[[str], bool]:
    op, sep, value = raw.partition(":")
    test = _NAME_OPERATORS[op] if sep and op in _NAME_OPERATORS else None
    if test is None:
        return lambda name: name == raw.lower()
    return lambda name: test(name, value)


def list_zones(ctx: Ctx) -> Reply:
    """The token's zones; `name`, `account.id`, `account.name`, `status`; paged 5..50 (20)."""
    assert ctx.token is not None
    zones = [z for z in ctx.config.zones if z.account in ctx.token.accounts]
    name = ctx.query.get("name")
    if name:
        matches = _name_filter(name)
        zones = [z for z in zones if matches(z.name)]
    account_id = ctx.query.get("account.id")
    if account_id:
        zones = [z for z in zones if z.account == account_id]
    account_name = ctx.query.get("account.name")
    if account_name:
        zones = [
            z
            for z in zones
            if (a := ctx.config.account(z.account)) is not None and a.name == account_name
        ]
    status = ctx.query.get("status")
    if status and status != "active":
        zones = []
    zones.sort(key=lambda z: z.name, reverse=ctx.query.get("direction") == "desc")
    page, per_page = page_window(
        ctx.query.get("page"), ctx.query.get("per_page"), default=20, lo=5, hi=50
    )
    return paged([zone_json(ctx, z) for z in zones], page, per_page)


def zone_of(ctx: Ctx, write: bool) -> ZoneConfig:
    """The zone in the path, if the token may use Workers on its account (sets `ctx.account`)."""
    assert ctx.token is not None
    zone_id = ctx.params["zone_id"]
    zone = ctx.config.zone(zone_id) if _ZONE_ID.match(zone_id) else None
    if zone is None:
        raise ApiFailure(
            404, 7003, f"Could not route to {ctx.path}, perhaps your object identifier is invalid?"
        )
    ctx.account = authorize(ctx.token, zone.account, "workers", write, ctx.config, ctx.path)
    return zone


def get_zone(ctx: Ctx) -> Reply:
    assert ctx.token is not None
    zone_id = ctx.params["zone_id"]
    zone = ctx.config.zone(zone_id) if _ZONE_ID.match(zone_id) else None
    if zone is None or zone.account not in ctx.token.accounts:
        raise ApiFailure(
            404, 7003, f"Could not route to {ctx.path}, perhaps your object identifier is invalid?"
        )
    return Reply(result=zone_json(ctx, zone))


def account_zones(ctx: Ctx) -> list[ZoneConfig]:
    return [z for z in ctx.config.zones if z.account == ctx.account_id]


def zone_by_name(ctx: Ctx, name: str) -> ZoneConfig | None:
    return next((z for z in account_zones(ctx) if z.name == name.lower()), None)


def zone_for_host(ctx: Ctx, host: str) -> ZoneConfig | None:
    """The account's zone a hostname lies in: the longest zone name it equals or ends with."""
    host = host.lower()
    best: ZoneConfig | None = None
    for z in account_zones(ctx):
        if (host == z.name or host.endswith("." + z.name)) and (
            best is None or len(z.name) > len(best.name)
        ):
            best = z
    return best


def host_in_zone(host: str, zone: ZoneConfig) -> bool:
    host = host.lower()
    return host == zone.name or host.endswith("." + zone.name)


ROUTES: list[Route] = [
    route("GET", "/zones", list_zones, None),
    route("GET", "/zones/{zone_id}", get_zone, None),
]
