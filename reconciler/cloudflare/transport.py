"""The transport layer every API call goes through: one keep-alive connection
pool, bounded concurrency, the client-side rate limiter, retries, pagination.

Retry rules: 429 is always retried (the server did nothing) after Retry-After;
5xx and transport errors are retried for idempotent calls (GET, PUT, PATCH,
DELETE); a failed connect is retried for any call (nothing was sent). A create
(POST) that failed ambiguously, after the request may have reached the server,
is checked by listing before it is sent again, so it is never duplicated.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from reconciler import __version__
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.envelope import api_error, parse_body, permission_for, unwrap
from reconciler.cloudflare.ratelimit import RateLimiter
from reconciler.errors import ApiError

log = logging.getLogger("reconciler.cloudflare")
T = TypeVar("T")

MAX_PAGES = 10_000
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryEvent:
    """One retry: what failed, and how long we waited before trying again."""

    method: str
    path: str
    attempt: int
    reason: str
    delay_s: float


class Ambiguous(Exception):
    """A non-idempotent call failed after it may have reached the server."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


def transport_error(exc: httpx.RequestError, method: str, path: str) -> ApiError:
    return ApiError(
        status=0,
        codes=(),
        message=f"network error: {type(exc).__name__}",
        method=method,
        path=path,
        permission=permission_for(method, path),
    )


class ApiTransport:
    """Sends requests for CloudflareClient; counts them and records every retry."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.request_count = 0
        self.retries: list[RetryEvent] = []
        self._limiter = RateLimiter(config.rate_limit, config.rate_window_s)
        self._slots = asyncio.Semaphore(config.concurrency)
        transport = config.transport or httpx.AsyncHTTPTransport(
            http1=True,
            http2=False,
            limits=httpx.Limits(
                max_connections=config.concurrency,
                max_keepalive_connections=config.concurrency,
                keepalive_expiry=30.0,
            ),
        )
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            transport=transport,
            timeout=config.timeouts.to_httpx(),
            headers={
                "Authorization": f"Bearer {config.token}",
                "Accept": "application/json",
                "User-Agent": f"reconciler/{__version__}",
            },
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def backoff_delay(self, attempt: int) -> float:
        """Jittered exponential delay before retry number `attempt` (0-based)."""
        b = self.config.backoff
        exponential: float = b.base_s * 2.0**attempt
        return min(b.cap_s, exponential) * random.uniform(0.5, 1.0)

    async def wait_before_retry(
        self, method: str, path: str, attempt: int, reason: str, retry_after: float | None
    ) -> None:
        delay = self.backoff_delay(attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff.max_retry_after_s))
        self.retries.append(RetryEvent(method, path, attempt + 1, reason, delay))
        log.info("retrying %s %s in %.2fs (%s)", method, path, delay, reason)
        await asyncio.sleep(delay)

    async def send(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: list[tuple[str, tuple[str | None, bytes, str]]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One logical call with retries; returns a 2xx response or raises.

        Raises Ambiguous (non-idempotent only) when the server may have acted.
        """
        attempt = 0
        while True:
            error: ApiError
            retry_after: float | None = None
            try:
                async with self._slots:
                    # Inside the slot: a request queued for a slot must still honour a
                    # pause (Retry-After) that began while it waited.
                    await self._limiter.acquire()
                    self.request_count += 1
                    response = await self._http.request(
                        method, path, params=params, json=json, files=files, headers=headers
                    )
            except _NOT_SENT as exc:
                error, reason, retryable = transport_error(exc, method, path), "connect", True
            except httpx.RequestError as exc:
                error = transport_error(exc, method, path)
                reason, retryable = type(exc).__name__, idempotent
                if not idempotent:
                    raise Ambiguous(error) from None
            else:
                log.info("%s %s -> %d", method, path, response.status_code)
                retry_after = self._limiter.observe(response.headers)
                if response.is_success:
                    return response
                status = response.status_code
                error = api_error(response, method, path, retry_after=retry_after)
                reason = f"HTTP {status}"
                if status == 429:
                    retryable = True
                    wait = retry_after if retry_after is not None else self.backoff_delay(attempt)
                    self._limiter.pause_for(min(wait, self.config.backoff.max_retry_after_s))
                elif status >= 500:
                    retryable = idempotent
                    if not idempotent:
                        raise Ambiguous(error)
                else:
                    raise error
            if not retryable or attempt >= self.config.max_retries:
                raise error
            await self.wait_before_retry(method, path, attempt, reason, retry_after)
            attempt += 1

    async def call(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        response = await self.send(method, path, idempotent=idempotent, **kwargs)
        return unwrap(response, method, path)

    async def paged(
        self, path: str, per_page: int, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """All items of a page/per_page list.

        Follows `result_info` (stops after the last page it announces) and stops
        on an empty page when the server gives no totals.
        """
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**(params or {}), "page": page, "per_page": per_page}
            response = await self.send("GET", path, idempotent=True, params=query)
            result = unwrap(response, "GET", path)
            if not result:
                return items
            if not isinstance(result, list):
                raise ApiError(
                    status=response.status_code,
                    codes=(),
                    message="expected a list result",
                    method="GET",
                    path=path,
                )
            items.extend(r for r in result if isinstance(r, dict))
            info = (parse_body(response) or {}).get("result_info") or {}
            if _last_page(info, page, per_page):
                return items
        raise ApiError(
            status=200,
            codes=(),
            message=f"more than {MAX_PAGES} pages; the server seems to ignore ?page",
            method="GET",
            path=path,
        )

    async def create_once(
        self,
        send: Callable[[], Awaitable[T]],
        find: Callable[[], Awaitable[T | None]],
        what: str,
        path: str,
    ) -> T:
        """Create once: after an ambiguous failure, look before sending again."""
        attempt = 0
        while True:
            try:
                return await send()
            except Ambiguous as amb:
                found = await find()
                if found is not None:
                    log.info("%s was created despite the error; using it", what)
                    return found
                if attempt >= self.config.max_retries:
                    raise amb.error from None
                await self.wait_before_retry(
                    "POST",
                    path,
                    attempt,
                    f"{amb.error.status or 'network'} (checked: absent)",
                    None,
                )
                attempt += 1


def _last_page(info: dict[str, Any], page: int, per_page: int) -> bool:
    total_pages = info.get("total_pages")
    if isinstance(total_pages, int) and total_pages > 0:
        return page >= total_pages
    total_count = info.get("total_count")
    if isinstance(total_count, int):
        size = info.get("per_page")
        size = size if isinstance(size, int) and size > 0 else per_page
        return page * size >= total_count
    return False
