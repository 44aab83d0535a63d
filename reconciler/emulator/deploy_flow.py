"""What `wrangler deploy` needs besides the upload (§8.2): services, versions, deployments,
and the workers.dev subdomain."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.emulator import bindings, scripts
from reconciler.emulator.bindings import invalid
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.routing import Ctx, Route, route
from reconciler.emulator.workers import ANNOTATION_LIMITS, build_upload_version


def get_service(ctx: Ctx) -> Reply:
    doc = scripts.load(ctx, scripts.check_name(ctx.params["script_name"]))
    if doc is None:
        raise ApiFailure(404, 10090, "workers.api.error.service_not_found")
    script = scripts.list_item(ctx, doc)
    script.pop("last_deployed_from")  # wrangler asks for confirmation on "api"/"dash"
    return Reply(
        result={
            "id": doc["id"],
            "created_on": doc["created_on"],
            "modified_on": doc["modified_on"],
            "default_environment": {
                "environment": "production",
                "created_on": doc["created_on"],
                "modified_on": doc["modified_on"],
                "script": script,
            },
        }
    )


def _deployments(ctx: Ctx, name: str) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(
        "SELECT doc FROM deployments WHERE account_id = ? AND script = ? ORDER BY seq DESC",
        (ctx.account_id, name),
    ).fetchall()
    return [json.loads(r["doc"]) for r in rows]


def list_deployments(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result={"deployments": _deployments(ctx, doc["id"])})


def create_deployment(ctx: Ctx) -> Reply:
    """One or two versions whose percentages add up to 100; the largest share becomes the
    script's live code. Deploying a version whose secrets differ from the newest version's
    answers 10220 (what `wrangler rollback` asks about) unless `?force=true`."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("the deployment must be a JSON object")
    split = body.get("versions")
    if not isinstance(split, list) or not split:
        raise invalid("versions must be a non-empty array of {version_id, percentage}")
    if len(split) > 2:
        raise invalid("a deployment holds one or two versions")
    total = 0.0
    chosen: tuple[float, dict[str, Any]] | None = None
    versions: list[dict[str, Any]] = []
    for item in split:
        if not isinstance(item, dict) or not isinstance(item.get("percentage"), int | float):
            raise invalid("each version needs version_id and percentage")
        version = scripts.load_version(ctx, doc["id"], str(item.get("version_id")))
        if version is None:
            raise ApiFailure(404, 10071, f"Version {item.get('version_id')} not found")
        versions.append(version)
        total += float(item["percentage"])
        if chosen is None or item["percentage"] > chosen[0]:
            chosen = (float(item["percentage"]), version)
    if abs(total - 100.0) > 1e-6 or chosen is None:
        raise invalid("version percentages must add up to 100")
    if len({v["id"] for v in versions}) != len(versions):
        raise invalid("a version may appear only once in a deployment")
    raw = body.get("annotations")
    annotations: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for key, limit in ANNOTATION_LIMITS.items():
        value = annotations.get(key)
        if value is not None and (not isinstance(value, str) or len(value.encode()) > limit):
            raise invalid(f"annotation {key} must be a string of at most {limit} bytes")
    if ctx.query.get("force") != "true":
        changed = _secrets_changed(ctx, doc["id"], versions)
        if changed:
            raise ApiFailure(
                400,
                10220,
                "A version of this deployment has secrets that differ from the latest "
                f"version's; deploy with force=true to continue. The following secrets have "
                f"changed: {', '.join(changed)}",
            )
    _, dep = scripts.deploy(ctx, doc["id"], chosen[1], split=split, annotations=annotations)
    return Reply(result=dep)


def _secrets_changed(ctx: Ctx, script: str, versions: list[dict[str, Any]]) -> list[str]:
    """Secret names whose value (digest) or presence differs from the newest version's."""
    latest = scripts.latest_version(ctx, script)
    if latest is None:
        return []

    def secrets(v: dict[str, Any]) -> dict[str, Any]:
        return {b["name"]: b for b in v["bindings"] if b["type"] in bindings.SECRET_TYPES}

    now = secrets(latest)
    changed: set[str] = set()
    for v in versions:
        then = secrets(v)
        changed |= {n for n in now.keys() | then.keys() if now.get(n) != then.get(n)}
    return sorted(changed)


def upload_version(ctx: Ctx) -> Reply:
    """A new version of an existing worker, not deployed until POST deployments."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    version, _ = build_upload_version(ctx, doc["id"], scripts.current_version(ctx, doc))
    return Reply(result=version_json(version))


def version_json(v: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": v["id"],
        "number": v["number"],
        "metadata": {
            "created_on": v["created_on"],
            "modified_on": v["created_on"],
            "source": v["source"],
            "author_email": "emulator@localhost",
            "has_preview": False,
        },
        "annotations": v["annotations"],
        "resources": {
            "script": {
                "etag": v["etag"],
                "handlers": v["handlers"],
                "last_deployed_from": v["source"],
            },
            "script_runtime": {
                "compatibility_date": v["compatibility_date"],
                "compatibility_flags": v["compatibility_flags"],
                "usage_model": v["usage_model"],
                "limits": v["limits"],
            },
            "bindings": [bindings.public_form(b) for b in v["bindings"]],
        },
    }


def get_version(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    v = scripts.load_version(ctx, doc["id"], ctx.params["version_id"])
    if v is None:
        raise ApiFailure(404, 10071, "Version not found")
    return Reply(result=version_json(v))


def account_subdomain(ctx: Ctx) -> Reply:
    assert ctx.account is not None
    slug = re.sub(r"[^a-z0-9]+", "-", ctx.account.name.lower()).strip("-") or "local"
    return Reply(result={"subdomain": slug[:63]})


def get_script_subdomain(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result=doc["subdomain"])


def post_script_subdomain(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
        raise invalid("the body must be {enabled: bool, previews_enabled?: bool}")
    previews = body.get("previews_enabled", body["enabled"])
    if not isinstance(previews, bool):
        raise invalid("previews_enabled must be a boolean")
    doc["subdomain"] = {"enabled": body["enabled"], "previews_enabled": previews}
    scripts.save(ctx, doc)
    return Reply(result=doc["subdomain"])


def delete_script_subdomain(ctx: Ctx) -> Reply:
    """Takes the worker off workers.dev, its Preview URLs with it."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    doc["subdomain"] = {"enabled": False, "previews_enabled": False}
    scripts.save(ctx, doc)
    return Reply(result=doc["subdomain"])


_A = "/accounts/{account_id}/workers"
ROUTES: list[Route] = [
    route("GET", f"{_A}/services/{{script_name}}", get_service, "workers"),
    route("GET", f"{_A}/scripts/{{script_name}}/deployments", list_deployments, "workers"),
    route("POST", f"{_A}/scripts/{{script_name}}/deployments", create_deployment, "workers"),
    route("POST", f"{_A}/scripts/{{script_name}}/versions", upload_version, "workers"),
    route("GET", f"{_A}/scripts/{{script_name}}/versions/{{version_id}}", get_version, "workers"),
    route("GET", f"{_A}/subdomain", account_subdomain, "workers"),
    route("GET", f"{_A}/scripts/{{script_name}}/subdomain", get_script_subdomain, "workers"),
    route("POST", f"{_A}/scripts/{{script_name}}/subdomain", post_script_subdomain, "workers"),
    route("DELETE", f"{_A}/scripts/{{script_name}}/subdomain", delete_script_subdomain, "workers"),
]
