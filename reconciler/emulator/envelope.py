"""The v4 envelope and the one way a handler refuses a request.

A handler raises `ApiFailure`; the dispatcher turns it into the real API's failure
envelope and rolls the transaction back, so a refused request changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class ApiFailure(Exception):
    """Answer the request with a Cloudflare error envelope (control flow inside the emulator)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        error_chain: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.error_chain = error_chain
        self.headers = headers or {}


@dataclass
class Reply:
    """A handler's answer: a JSON envelope (`result`) or a raw body (`raw`)."""

    result: Any = None
    status: int = 200
    result_info: dict[str, Any] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        env: dict[str, Any] = {
            "success": True,
            "errors": [],
            "messages": [],
            "result": self.result,
        }
        if self.result_info is not None:
            env["result_info"] = self.result_info
        return json.dumps(env).encode()


def failure_body(exc: ApiFailure) -> bytes:
    err: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.error_chain:
        err["error_chain"] = exc.error_chain
    env = {"success": False, "errors": [err], "messages": [], "result": None}
    return json.dumps(env).encode()


def page_window(
    page_raw: str | None, per_page_raw: str | None, *, default: int, lo: int, hi: int
) -> tuple[int, int]:
    """(page, per_page) from query strings, clamped like the API's documented bounds.

    Non-integers are refused with 400; an out-of-range page is fine (an empty `result`).
    """
    page = _int_param("page", page_raw, 1)
    per_page = _int_param("per_page", per_page_raw, default)
    return max(page, 1), min(max(per_page, lo), hi)


def _int_param(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiFailure(400, 1001, f"invalid_query_param: {name} must be an integer") from None


def paged(items: list[Any], page: int, per_page: int, *, total_pages: bool = True) -> Reply:
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    info: dict[str, Any] = {
        "count": len(chunk),
        "page": page,
        "per_page": per_page,
        "total_count": len(items),
    }
    if total_pages:
        info["total_pages"] = (len(items) + per_page - 1) // per_page
    return Reply(result=chunk, result_info=info)
