"""What wrangler's `versions`, `deployments`, `rollback` and `delete` commands need beyond
deploy: the deployable versions list, references, the services delete, tails by consumer
and an (always empty) KV namespaces list. `rollback` uses deploy_flow's endpoints."""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator import scripts
from reconciler.emulator.deploy_flow import version_json
from reconciler.emulator.envelope import ApiFailure, Reply, page_window, paged
from reconciler.emulator.routing import Ctx, Route, route
from reconciler.emulator.workers import remove_script, service_users


def list_versions(ctx: Ctx) -> Reply:
    """Newest first, as `{"items": [...]}`; every stored version has code, so all are
    deployable and `?deployable=true` changes nothing."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    rows = ctx.conn.execute(
        "SELECT doc FROM versions WHERE account_id = ? AND script = ? ORDER BY number DESC",
        (ctx.account_id, doc["id"]),
    ).fetchall()
    items = [version_json(json.loads(r["doc"])) for r in rows]
    # `?page`/`per_page` are honoured (the SDK pages until an empty page, §8.1.2); without
    # per_page a page holds every version, so `?page=2` is the empty page that ends it.
    page, per_page = page_window(
        ctx.query.get("page"), ctx.query.get("per_page"), default=max(len(items), 1),
        lo=1, hi=max(len(items), 100),
    )  # fmt: skip
    window = paged(items, page, per_page)
    return Reply(result={"items": window.result}, result_info=window.result_info)


def _reference(binding: str, worker: str) -> dict[str, str]:
    return {"name": binding, "service": worker, "environment": "production"}


def references(ctx: Ctx) -> Reply:
    """Service bindings to this worker (incoming) and from it (outgoing)."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    incoming = [_reference(b, w) for w, b in service_users(ctx, doc["id"])]
    outgoing = [
        _reference(b["name"], str(b.get("service")))
        for b in scripts.current_version(ctx, doc)["bindings"]
        if b["type"] == "service"
    ]
    return Reply(
        result={
            "services": {"incoming": incoming, "outgoing": outgoing, "pages_function": False},
            "durable_objects": [],
            "dispatch_outbounds": [],
        }
    )


def delete_service(ctx: Ctx) -> Reply:
    """wrangler's delete: the same as deleting the script, 10090 when there is none."""
    doc = scripts.load(ctx, scripts.check_name(ctx.params["script_name"]))
    if doc is None:
        raise ApiFailure(404, 10090, "workers.api.error.service_not_found")
    remove_script(ctx, doc)
    return Reply(result=None)


def tails_by_consumer(ctx: Ctx) -> Reply:
    """Workers whose `tail_consumers` name this worker (a missing worker has none)."""
    name = scripts.check_name(ctx.params["script_name"])
    tails: list[dict[str, Any]] = []
    for r in ctx.conn.execute(
        "SELECT name, doc FROM scripts WHERE account_id = ? ORDER BY seq", (ctx.account_id,)
    ).fetchall():
        doc = json.loads(r["doc"])
        if any(t.get("service") == name for t in doc["tail_consumers"]):
            tails.append(
                {
                    "tag": doc["tag"],
                    "producer": {"script": r["name"]},
                    "consumer": {"service": name, "environment": "production"},
                    "log_push": False,
                    "created_on": doc["created_on"],
                    "modified_on": doc["modified_on"],
                }
            )
    return Reply(result=tails)


def kv_namespaces(ctx: Ctx) -> Reply:
    """KV is not emulated: an empty, well-formed list (wrangler's delete looks for the
    Workers Sites namespaces of the deleted worker)."""
    page, per_page = page_window(
        ctx.query.get("page"), ctx.query.get("per_page"), default=20, lo=1, hi=1000
    )
    return paged([], page, per_page)


_A = "/accounts/{account_id}/workers"
ROUTES: list[Route] = [
    route("GET", f"{_A}/scripts/{{script_name}}/versions", list_versions, "workers"),
    route("GET", f"{_A}/scripts/{{script_name}}/references", references, "workers"),
    route("DELETE", f"{_A}/services/{{script_name}}", delete_service, "workers"),
    route("GET", f"{_A}/tails/by-consumer/{{script_name}}", tails_by_consumer, "workers"),
    route("GET", "/accounts/{account_id}/storage/kv/namespaces", kv_namespaces, "workers"),
]
