"""The Starlette app: the v4 API under /client/v4 and inspection under /__emulator.

Every API request goes through one dispatcher: latency, rate limit, injected faults,
routing, authentication, then the handler in one SQLite transaction. Whatever happens,
the answer is a v4 envelope (never a traceback) and the request is logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HttpRoute

from reconciler.emulator import (
    accounts,
    assets,
    deploy_flow,
    domains,
    lifecycle,
    schedules,
    scripts,
    secrets_store,
    worker_routes,
    workers,
    zones,
)
from reconciler.emulator.auth import authenticate, authorize, rate_key
from reconciler.emulator.config import AccountConfig, EmulatorConfig
from reconciler.emulator.db import Database
from reconciler.emulator.edge import (
    MAX_CONTROL_BODY_BYTES,
    BodyTooLarge,
    LoopbackHostOnly,
    read_body,
)
from reconciler.emulator.envelope import ApiFailure, Reply, failure_body
from reconciler.emulator.faults import Faults, FaultSettings
from reconciler.emulator.routing import Ctx, Route, match

API_PREFIX = "/client/v4"
MAX_BODY_BYTES = 10 * 1024 * 1024  # the Workers paid-plan script size limit
# An asset bucket: a 25 MiB file, base64 (a third more), and the multipart framing.
MAX_ASSET_BODY_BYTES = 40 * 1024 * 1024
MAX_LOG_ENTRIES = 100_000  # a long-running `serve` keeps the most recent requests
MAX_LOG_FIELD = 1024  # characters of a logged path or query
# Logged for a request whose client went away before its answer (nginx's convention).
CLIENT_CLOSED = 499
ROUTES: list[Route] = [
    *accounts.ROUTES,
    *assets.ROUTES,
    *workers.ROUTES,
    *deploy_flow.ROUTES,
    *lifecycle.ROUTES,
    *secrets_store.ROUTES,
    *zones.ROUTES,
    *worker_routes.ROUTES,
    *schedules.ROUTES,
    *domains.ROUTES,
]
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class Emulator:
    """Everything one app instance owns (reachable as `app.state.emulator`)."""

    config: EmulatorConfig
    db: Database
    faults: Faults
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_LOG_ENTRIES))
    log_lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        headers: dict[str, str] = {}
        try:
            reply = await self._dispatch(request, headers)
            response = Response(
                reply.body(),
                status_code=reply.status,
                media_type=reply.content_type,
                headers={**headers, **reply.headers},
            )
        except ApiFailure as exc:
            response = _failure(exc, {**headers, **exc.headers})
        except ClientDisconnect:
            # The client is gone (a Ctrl-C): nobody reads this answer, and it is no error of ours.
            response = Response(status_code=CLIENT_CLOSED)
        except RecursionError:  # a body nested deeper than any parser here goes
            response = _failure(ApiFailure(400, 10001, "Request body is nested too deep"), headers)
        except Exception:  # a bug of ours: still the envelope, never a traceback
            response = _failure(ApiFailure(500, 10002, "Unexpected internal server error"), headers)
        with self.log_lock:
            self.log.append(
                {
                    "method": request.method,
                    "path": _clip(request.url.path),
                    "query": _clip(request.url.query),
                    "status": response.status_code,
                    # When the answer was ready (monotonic seconds): gaps between requests.
                    "at": time.monotonic(),
                }
            )
        return response

    async def _dispatch(self, request: Request, headers: dict[str, str]) -> Reply:
        delay = self.faults.latency_s()
        if delay:
            await asyncio.sleep(delay)
        # Keyed by a configured token (or one shared bucket): junk headers add no state.
        key = rate_key(request.headers.get("authorization"), self.config)
        headers.update(self.faults.count(key))
        self.faults.maybe_fail()
        path = request.url.path[len(API_PREFIX) :] or "/"
        route, params = match(ROUTES, request.method, path)
        token = None
        account = None
        if route.session_auth:
            # The handler checks the session's token; the account must exist.
            account = self.config.account(params["account_id"])
            if account is None:
                raise ApiFailure(404, 7003, "No route for the URI")
        else:
            token = authenticate(request.headers.get("authorization"), self.config)
        if route.account_scoped and token is not None:
            account = authorize(
                token,
                params["account_id"],
                route.product,
                request.method != "GET",
                self.config,
                request.url.path,
            )
        # Read only now, after authentication, and never past the limit.
        try:
            limit = MAX_ASSET_BODY_BYTES if route.session_auth else MAX_BODY_BYTES
            body = await read_body(request, limit)
        except BodyTooLarge:
            # Hang up after answering: the rest of the body is never read.
            close = {"Connection": "close"}
            if route.product == "workers":
                raise ApiFailure(413, 10027, "Script body was too large", headers=close) from None
            raise ApiFailure(413, 1001, "request_body_too_large", headers=close) from None
        with self.db.transaction() as conn:
            ctx = Ctx(
                method=request.method,
                path=request.url.path,
                params=params,
                query=request.query_params,
                headers=request.headers,
                body=body,
                conn=conn,
                db=self.db,
                config=self.config,
                token=token,
                account=account,
            )
            return route.handler(ctx)

    def state(self) -> dict[str, Any]:
        """A JSON dump of everything, without secret values (or their digests)."""
        with self.db.transaction() as conn:
            out: dict[str, Any] = {
                "accounts": [a.model_dump() for a in self.config.accounts],
                "stores": [
                    secrets_store.store_json(r)
                    for r in conn.execute("SELECT * FROM stores ORDER BY seq").fetchall()
                ],
                "secrets": [
                    secrets_store.secret_json(r, secrets_store.status_of(conn, r, count=False))
                    | {"account_id": r["account_id"]}
                    for r in conn.execute("SELECT * FROM secrets ORDER BY seq").fetchall()
                ],
                "scripts": [],
                "zones": [z.model_dump() for z in self.config.zones],
                "routes": [
                    worker_routes.route_json(r) | {"zone_id": r["zone_id"]}
                    for r in conn.execute("SELECT * FROM routes ORDER BY seq").fetchall()
                ],
                "domains": [],
            }
            for r in conn.execute("SELECT account_id, doc FROM scripts ORDER BY seq").fetchall():
                account = self.config.account(r["account_id"])
                if account is None:
                    continue
                ctx = self._ctx(conn, account)
                doc = json.loads(r["doc"])
                version = scripts.current_version(ctx, doc)
                out["scripts"].append(
                    {"account_id": account.id}
                    | scripts.list_item(ctx, doc)
                    | {"settings": scripts.settings_json(ctx, doc), "version_id": version["id"]}
                    | {"modules": [_module_dump(m) for m in version["modules"]]}
                    | {"subdomain": doc["subdomain"]}
                    | {"latest_version": _latest_dump(ctx, doc["id"])}
                    | schedules.schedules_json(doc)
                )
            for r in conn.execute("SELECT * FROM domains ORDER BY seq").fetchall():
                account = self.config.account(r["account_id"])
                if account is not None:
                    out["domains"].append(domains.domain_json(self._ctx(conn, account), r))
        return out

    def _ctx(self, conn: Any, account: AccountConfig) -> Ctx:
        from starlette.datastructures import Headers, QueryParams

        return Ctx(
            "GET",
            "",
            {},
            QueryParams(""),
            Headers({}),
            b"",
            conn,
            self.db,
            self.config,
            None,
            account,
        )


def _clip(text: str) -> str:
    """A log field at most MAX_LOG_FIELD characters: 100,000 entries stay under about 200 MiB
    at worst, whatever request lines a client sends (h11 allows 64 KiB each)."""
    if len(text) <= MAX_LOG_FIELD:
        return text
    return text[: MAX_LOG_FIELD - 1] + "…"


def _module_dump(m: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(m["data"])
    out: dict[str, Any] = {
        "name": m["name"],
        "content_type": m["content_type"],
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    try:
        out["content"] = data.decode("utf-8")
    except UnicodeDecodeError:
        out["content"] = None
    return out


def _failure(exc: ApiFailure, headers: dict[str, str]) -> Response:
    return Response(
        failure_body(exc), status_code=exc.status, media_type="application/json", headers=headers
    )


def _emulator(request: Request) -> Emulator:
    emu: Emulator = request.app.state.emulator
    return emu


async def _api(request: Request) -> Response:
    return await _emulator(request).handle(request)


async def _get_requests(request: Request) -> Response:
    emu = _emulator(request)
    with emu.log_lock:
        return JSONResponse(list(emu.log))


async def _clear_requests(request: Request) -> Response:
    emu = _emulator(request)
    with emu.log_lock:
        emu.log.clear()
    return Response(status_code=204)


async def _get_state(request: Request) -> Response:
    return JSONResponse(_emulator(request).state())


async def _get_faults(request: Request) -> Response:
    return JSONResponse(_emulator(request).faults.settings.model_dump())


async def _put_faults(request: Request) -> Response:
    """Extension: change latency, error rate, seed and rate limit of a running emulator."""
    try:
        settings = FaultSettings.model_validate_json(
            await read_body(request, MAX_CONTROL_BODY_BYTES)
        )
    except BodyTooLarge:
        return JSONResponse(
            {"errors": [f"the body is larger than {MAX_CONTROL_BODY_BYTES} bytes"]},
            status_code=413,
            headers={"Connection": "close"},
        )
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"errors": problems}, status_code=400)
    emu = _emulator(request)
    emu.faults.apply(settings)
    return JSONResponse(settings.model_dump())


def create_app(
    config: EmulatorConfig | None = None, db_path: str | None = None, *, loopback_only: bool = False
) -> Starlette:
    """The emulator as an ASGI app; works in-process (httpx.ASGITransport) with no lifespan.

    `loopback_only` (set when served on a loopback address) refuses a non-loopback Host.
    """
    cfg = config or EmulatorConfig()
    app = Starlette(
        routes=[
            HttpRoute(API_PREFIX, _api, methods=_METHODS),
            HttpRoute(API_PREFIX + "/{path:path}", _api, methods=_METHODS),
            HttpRoute("/__emulator/requests", _get_requests, methods=["GET"]),
            HttpRoute("/__emulator/requests", _clear_requests, methods=["DELETE"]),
            HttpRoute("/__emulator/state", _get_state, methods=["GET"]),
            HttpRoute("/__emulator/faults", _get_faults, methods=["GET"]),
            HttpRoute("/__emulator/faults", _put_faults, methods=["PUT"]),
        ],
        middleware=[Middleware(LoopbackHostOnly)] if loopback_only else [],
    )
    app.state.emulator = Emulator(cfg, Database(db_path), Faults.from_config(cfg))
    return app


def _latest_dump(ctx: Ctx, script: str) -> dict[str, Any] | None:
    """The newest version: its number and the bindings its request named (by type, so a test
    sees `inherit` where an upload carried a secret over, and never a value)."""
    v = scripts.latest_version(ctx, script)
    if v is None:
        return None
    return {"id": v["id"], "number": v["number"], "sent_bindings": v.get("sent_bindings", [])}
