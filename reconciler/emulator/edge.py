"""The emulator's HTTP edge: what a request must pass before any handler sees it.

- The body is read with a limit, while it streams (a 1.5 GB body is refused after
  10 MiB, not buffered whole); an announced Content-Length past it is refused unread.
- Bound to loopback, the emulator answers only requests whose `Host` is a loopback
  name or address: a web page that rebinds its own DNS name to 127.0.0.1 sends
  `Host: its-name`, and is refused before it can read or reconfigure anything.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.emulator.envelope import ApiFailure, failure_body

MAX_CONTROL_BODY_BYTES = 64 * 1024  # `PUT /__emulator/faults` takes a few fields


class BodyTooLarge(Exception):
    """The request body passed its limit (announced or while streaming)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit` bytes."""
    announced = request.headers.get("content-length", "").strip()
    if announced.isdigit() and int(announced) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name localhost (RFC 6761: it never leaves the machine)."""
    host = host.strip().rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The name or address in a Host header, without its port."""
    header = header.strip()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class LoopbackHostOnly:
    """ASGI middleware: refuse, with a v4 envelope (403), a Host that is not loopback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = dict(scope.get("headers") or []).get(b"host")
            if raw is not None and not is_loopback(host_of(raw.decode("latin-1"))):
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    body = failure_body(
        ApiFailure(
            403,
            10000,
            "Host header is not a loopback name or address: this emulator listens on loopback "
            "and answers only requests addressed to 127.0.0.1, [::1] or localhost",
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
