"""Async Cloudflare API client: one keep-alive connection pool, bounded concurrency,
a client-side rate limiter, careful retries, pagination, and typed results.

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
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from reconciler import __version__
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.content import decode_content
from reconciler.cloudflare.envelope import api_error, parse_body, permission_for, unwrap
from reconciler.cloudflare.models import (
    Account,
    Quota,
    ScriptRecord,
    ScriptSettings,
    SecretRecord,
    StoreRecord,
    UploadResult,
)
from reconciler.cloudflare.ratelimit import RateLimiter
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.errors import ApiError
from reconciler.state import Module

log = logging.getLogger("reconciler.cloudflare")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

SECRETS_PER_PAGE = 100
STORES_PER_PAGE = 100
ACCOUNTS_PER_PAGE = 50
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


class _Ambiguous(Exception):
    """A non-idempotent call failed after it may have reached the server."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


def _transport_error(exc: httpx.RequestError, method: str, path: str) -> ApiError:
    return ApiError(
        status=0,
        codes=(),
        message=f"network error: {type(exc).__name__}",
        method=method,
        path=path,
        permission=permission_for(method, path),
    )


class CloudflareClient:
    """Use as `async with CloudflareClient(config) as client:`."""

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

    async def __aenter__(self) -> CloudflareClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport ---------------------------------------------------------

    def backoff_delay(self, attempt: int) -> float:
        """Jittered exponential delay before retry number `attempt` (0-based)."""
        b = self.config.backoff
        exponential: float = b.base_s * 2.0**attempt
        return min(b.cap_s, exponential) * random.uniform(0.5, 1.0)

    async def _wait_before_retry(
        self, method: str, path: str, attempt: int, reason: str, retry_after: float | None
    ) -> None:
        delay = self.backoff_delay(attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff.max_retry_after_s))
        self.retries.append(RetryEvent(method, path, attempt + 1, reason, delay))
        log.info("retrying %s %s in %.2fs (%s)", method, path, delay, reason)
        await asyncio.sleep(delay)

    async def _send(
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

        Raises _Ambiguous (non-idempotent only) when the server may have acted.
        """
        attempt = 0
        while True:
            await self._limiter.acquire()
            error: ApiError
            retry_after: float | None = None
            try:
                async with self._slots:
                    self.request_count += 1
                    response = await self._http.request(
                        method, path, params=params, json=json, files=files, headers=headers
                    )
            except _NOT_SENT as exc:
                error, reason, retryable = _transport_error(exc, method, path), "connect", True
            except httpx.RequestError as exc:
                error = _transport_error(exc, method, path)
                reason, retryable = type(exc).__name__, idempotent
                if not idempotent:
                    raise _Ambiguous(error) from None
            else:
                retry_after = self._limiter.observe(response.headers)
                if response.is_success:
                    return response
                status = response.status_code
                error = api_error(response, method, path, retry_after=retry_after)
                reason = f"HTTP {status}"
                if status == 429:
                    retryable = True
                    self._limiter.pause_for(
                        retry_after if retry_after is not None else self.backoff_delay(attempt)
                    )
                elif status >= 500:
                    retryable = idempotent
                    if not idempotent:
                        raise _Ambiguous(error)
                else:
                    raise error
            if not retryable or attempt >= self.config.max_retries:
                raise error
            await self._wait_before_retry(method, path, attempt, reason, retry_after)
            attempt += 1

    async def _call(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        response = await self._send(method, path, idempotent=idempotent, **kwargs)
        return unwrap(response, method, path)

    async def _paged(
        self, path: str, per_page: int, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """All items of a page/per_page list.

        Follows `result_info` (stops after the last page it announces) and stops
        on an empty page when the server gives no totals.
        """
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**(params or {}), "page": page, "per_page": per_page}
            response = await self._send("GET", path, idempotent=True, params=query)
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

    async def _create(
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
            except _Ambiguous as amb:
                found = await find()
                if found is not None:
                    log.info("%s was created despite the error; using it", what)
                    return found
                if attempt >= self.config.max_retries:
                    raise amb.error from None
                await self._wait_before_retry(
                    "POST",
                    path,
                    attempt,
                    f"{amb.error.status or 'network'} (checked: absent)",
                    None,
                )
                attempt += 1

    # --- accounts ----------------------------------------------------------

    async def list_accounts(self) -> list[Account]:
        raw = await self._paged("/accounts", ACCOUNTS_PER_PAGE)
        return _many(Account, raw, "GET", "/accounts")

    async def verify_account(self, account: str) -> Account | None:
        """The account if this token can see it, else None; usually one call.

        Lists the token's accounts (the emulator and user tokens support it);
        account-owned tokens were refused the list with 1001, so those fall back
        to `GET /accounts/{id}`.
        """
        try:
            accounts = await self.list_accounts()
        except ApiError as exc:
            if not exc.has_code(1001):
                raise
        else:
            return next((a for a in accounts if a.id == account), None)
        try:
            path = f"/accounts/{_q(account)}"
            return _one(Account, await self._call("GET", path), "GET", path)
        except ApiError as exc:
            if exc.status in (400, 401, 403, 404):
                return None
            raise

    # --- Secrets Store -----------------------------------------------------

    async def list_stores(self, account: str) -> list[StoreRecord]:
        path = _ss(account, "/stores")
        return _many(StoreRecord, await self._paged(path, STORES_PER_PAGE), "GET", path)

    async def create_store(self, account: str, name: str) -> StoreRecord:
        path = _ss(account, "/stores")

        async def send() -> StoreRecord:
            result = await self._call("POST", path, idempotent=False, json={"name": name})
            return _one(StoreRecord, result, "POST", path)

        async def find() -> StoreRecord | None:
            return next((s for s in await self.list_stores(account) if s.name == name), None)

        return await self._create(send, find, f"store {name!r}", path)

    async def delete_store(self, account: str, store_id: str, force: bool) -> None:
        path = _ss(account, f"/stores/{_q(store_id)}")
        try:
            await self._call("DELETE", path, params={"force": "true"} if force else None)
        except ApiError as exc:
            if not _is_gone(exc, "store_not_found"):
                raise

    async def list_secrets(self, account: str, store_id: str) -> list[SecretRecord]:
        path = _ss(account, f"/stores/{_q(store_id)}/secrets")
        return _many(SecretRecord, await self._paged(path, SECRETS_PER_PAGE), "GET", path)

    async def create_secret(
        self,
        account: str,
        store_id: str,
        *,
        name: str,
        value: str,
        scopes: list[str] | frozenset[str],
        comment: str | None,
    ) -> SecretRecord:
        path = _ss(account, f"/stores/{_q(store_id)}/secrets")
        item: dict[str, Any] = {"name": name, "value": value, "scopes": sorted(scopes)}
        if comment:
            item["comment"] = comment

        async def send() -> SecretRecord:
            result = await self._call("POST", path, idempotent=False, json=[item])
            records = result if isinstance(result, list) else [result]
            return _one(SecretRecord, records[0] if records else None, "POST", path)

        async def find() -> SecretRecord | None:
            raw = await self._paged(path, SECRETS_PER_PAGE, {"search": name})
            found = _many(SecretRecord, raw, "GET", path)
            return next((r for r in found if r.name == name), None)

        return await self._create(send, find, f"secret {name!r}", path)

    async def patch_secret(
        self,
        account: str,
        store_id: str,
        secret_id: str,
        *,
        comment: str | None = None,
        scopes: list[str] | frozenset[str] | None = None,
        value: str | None = None,
    ) -> SecretRecord:
        """PATCH only the given fields (never `name`)."""
        body: dict[str, Any] = {}
        if comment is not None:
            body["comment"] = comment
        if scopes is not None:
            body["scopes"] = sorted(scopes)
        if value is not None:
            body["value"] = value
        path = _ss(account, f"/stores/{_q(store_id)}/secrets/{_q(secret_id)}")
        return _one(SecretRecord, await self._call("PATCH", path, json=body), "PATCH", path)

    async def delete_secret(self, account: str, store_id: str, secret_id: str) -> None:
        path = _ss(account, f"/stores/{_q(store_id)}/secrets/{_q(secret_id)}")
        try:
            await self._call("DELETE", path)
        except ApiError as exc:
            if not _is_gone(exc, "secret_not_found"):
                raise

    async def get_quota(self, account: str) -> Quota:
        path = _ss(account, "/quota")
        result = await self._call("GET", path)
        secrets = result.get("secrets") if isinstance(result, dict) else None
        return _one(Quota, secrets or {}, "GET", path)

    # --- Workers -----------------------------------------------------------

    async def list_scripts(self, account: str) -> list[ScriptRecord]:
        path = _w(account, "/scripts")
        return _many(ScriptRecord, await self._call("GET", path) or [], "GET", path)

    async def get_script_settings(self, account: str, name: str) -> ScriptSettings:
        path = _w(account, f"/scripts/{_q(name)}/settings")
        return _one(ScriptSettings, await self._call("GET", path) or {}, "GET", path)

    async def get_script_content(self, account: str, name: str) -> list[Module]:
        path = _w(account, f"/scripts/{_q(name)}/content/v2")
        response = await self._send("GET", path, idempotent=True, headers={"Accept": "*/*"})
        return decode_content(response)

    async def upload_script(self, account: str, name: str, upload: WorkerUpload) -> UploadResult:
        # PUT replaces the whole script: sending it twice leaves the same state.
        path = _w(account, f"/scripts/{_q(name)}")
        result = await self._call("PUT", path, files=upload.files())
        return _one(UploadResult, result or {}, "PUT", path)

    async def delete_script(self, account: str, name: str, force: bool = False) -> None:
        path = _w(account, f"/scripts/{_q(name)}")
        try:
            await self._call("DELETE", path, params={"force": "true"} if force else None)
        except ApiError as exc:
            if not (exc.status == 404 or exc.has_code(10007)):
                raise


def _one(model: type[M], data: Any, method: str, path: str) -> M:
    """Parse one result; an unexpected shape is an ApiError like any other failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(x) for x in e["loc"]) for e in exc.errors()[:3])
        raise ApiError(
            status=200,
            codes=(),
            message=f"unexpected response shape for {model.__name__} ({fields or 'result'})",
            method=method,
            path=path,
        ) from None


def _many(model: type[M], data: Any, method: str, path: str) -> list[M]:
    if not isinstance(data, list):
        data = [data]
    return [_one(model, item, method, path) for item in data]


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _ss(account: str, rest: str) -> str:
    return f"/accounts/{_q(account)}/secrets_store{rest}"


def _w(account: str, rest: str) -> str:
    return f"/accounts/{_q(account)}/workers{rest}"


def _is_gone(exc: ApiError, not_found_key: str) -> bool:
    return exc.status == 404 or not_found_key in exc.api_message


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
