"""Workers scripts endpoints (§4): upload, list, code, settings, delete, script secrets."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from reconciler.emulator import assets, bindings, migrations, scripts, worker_settings
from reconciler.emulator.bindings import invalid
from reconciler.emulator.db import now_iso
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.routing import Ctx, Route, route

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_USAGE_MODELS = {"standard", "bundled", "unbound"}
ANNOTATION_LIMITS = {"workers/message": 1000, "workers/tag": 100}


def check_settings(ctx: Ctx, d: dict[str, Any], script: str) -> None:
    """Type checks for the settings fields we store and return."""
    date = d.get("compatibility_date")
    if date is not None and (not isinstance(date, str) or (date and not _DATE.match(date))):
        raise invalid("compatibility_date must be a date YYYY-MM-DD")
    for key in ("compatibility_flags", "tags"):
        v = d.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise invalid(f"{key} must be an array of strings")
    if "usage_model" in d and d["usage_model"] not in _USAGE_MODELS:
        raise invalid(f"usage_model must be one of {', '.join(sorted(_USAGE_MODELS))}")
    if "logpush" in d and not isinstance(d["logpush"], bool):
        raise invalid("logpush must be a boolean")
    if d.get("annotations") is not None and not isinstance(d["annotations"], dict):
        raise invalid("annotations must be an object")
    worker_settings.check_observability(d.get("observability"))
    worker_settings.check_placement(d.get("placement"))
    worker_settings.check_limits(d.get("limits"))
    worker_settings.check_tail_consumers(ctx, d.get("tail_consumers"), script)
    for key, limit in ANNOTATION_LIMITS.items():
        value = (d.get("annotations") or {}).get(key)
        if value is not None and (not isinstance(value, str) or len(value.encode()) > limit):
            raise invalid(f"annotation {key} must be a string of at most {limit} bytes")


def apply_script_settings(doc: dict[str, Any], d: dict[str, Any]) -> None:
    """Script-level settings present in `d` replace the stored ones (null: the default)."""
    for key in scripts.SCRIPT_KEYS:
        if key not in d:
            continue
        if key == "observability":
            doc[key] = worker_settings.observability_form(d[key])
        elif key == "logpush":
            doc[key] = bool(d[key])
        else:
            doc[key] = d[key] if d[key] is not None else []


def keep_types(metadata: dict[str, Any]) -> set[str]:
    keep = metadata.get("keep_bindings") or []
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise invalid("keep_bindings must be an array of binding types")
    out = set(keep)
    if metadata.get("keep_vars") is True:
        out |= {"plain_text", "json"}
    return out


def build_upload_version(
    ctx: Ctx, name: str, previous: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse and validate a multipart upload into a stored (not yet deployed) version."""
    up = scripts.parse_upload(ctx.parts())
    md = up.metadata
    check_settings(ctx, md, name)
    version = scripts.new_version(
        ctx,
        name,
        previous,
        modules=up.modules,
        main=up.main_module,
        body=up.body_part,
        new_bindings=bindings.validate(ctx, md.get("bindings")),
        keep_types=keep_types(md),
        settings={k: md.get(k) for k in scripts.VERSION_KEYS},
        strict_inherit=ctx.query.get("bindings_inherit") == "strict",
        assets=assets.version_assets(ctx, name, md, previous),
    )
    return version, md


def upload(ctx: Ctx) -> Reply:
    name = scripts.check_name(ctx.params["script_name"])
    prev_doc = scripts.load(ctx, name)
    previous = scripts.current_version(ctx, prev_doc) if prev_doc else None
    version, md = build_upload_version(ctx, name, previous)
    tag = migrations.next_tag(
        prev_doc.get("migration_tag") if prev_doc else None, md.get("migrations")
    )
    doc, _ = scripts.deploy(ctx, name, version)
    if tag is not None:
        doc["migration_tag"] = tag
    apply_script_settings(doc, md)
    scripts.save(ctx, doc)
    result = scripts.list_item(ctx, doc)
    result.update(
        startup_time_ms=0,
        entry_point=version["main_module"] or version["body_part"],
        deployment_id=version["id"],
    )
    return Reply(result=result)


def list_scripts(ctx: Ctx) -> Reply:
    rows = ctx.conn.execute(
        "SELECT doc FROM scripts WHERE account_id = ? ORDER BY seq", (ctx.account_id,)
    ).fetchall()
    items = [scripts.list_item(ctx, json.loads(r["doc"])) for r in rows]
    wanted = ctx.query.get("tags")
    if wanted:
        for pair in wanted.split(","):
            tag, _, allowed = pair.partition(":")
            if allowed not in ("yes", "no"):
                raise ApiFailure(400, 10004, "Malformed URL parameter: tags must be tag:yes|no")
            items = [i for i in items if (tag in i["tags"]) == (allowed == "yes")]
    return Reply(result=items)


def download(ctx: Ctx) -> Reply:
    """Raw code: one module as-is, several as multipart with the main module first."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    v = scripts.current_version(ctx, doc)
    modules = [scripts.Module.from_doc(m) for m in v["modules"]]
    headers = {"etag": f'"{doc["etag"]}"'}
    if modules:
        headers["cf-entrypoint"] = modules[0].name
    if len(modules) == 1:
        return Reply(raw=modules[0].data, content_type="application/javascript", headers=headers)
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for m in modules:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{m.name}"; '
            f'filename="{m.name}"\r\nContent-Type: {m.content_type}\r\n\r\n'.encode()
        )
        chunks.append(m.data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return Reply(
        raw=b"".join(chunks),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def service_users(ctx: Ctx, name: str) -> list[tuple[str, str]]:
    """(worker, binding name) of every other worker whose live version binds `name` as a service."""
    users = []
    for r in ctx.conn.execute(
        "SELECT name, doc FROM scripts WHERE account_id = ? AND name != ? ORDER BY seq",
        (ctx.account_id, name),
    ).fetchall():
        v = scripts.current_version(ctx, json.loads(r["doc"]))
        users += [
            (r["name"], b["name"])
            for b in v["bindings"]
            if b["type"] == "service" and b.get("service") == name
        ]
    return users


def remove_script(ctx: Ctx, doc: dict[str, Any]) -> None:
    """Delete a worker with its versions and deployments, so no view shows it any more.

    Without `?force=true`, a worker other workers bind as a service is kept (10064). Its
    routes and custom domains go with it (the emulator's choice: nothing points at a worker
    that is gone).
    """
    name = doc["id"]
    if not ctx.flag("force"):
        users = sorted({w for w, _ in service_users(ctx, name)})
        if users:
            raise ApiFailure(
                400, 10064,
                f"Cannot delete this Worker: it is referenced by {', '.join(users)}. "
                "Use ?force=true to delete it anyway.",
            )  # fmt: skip
    for table, col in (
        ("scripts", "name"), ("versions", "script"), ("deployments", "script"),
        ("routes", "script"), ("domains", "service"),
    ):  # fmt: skip
        ctx.conn.execute(
            f"DELETE FROM {table} WHERE account_id = ? AND {col} = ?", (ctx.account_id, name)
        )


def delete(ctx: Ctx) -> Reply:
    remove_script(ctx, scripts.require(ctx, ctx.params["script_name"]))
    return Reply(result=None)


def put_content(ctx: Ctx) -> Reply:
    """`PUT …/content`: new code (metadata names only the entry part); bindings and
    settings stay as they are. A new deployed version, so `etag` and `modified_on` move."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    up = scripts.parse_upload(ctx.parts())
    current = scripts.current_version(ctx, doc)
    version = scripts.new_version(
        ctx,
        doc["id"],
        None,
        modules=up.modules,
        main=up.main_module,
        body=up.body_part,
        new_bindings=current["bindings"],
        keep_types=set(),
        settings=scripts.settings_from(current, {}),
        strict_inherit=True,
        assets=current.get("assets"),
    )
    deployed, _ = scripts.deploy(ctx, doc["id"], version)
    return Reply(result=scripts.list_item(ctx, deployed))


def get_settings(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result=scripts.settings_json(ctx, doc))


def patch_settings(ctx: Ctx) -> Reply:
    """Multipart part `settings` (the documented form) or a JSON body; makes a new version."""
    doc = scripts.require(ctx, ctx.params["script_name"])
    if ctx.content_type == "multipart/form-data":
        part = next((p for p in ctx.parts() if p.name == "settings"), None)
        if part is None:
            raise invalid("The request must have a 'settings' part")
        try:
            body = json.loads(part.data)
        except (ValueError, UnicodeDecodeError):
            raise ApiFailure(400, 10006, "Unparseable settings: not valid JSON") from None
    else:
        body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("settings must be a JSON object")
    unknown = sorted(set(body) - scripts.SETTINGS_KEYS)
    if unknown:
        raise invalid(f"Unknown settings field(s): {', '.join(unknown)}")
    check_settings(ctx, body, doc["id"])
    current = scripts.current_version(ctx, doc)
    if "bindings" in body:
        new_b, previous = bindings.validate(ctx, body["bindings"]), current
    else:
        new_b, previous = current["bindings"], None
    overrides = {k: body[k] for k in scripts.VERSION_KEYS if k in body}
    overrides.setdefault("annotations", {})  # not inherited across settings updates
    doc = _redeploy(ctx, doc, current, new_b, previous=previous, overrides=overrides)
    apply_script_settings(doc, body)
    scripts.save(ctx, doc)
    return Reply(result=scripts.settings_json(ctx, doc))


def get_script_settings(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    return Reply(result=scripts.script_settings_json(doc))


def patch_script_settings(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("script settings must be a JSON object")
    unknown = sorted(set(body) - {"logpush", "observability", "tags", "tail_consumers"})
    if unknown:
        raise invalid(f"Unknown script settings field(s): {', '.join(unknown)}")
    check_settings(ctx, body, doc["id"])
    apply_script_settings(doc, body)
    doc["modified_on"] = now_iso(after=doc["modified_on"])
    scripts.save(ctx, doc)
    return Reply(result=scripts.script_settings_json(doc))


# --- script secrets (§4.7) ------------------------------------------------------------


def _secret_public(b: dict[str, Any]) -> dict[str, Any]:
    return {"name": b["name"], "type": b["type"]}


def _redeploy(
    ctx: Ctx,
    doc: dict[str, Any],
    current: dict[str, Any],
    new_bindings: list[dict[str, Any]],
    *,
    previous: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new deployed version with the current code, these bindings and settings overrides."""
    version = scripts.new_version(
        ctx,
        doc["id"],
        previous,
        modules=[scripts.Module.from_doc(m) for m in current["modules"]],
        main=current["main_module"],
        body=current["body_part"],
        new_bindings=new_bindings,
        keep_types=set(),
        settings=scripts.settings_from(current, overrides or {}),
        strict_inherit=True,
    )
    deployed, _ = scripts.deploy(ctx, doc["id"], version)
    return deployed


# What the API annotates a version made by a script secret change with; the previous
# version's own annotations (a deploy message, our fingerprint record) are not carried over.
SECRET_CHANGE_ANNOTATIONS = {"workers/triggered_by": "secret"}


def _rebind(ctx: Ctx, doc: dict[str, Any], new_bindings: list[dict[str, Any]]) -> None:
    """A new deployed version with the same code and settings but these bindings."""
    overrides = {"annotations": dict(SECRET_CHANGE_ANNOTATIONS)}
    _redeploy(ctx, doc, scripts.current_version(ctx, doc), new_bindings, overrides=overrides)


def put_secret(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    body = ctx.json(10006)
    if not isinstance(body, dict):
        raise invalid("the secret must be a JSON object")
    kind = body.get("type", "secret_text")
    if kind not in bindings.SECRET_TYPES:
        raise invalid("type must be secret_text or secret_key")
    allowed = {"name", "type", "text"} if kind == "secret_text" else {
        "name", "type", "format", "algorithm", "usages", "key_base64", "key_jwk"
    }  # fmt: skip
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"Unknown field(s): {', '.join(unknown)}")
    (checked,) = bindings.validate(ctx, [{**body, "type": kind}])
    scripts.require_latest_deployed(ctx, doc["id"])
    name = checked["name"]
    current = scripts.current_version(ctx, doc)["bindings"]
    clash = next((b for b in current if b["name"] == name), None)
    if clash is not None and clash["type"] not in bindings.SECRET_TYPES:
        raise ApiFailure(400, 10053, f"Binding name '{name}' already in use")
    _rebind(ctx, doc, [b for b in current if b["name"] != name] + [checked])
    return Reply(result=_secret_public(checked))


def _secret_binding(ctx: Ctx, doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    name = ctx.params["secret_name"]
    current = scripts.current_version(ctx, doc)["bindings"]
    found = next(
        (b for b in current if b["name"] == name and b["type"] in bindings.SECRET_TYPES), None
    )
    if found is None:
        raise ApiFailure(404, 10056, f"Binding '{name}' not found")
    return found, current


def list_secrets(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    current = scripts.current_version(ctx, doc)["bindings"]
    return Reply(result=[_secret_public(b) for b in current if b["type"] in bindings.SECRET_TYPES])


def get_secret(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    found, _ = _secret_binding(ctx, doc)
    return Reply(result=_secret_public(found))


def delete_secret(ctx: Ctx) -> Reply:
    doc = scripts.require(ctx, ctx.params["script_name"])
    found, current = _secret_binding(ctx, doc)
    scripts.require_latest_deployed(ctx, doc["id"])
    _rebind(ctx, doc, [b for b in current if b is not found])
    return Reply(result=None)


_W = "/accounts/{account_id}/workers/scripts"
ROUTES: list[Route] = [
    route("GET", _W, list_scripts, "workers"),
    route("PUT", f"{_W}/{{script_name}}", upload, "workers"),
    route("GET", f"{_W}/{{script_name}}", download, "workers"),
    route("DELETE", f"{_W}/{{script_name}}", delete, "workers"),
    route("GET", f"{_W}/{{script_name}}/content/v2", download, "workers"),
    route("PUT", f"{_W}/{{script_name}}/content", put_content, "workers"),
    route("GET", f"{_W}/{{script_name}}/settings", get_settings, "workers"),
    route("PATCH", f"{_W}/{{script_name}}/settings", patch_settings, "workers"),
    route("GET", f"{_W}/{{script_name}}/script-settings", get_script_settings, "workers"),
    route("PATCH", f"{_W}/{{script_name}}/script-settings", patch_script_settings, "workers"),
    route("GET", f"{_W}/{{script_name}}/secrets", list_secrets, "workers"),
    route("PUT", f"{_W}/{{script_name}}/secrets", put_secret, "workers"),
    route("GET", f"{_W}/{{script_name}}/secrets/{{secret_name}}", get_secret, "workers"),
    route("DELETE", f"{_W}/{{script_name}}/secrets/{{secret_name}}", delete_secret, "workers"),
]
