"""The route table and the per-request context handlers receive.

Handlers are plain synchronous functions run inside one SQLite transaction, so a
request is all-or-nothing and never interleaves with another.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams

from reconciler.emulator.auth import Product
from reconciler.emulator.config import AccountConfig, EmulatorConfig, TokenConfig
from reconciler.emulator.db import Database
from reconciler.emulator.envelope import ApiFailure, Reply
from reconciler.emulator.multipart import MultipartError, Part, boundary_of, parse_multipart

# Content types a JSON body may arrive with: wrangler sends text/plain (reference §8.2.4).
_JSON_TYPES = {"", "application/json", "text/plain"}


@dataclass
class Ctx:
    method: str
    path: str
    params: dict[str, str]
    query: QueryParams
    headers: Headers
    body: bytes
    conn: sqlite3.Connection
    db: Database
    config: EmulatorConfig
    token: TokenConfig | None
    account: AccountConfig | None

    @property
    def account_id(self) -> str:
        assert self.account is not None  # account-scoped routes only
        return self.account.id

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, code: int) -> Any:
        """The body as JSON, whatever text content type; `code` is the product's bad-body code."""
        msg = "invalid_json_body" if code == 1001 else "Could not parse the request body as JSON"
        if self.content_type not in _JSON_TYPES:
            if code == 1001:
                raise ApiFailure(415, 1001, "invalid_content_type: expected application/json")
            raise ApiFailure(415, 10001, "Unsupported or unexpected Content Type")
        if not self.body.strip():
            raise ApiFailure(400, code, msg)
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ApiFailure(400, code, msg) from None

    def parts(self) -> list[Part]:
        """The multipart/form-data parts; anything else is the Workers 10001 error."""
        boundary = boundary_of(self.headers.get("content-type", ""))
        if boundary is None:
            raise ApiFailure(
                415, 10001, "Unsupported or unexpected Content Type: expected multipart/form-data"
            )
        try:
            return parse_multipart(self.body, boundary)
        except MultipartError as exc:
            raise ApiFailure(400, 10006, f"Unparseable script body: {exc}") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in {"true", "1"}


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    product: Product | None
    account_scoped: bool
    template: str  # as written in the README's endpoint table
    # Authorised by a token the API issued for one job (the asset upload session's), which
    # the handler checks, instead of an API token.
    session_auth: bool = False


def route(
    method: str,
    template: str,
    handler: Handler,
    product: Product | None,
    *,
    session_auth: bool = False,
) -> Route:
    """`template` is a path under /client/v4 with `{param}` segments."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(
        method,
        re.compile(f"^{regex}$"),
        handler,
        product,
        "{account_id}" in template,
        template,
        session_auth,
    )


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request, or the real API's 7003 (no route) / 405."""
    allowed = False
    for r in routes:
        m = r.pattern.match(path)
        if m:
            if r.method == method:
                return r, m.groupdict()
            allowed = True
    if allowed:
        raise ApiFailure(405, 7001, f"Method {method} not allowed for this route")
    raise ApiFailure(404, 7003, "No route for the URI")
