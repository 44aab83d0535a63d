"""Cron Triggers: `GET/PUT …/scripts/{name}/schedules` (N8). A PUT replaces the whole list.

Stored on the script, so deleting a worker deletes its schedules. A cron that stays keeps its
`created_on`; the answer lists crons in the order sent, duplicates once.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.emulator import scripts
from reconciler.emulator.bindings import invalid
from reconciler.emulator.db import now_iso
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.routing import Ctx, Route, route

# Cron Triggers per Worker on Workers Paid (Workers docs, "Limits"; Free allows 5).
MAX_SCHEDULES = 250
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?LW#]+$")


def valid_cron(cron: str) -> bool:
    """Five fields of cron syntax (minute hour day-of-month month day-of-week)."""
    fields = cron.split()
    return len(fields) == 5 and all(_FIELD.match(f) for f in fields)


def schedules_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {"schedules": [dict(s) for s in doc.get("schedules", [])]}


def get_schedules(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result=schedules_json(doc))


def put_schedules(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, list):
        raise invalid('the body must be an array of {"cron": "<expression>"}')
    crons: list[str] = []
    for item in body:
        cron = item.get("cron") if isinstance(item, dict) else None
        if not isinstance(cron, str) or not valid_cron(cron):
            raise ApiFailure(400, 10100, f"Invalid cron expression: {str(cron)[:100]!r}")
        if cron not in crons:
            crons.append(cron)
    if len(crons) > MAX_SCHEDULES:
        raise ApiFailure(400, 10101, f"A Worker may have at most {MAX_SCHEDULES} Cron Triggers")
    before = {s["cron"]: s for s in doc.get("schedules", [])}
    now = now_iso()
    doc["schedules"] = [
        before.get(c) or {"cron": c, "created_on": now, "modified_on": now} for c in crons
    ]
    scripts.save(ctx, doc)
    return Reply(result=schedules_json(doc))


_S = "/accounts/{account_id}/workers/scripts/{script_name}/schedules"
ROUTES: list[Route] = [
    route("GET", _S, get_schedules, "workers"),
    route("PUT", _S, put_schedules, "workers"),
]
