"""The v4 envelope: unwrap `result`, or turn a failure into an ApiError.

Both the HTTP status and `success` are checked (clients disagree on which one
counts, so we trust neither alone). Bodies are parsed defensively: a 429 or a
proxy error may not be JSON at all. The request body never reaches an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from reconciler.errors import ApiError

_WORKERS = re.compile(r"^/accounts/[^/]+/workers/")
_SECRETS_STORE = re.compile(r"^/accounts/[^/]+/secrets_store/")
_ACCOUNTS = re.compile(r"^/accounts(/[^/]+)?$")


def permission_for(method: str, path: str) -> str | None:
    """The API token permission a call needs, to name it when the API says 10000."""
    write = method.upper() not in ("GET", "HEAD")
    if _WORKERS.match(path):
        return "Workers Scripts Write" if write else "Workers Scripts Read"
    if _SECRETS_STORE.match(path):
        return "Secrets Store Write" if write else "Secrets Store Read"
    if _ACCOUNTS.match(path):
        return "Account Settings Read"
    return None


def parse_body(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON envelope, or None if the body is empty or not a JSON object.

    Nesting deeper than the interpreter's recursion limit (about 1000) is not an
    envelope either: the parser stops there instead of overflowing the stack.
    """
    if not response.content:
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def api_error(
    response: httpx.Response, method: str, path: str, *, retry_after: float | None = None
) -> ApiError:
    body = parse_body(response) or {}
    codes: list[int] = []
    messages: list[str] = []
    for entry in body.get("errors") or []:
        if not isinstance(entry, dict):
            continue
        code = entry.get("code")
        if isinstance(code, int):
            codes.append(code)
        message = entry.get("message")
        if isinstance(message, str) and message:
            messages.append(message)
    if not messages:
        messages.append(response.reason_phrase or f"HTTP {response.status_code}")
    return ApiError(
        status=response.status_code,
        codes=tuple(codes),
        message="; ".join(messages),
        method=method,
        path=path,
        retry_after=retry_after,
        permission=permission_for(method, path),
    )


def unwrap(response: httpx.Response, method: str, path: str) -> Any:
    """`result` of a successful envelope; ApiError for anything else.

    An empty 2xx body (204, or a delete with no body) is a success with result None.
    """
    if not response.is_success:
        raise api_error(response, method, path)
    if not response.content:
        return None
    body = parse_body(response)
    if body is None:
        raise ApiError(
            status=response.status_code,
            codes=(),
            message="the API answered with a body that is not a JSON envelope",
            method=method,
            path=path,
            permission=permission_for(method, path),
        )
    if body.get("success") is False:
        raise api_error(response, method, path)
    if body.get("errors"):
        # Read as a success, a half-failed answer (a list cut short) planned as fact.
        error = api_error(response, method, path)
        detail = "; ".join(
            f"{m} ({c})" for m, c in zip(error.api_message.split("; "), error.codes, strict=False)
        )
        raise ApiError(
            status=response.status_code,
            codes=error.codes,
            message="the API said success but also reported errors: "
            + (detail or error.api_message),
            method=method,
            path=path,
            permission=permission_for(method, path),
        )
    return body.get("result")


def expect_objects(result: Any, status: int, method: str, path: str) -> list[dict[str, Any]]:
    """A list result whose every item is an object; anything else is an ApiError.

    `null` or `["x", 1]` where a list of records belongs once read as an empty list,
    and the plan then adopted and recreated what the account holds.
    """
    if isinstance(result, list) and all(isinstance(item, dict) for item in result):
        return result
    got = "null" if result is None else _shape(result)
    raise ApiError(
        status=status,
        codes=(),
        message=f"expected a list of objects as the result, got {got}",
        method=method,
        path=path,
        permission=permission_for(method, path),
    )


def _shape(value: Any) -> str:
    if isinstance(value, list):
        odd = next(item for item in value if not isinstance(item, dict))
        return f"a list holding {_shape(odd)}"
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "an object" if isinstance(value, dict) else "null")
