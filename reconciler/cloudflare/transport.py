"""The transport layer every API call goes through: one keep-alive connection
pool, bounded concurrency, the client-side rate limiter, retries, pagination.

Retry rules: 429 is always retried (the server did nothing) after Retry-After;
5xx and transport errors are retried for idempotent calls (GET, PUT, PATCH,
DELETE); a failed connect is retried for any call (nothing was sent). A create
(POST) that failed ambiguously, after the request may have reached the server,
is checked by listing before it is sent again, so it is never duplicated.

The server is not trusted: each request has a deadline (connect to last byte),
an answer is read only up to a size limit, every wait before a retry is charged
to the run's wait budget, and a list whose pages repeat or never end is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from reconciler import __version__
from reconciler.cloudflare.budget import WaitBudget, WaitBudgetError
from reconciler.cloudflare.config import ClientConfig, display_url
from reconciler.cloudflare.envelope import (
    api_error,
    expect_objects,
    parse_body,
    permission_for,
    unwrap,
)
from reconciler.cloudflare.ratelimit import RateLimiter, _remaining_and_reset
from reconciler.errors import ApiError

log = logging.getLogger("reconciler.cloudflare")
T = TypeVar("T")

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Set by us on the answer we rebuild: the body is already decoded and complete.
_DROPPED_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


class RequestTimeout(httpx.TimeoutException):
    """The whole request (connect to last byte) took longer than its deadline."""


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


def _too_large(response: httpx.Response, method: str, path: str, limit: int) -> ApiError:
    return ApiError(
        status=response.status_code,
        codes=(),
        message=(
            f"the answer is larger than {limit // (1024 * 1024)} MiB, more than any API answer; "
            "it was not read (check the API base URL)"
        ),
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
        self.limiter = RateLimiter(
            config.rate_limit, config.rate_window_s, concurrency=config.concurrency
        )
        self.wait_budget = WaitBudget(config.backoff.max_total_wait_s)
        # Until when the server last said its budget is spent (monotonic; 0: it was not).
        self._spent_until = 0.0
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
        asked = ""
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff.max_retry_after_s))
            asked = f" (Retry-After: {retry_after:.0f} s)"
        self.wait_budget.charge(
            delay, f"{method} {path} answered {reason}{asked} and a retry would wait {delay:.0f} s"
        )
        self.retries.append(RetryEvent(method, path, attempt + 1, reason, delay))
        if reason == "HTTP 429":
            self.limiter.note_wait(delay, "the API rate limit (429 Too Many Requests)")
        log.info("retrying %s %s in %.2fs (%s)", method, path, delay, reason)
        await asyncio.sleep(delay)

    def _located(self, error: ApiError) -> ApiError:
        """Name the server (never its credentials) and where its URL came from."""
        error.base_url = display_url(self.config.base_url)
        error.base_url_source = self.config.base_url_source
        return error

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        json: Any,
        files: list[tuple[str, tuple[str | None, bytes, str]]] | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        """One HTTP exchange under the request deadline, the answer read up to the limit."""
        request = self._http.build_request(
            method, path, params=params, json=json, files=files, headers=headers
        )
        deadline = self.config.timeouts.total
        try:
            async with asyncio.timeout(deadline):
                response = await self._http.send(request, stream=True)
                try:
                    body = await self._read_capped(response, method, path)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise RequestTimeout(
                f"no complete answer within {deadline:g} s", request=request
            ) from None
        kept = httpx.Headers(
            [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
        )
        kept = self._bounded_rate_headers(kept, method, path)
        extensions: dict[str, Any] = {
            k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")
        }
        return httpx.Response(
            response.status_code,
            headers=kept,
            content=body,
            request=request,
            extensions=extensions,
        )

    def _bounded_rate_headers(
        self, headers: httpx.Headers, method: str, path: str
    ) -> httpx.Headers:
        """The answer's rate headers as the limiter may see them.

        A reset is never later than one rate window (a hostile `Ratelimit: r=0;t=86400`
        would pause the run for a day). A budget still spent after the reset the server
        announced has passed is no window ending but a server holding the run back: that
        wait is charged to the run's wait budget.
        """
        remaining, reset = _remaining_and_reset(headers)
        if reset is None or remaining is None:
            return headers
        window = self.config.rate_window_s
        wait = min(reset, window)
        now = time.monotonic()
        if remaining > 0:
            self._spent_until = 0.0
        else:
            if self._spent_until and now >= self._spent_until:
                self.wait_budget.charge(
                    wait,
                    f"{method} {path} answered again that the API rate limit allows no more "
                    f"requests, for {reset:.0f} s",
                )
            self._spent_until = max(self._spent_until, now + wait)
        if reset <= window:
            return headers
        for name in ("ratelimit", "x-ratelimit-reset", "x-ratelimit-remaining"):
            if name in headers:
                del headers[name]
        headers["ratelimit"] = f'"default";r={max(remaining, 0)};t={math.ceil(window)}'
        return headers

    async def _read_capped(self, response: httpx.Response, method: str, path: str) -> bytes:
        """The decoded body, refused past max_response_bytes: announced or while streaming."""
        limit = self.config.max_response_bytes
        announced = response.headers.get("content-length", "").strip()
        if announced.isdigit() and int(announced) > limit:
            raise self._located(_too_large(response, method, path, limit))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise self._located(_too_large(response, method, path, limit))
            chunks.append(chunk)
        return b"".join(chunks)

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
                # A slot, then the budget (so a request queued for a slot still honours a
                # pause that began while it waited); the answer's rate headers are read
                # while the request still counts as in flight.
                async with self.limiter.request():
                    self.request_count += 1
                    response = await self._exchange(
                        method, path, params=params, json=json, files=files, headers=headers
                    )
                    retry_after = self.limiter.observe(response.headers)
            except _NOT_SENT as exc:
                error = self._located(transport_error(exc, method, path))
                reason, retryable = "connect", True
            except httpx.RequestError as exc:
                error = self._located(transport_error(exc, method, path))
                reason, retryable = type(exc).__name__, idempotent
                if not idempotent:
                    raise Ambiguous(error) from None
            else:
                log.info("%s %s -> %d", method, path, response.status_code)
                if response.is_success:
                    return response
                status = response.status_code
                error = self._located(api_error(response, method, path, retry_after=retry_after))
                reason = f"HTTP {status}"
                if status == 429:
                    retryable = True
                    wait = retry_after if retry_after is not None else self.backoff_delay(attempt)
                    self.limiter.pause_for(min(wait, self.config.backoff.max_retry_after_s))
                elif status >= 500:
                    retryable = idempotent
                    if not idempotent:
                        raise Ambiguous(error)
                else:
                    raise error
            if not retryable or attempt >= self.config.max_retries:
                raise error
            await self._retry_or_raise(error, method, path, attempt, reason, retry_after)
            attempt += 1

    async def _retry_or_raise(
        self,
        error: ApiError,
        method: str,
        path: str,
        attempt: int,
        reason: str,
        retry_after: float | None,
    ) -> None:
        """Wait to retry; when the wait budget says stop and nothing answered at all, the
        failure to report is that nothing answered, not the budget: the server never asked
        anyone to wait."""
        try:
            await self.wait_before_retry(method, path, attempt, reason, retry_after)
        except WaitBudgetError:
            if error.status == 0:
                raise error from None
            raise

    async def call(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        response = await self.send(method, path, idempotent=idempotent, **kwargs)
        return unwrap(response, method, path)

    async def call_list(self, path: str) -> list[dict[str, Any]]:
        """An unpaged list (`GET`): a list of objects, else an ApiError, never `[]` by default."""
        response = await self.send("GET", path, idempotent=True)
        return expect_objects(unwrap(response, "GET", path), response.status_code, "GET", path)

    async def paged(
        self, path: str, per_page: int, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """All items of a page/per_page list.

        Follows `result_info` (stops after the last page it announces) and stops
        on an empty page when the server gives no totals. When the first page
        says how many there are (`total_pages`, or `total_count` / `per_page`),
        the other pages are read concurrently; a last page still full then
        reads on, one at a time, to the end. A server that ignores `?page` is
        caught: a page of items all seen before, or more than `max_pages`
        pages, ends the read with an error.
        """
        pages = PageGuard(path, self.config.max_pages)
        result, info = await self._page(path, 1, per_page, params)
        if not result:
            return pages.items
        pages.add(1, result)
        if _last_page(info, 1, per_page):
            return pages.items
        done = 1
        known = _page_count(info, per_page)
        if known is not None and 1 < known <= self.config.max_pages:
            rest = await asyncio.gather(
                *(self._page(path, n, per_page, params) for n in range(2, known + 1))
            )
            for n, (items, _) in enumerate(rest, start=2):
                if items:
                    pages.add(n, items)
            done, (result, info) = known, rest[-1]
            # The last page's own totals say whether the list grew while it was read.
            if not result or _last_page(info, done, per_page):
                return pages.items
        for page in range(done + 1, self.config.max_pages + 1):
            result, info = await self._page(path, page, per_page, params)
            if not result:
                return pages.items
            pages.add(page, result)
            if _last_page(info, page, per_page):
                return pages.items
        raise pages.too_many()

    async def _page(
        self, path: str, page: int, per_page: int, params: dict[str, Any] | None
    ) -> tuple[list[Any], dict[str, Any]]:
        """One page: its items and its `result_info`."""
        query = {**(params or {}), "page": page, "per_page": per_page}
        response = await self.send("GET", path, idempotent=True, params=query)
        result = expect_objects(unwrap(response, "GET", path), response.status_code, "GET", path)
        if not result:
            return [], {}
        info = (parse_body(response) or {}).get("result_info") or {}
        return result, info if isinstance(info, dict) else {}

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
                await self._retry_or_raise(
                    amb.error,
                    "POST",
                    path,
                    attempt,
                    f"{amb.error.status or 'network'} (checked: absent)",
                    None,
                )
                attempt += 1


class PageGuard:
    """The items of a paged list so far, refusing a server that does not page.

    An item already seen (by id) is dropped: a concurrent create can shift one
    onto the next page. A page made only of items already seen means the server
    sent the same page again, and the read stops.
    """

    def __init__(self, path: str, max_pages: int) -> None:
        self.path = path
        self.max_pages = max_pages
        self.items: list[dict[str, Any]] = []
        self._ids: set[str] = set()

    def add(self, page: int, result: list[Any]) -> None:
        fresh = 0
        for item in result:
            if not isinstance(item, dict):
                continue
            item_id = item.get("id")
            if isinstance(item_id, str):
                if item_id in self._ids:
                    continue
                self._ids.add(item_id)
            fresh += 1
            self.items.append(item)
        if page > 1 and fresh == 0:
            raise self._error(
                f"page {page} held only items of earlier pages: the server seems to "
                "ignore ?page, so the list was not read to its end"
            )

    def too_many(self) -> ApiError:
        return self._error(
            f"the list did not end after {self.max_pages} pages: the server seems to "
            "ignore ?page, so reading stopped"
        )

    def _error(self, message: str) -> ApiError:
        return ApiError(status=200, codes=(), message=message, method="GET", path=self.path)


def _page_size(info: dict[str, Any], per_page: int) -> int:
    size = info.get("per_page")
    return size if isinstance(size, int) and size > 0 else per_page


def _page_count(info: dict[str, Any], per_page: int) -> int | None:
    """How many pages the list has, if the page says (total_pages, else total_count)."""
    total_pages = info.get("total_pages")
    if isinstance(total_pages, int) and total_pages > 0:
        return total_pages
    total_count = info.get("total_count")
    if isinstance(total_count, int) and total_count >= 0:
        return max(1, -(-total_count // _page_size(info, per_page)))
    return None


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
