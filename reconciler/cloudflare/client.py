"""Async Cloudflare API client: the endpoints we use, with typed results.

Transport behaviour (connection pool, concurrency, rate limit, retries,
pagination) lives in `transport.py`; this module says what each call means:
request shapes, which failures are "already gone", how a create is checked.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.content import decode_content
from reconciler.cloudflare.models import (
    Account,
    AssetsSession,
    AssetsUploadResult,
    DeploymentRecord,
    DomainRecord,
    Quota,
    RouteRecord,
    ScheduleRecord,
    ScriptRecord,
    ScriptSettings,
    SecretRecord,
    StoreRecord,
    SubdomainRecord,
    UploadResult,
    VersionRecord,
    ZoneRecord,
    parse_many,
    parse_one,
)
from reconciler.cloudflare.paths import segment
from reconciler.cloudflare.ratelimit import RateLimiter
from reconciler.cloudflare.transport import ApiTransport, RetryEvent
from reconciler.cloudflare.upload import WorkerUpload
from reconciler.errors import ApiError
from reconciler.state import Module

SECRETS_PER_PAGE = 100
STORES_PER_PAGE = 100
ACCOUNTS_PER_PAGE = 50
ZONES_PER_PAGE = 50

__all__ = ["CloudflareClient", "RetryEvent"]


class CloudflareClient:
    """Use as `async with CloudflareClient(config) as client:`."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._t = ApiTransport(config)

    @property
    def request_count(self) -> int:
        """API requests sent so far (retries included)."""
        return self._t.request_count

    @property
    def retries(self) -> list[RetryEvent]:
        return self._t.retries

    @property
    def limiter(self) -> RateLimiter:
        """The token's budget as this run sees it (waits, forecasts)."""
        return self._t.limiter

    def unit(self, calls: int) -> AbstractAsyncContextManager[None]:
        """Requests that must run back to back: their budget and a slot are taken first."""
        return self._t.limiter.unit(calls)

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
        await self._t.aclose()

    async def _call(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        return await self._t.call(method, path, idempotent=idempotent, **kwargs)

    # --- accounts ----------------------------------------------------------

    async def list_accounts(self) -> list[Account]:
        raw = await self._t.paged("/accounts", ACCOUNTS_PER_PAGE)
        return parse_many(Account, raw, "GET", "/accounts")

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
            path = f"/accounts/{segment(account, 'account id')}"
            return parse_one(Account, await self._call("GET", path), "GET", path)
        except ApiError as exc:
            if exc.status in (400, 401, 403, 404):
                return None
            raise

    # --- Secrets Store -----------------------------------------------------

    async def list_stores(self, account: str) -> list[StoreRecord]:
        path = _ss(account, "/stores")
        return parse_many(StoreRecord, await self._t.paged(path, STORES_PER_PAGE), "GET", path)

    async def create_store(self, account: str, name: str) -> StoreRecord:
        path = _ss(account, "/stores")

        async def send() -> StoreRecord:
            result = await self._call("POST", path, idempotent=False, json={"name": name})
            return parse_one(StoreRecord, result, "POST", path)

        async def find() -> StoreRecord | None:
            return next((s for s in await self.list_stores(account) if s.name == name), None)

        return await self._t.create_once(send, find, f"store {name!r}", path)

    async def delete_store(self, account: str, store_id: str, force: bool) -> None:
        path = _store(account, store_id)
        try:
            await self._call("DELETE", path, params={"force": "true"} if force else None)
        except ApiError as exc:
            if not _is_gone(exc, "store_not_found"):
                raise

    async def list_secrets(self, account: str, store_id: str) -> list[SecretRecord]:
        path = _store(account, store_id, "/secrets")
        return parse_many(SecretRecord, await self._t.paged(path, SECRETS_PER_PAGE), "GET", path)

    async def create_secret(
        self,
        account: str,
        store_id: str,
        *,
        name: str,
        value: str,
        scopes: list[str] | frozenset[str],
        comment: str | None,
        replacing: str | None = None,
    ) -> SecretRecord:
        path = _store(account, store_id, "/secrets")
        item: dict[str, Any] = {"name": name, "value": value, "scopes": sorted(scopes)}
        if comment:
            item["comment"] = comment

        async def send() -> SecretRecord:
            result = await self._call("POST", path, idempotent=False, json=[item])
            records = result if isinstance(result, list) else [result]
            return parse_one(SecretRecord, records[0] if records else None, "POST", path)

        async def find() -> SecretRecord | None:
            return await self.find_secret(account, store_id, name, excluding=replacing)

        return await self._t.create_once(send, find, f"secret {name!r}", path)

    async def find_secret(
        self, account: str, store_id: str, name: str, *, excluding: str | None = None
    ) -> SecretRecord | None:
        """The live secret of that name now (a fresh list), not counting the id `excluding`."""
        path = _store(account, store_id, "/secrets")
        raw = await self._t.paged(path, SECRETS_PER_PAGE, {"search": name})
        found = parse_many(SecretRecord, raw, "GET", path)
        # The secret being replaced may still be listed while its deletion completes.
        return next(
            (r for r in found if r.name == name and r.id != excluding and r.status != "deleted"),
            None,
        )

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
        path = _store(account, store_id, f"/secrets/{segment(secret_id, 'secret id')}")
        return parse_one(SecretRecord, await self._call("PATCH", path, json=body), "PATCH", path)

    async def delete_secret(self, account: str, store_id: str, secret_id: str) -> None:
        path = _store(account, store_id, f"/secrets/{segment(secret_id, 'secret id')}")
        try:
            await self._call("DELETE", path)
        except ApiError as exc:
            if not _is_gone(exc, "secret_not_found"):
                raise

    async def get_quota(self, account: str) -> Quota:
        path = _ss(account, "/quota")
        result = await self._call("GET", path)
        secrets = result.get("secrets") if isinstance(result, dict) else None
        return parse_one(Quota, secrets or {}, "GET", path)

    # --- Workers -----------------------------------------------------------

    async def list_scripts(self, account: str) -> list[ScriptRecord]:
        path = _w(account, "/scripts")
        return parse_many(ScriptRecord, await self._t.call_list(path), "GET", path)

    async def get_script_settings(self, account: str, name: str) -> ScriptSettings:
        path = _script(account, name, "/settings")
        return parse_one(ScriptSettings, await self._call("GET", path) or {}, "GET", path)

    async def get_script_content(self, account: str, name: str) -> list[Module]:
        path = _script(account, name, "/content/v2")
        response = await self._t.send("GET", path, idempotent=True, headers={"Accept": "*/*"})
        return decode_content(response)

    async def set_script_tags(self, account: str, name: str, tags: list[str]) -> None:
        """Replace the script's tags (non-versioned script settings; the code stays)."""
        path = _script(account, name, "/script-settings")
        await self._call("PATCH", path, json={"tags": tags})

    async def upload_script(self, account: str, name: str, upload: WorkerUpload) -> UploadResult:
        # PUT replaces the whole script: sending it twice leaves the same state.
        path = _script(account, name)
        result = await self._call("PUT", path, files=upload.files())
        return parse_one(UploadResult, result or {}, "PUT", path)

    async def start_assets_session(
        self, account: str, name: str, manifest: dict[str, dict[str, Any]]
    ) -> AssetsSession:
        """Tell the API every asset file (`/path: {hash, size}`); it answers which it lacks.

        Uploads nothing and changes no script: the plan may ask it."""
        path = _script(account, name, "/assets-upload-session")
        result = await self._call("POST", path, json={"manifest": manifest})
        return parse_one(AssetsSession, result or {}, "POST", path)

    async def upload_assets(
        self, account: str, jwt: str, parts: list[tuple[str, bytes, str]]
    ) -> AssetsUploadResult:
        """One bucket: a part per file named by its hash, base64 content, with its type.

        Authorised by the session's token, not ours. Sending a bucket again stores the same
        content under the same hashes."""
        path = _w(account, "/assets/upload")
        files = [(h, (h, content, ctype)) for h, content, ctype in parts]
        result = await self._call(
            "POST",
            path,
            params={"base64": "true"},
            files=files,
            headers={"Authorization": f"Bearer {jwt}"},
        )
        return parse_one(AssetsUploadResult, result or {}, "POST", path)

    async def upload_version(self, account: str, name: str, upload: WorkerUpload) -> VersionRecord:
        """A new version, not deployed; `inherit` bindings must resolve (strict)."""
        path = _script(account, name, "/versions")
        result = await self._call(
            "POST", path, idempotent=False, files=upload.files(),
            params={"bindings_inherit": "strict"},
        )  # fmt: skip
        return parse_one(VersionRecord, result or {}, "POST", path)

    async def list_versions(self, account: str, name: str) -> list[VersionRecord]:
        """The newest versions (one page of up to 100: the API's rollback window)."""
        path = _script(account, name, "/versions")
        result = await self._call("GET", path, params={"page": 1, "per_page": 100})
        items = result.get("items") if isinstance(result, dict) else None
        return parse_many(VersionRecord, items if isinstance(items, list) else [], "GET", path)

    async def latest_deployment(self, account: str, name: str) -> DeploymentRecord | None:
        path = _script(account, name, "/deployments")
        result = await self._call("GET", path)
        items = result.get("deployments") if isinstance(result, dict) else None
        found = parse_many(DeploymentRecord, items if isinstance(items, list) else [], "GET", path)
        return found[0] if found else None

    async def create_deployment(
        self,
        account: str,
        name: str,
        split: list[tuple[str, int]],
        annotations: dict[str, str],
        *,
        force: bool = False,
    ) -> None:
        """Deploy one or two versions (percentages adding up to 100)."""
        path = _script(account, name, "/deployments")
        body = {
            "strategy": "percentage",
            "versions": [{"version_id": v, "percentage": p} for v, p in split],
            "annotations": annotations,
        }
        params = {"force": "true"} if force else None
        await self._call("POST", path, json=body, params=params)

    async def put_script_secret(self, account: str, script: str, name: str, value: str) -> None:
        """Write one script secret (a new deployed version); the value goes in the body only."""
        path = _script(account, script, "/secrets")
        await self._call("PUT", path, json={"name": name, "text": value, "type": "secret_text"})

    async def delete_script_secret(self, account: str, script: str, name: str) -> None:
        path = _script(account, script, f"/secrets/{segment(name, 'secret name')}")
        try:
            await self._call("DELETE", path)
        except ApiError as exc:
            if not (exc.status == 404 or exc.has_code(10056)):
                raise

    async def patch_script_annotations(
        self, account: str, script: str, annotations: dict[str, str]
    ) -> None:
        """A new version with the same code and bindings, carrying these annotations."""
        await self.patch_version_settings(account, script, {"annotations": annotations})

    async def patch_version_settings(
        self, account: str, script: str, settings: dict[str, Any]
    ) -> None:
        """`PATCH …/settings` (multipart part `settings`): a new version with the same code,
        these settings changed. Annotations are not carried over: send the ones to keep."""
        path = _script(account, script, "/settings")
        body = json.dumps(settings).encode()
        await self._call("PATCH", path, files=[("settings", (None, body, "application/json"))])

    async def patch_script_settings(
        self, account: str, script: str, settings: dict[str, Any]
    ) -> None:
        """`PATCH …/script-settings` (JSON): the script's own settings, no new version."""
        path = _script(account, script, "/script-settings")
        await self._call("PATCH", path, json=settings)

    async def delete_script(self, account: str, name: str, force: bool = False) -> None:
        path = _script(account, name)
        try:
            await self._call("DELETE", path, params={"force": "true"} if force else None)
        except ApiError as exc:
            if not (exc.status == 404 or exc.has_code(10007)):
                raise

    # --- triggers and reachability (N8) -------------------------------------

    async def find_zone(self, account: str, name: str) -> ZoneRecord | None:
        """The account's zone of that exact name, or None (one call)."""
        raw = await self._t.paged("/zones", ZONES_PER_PAGE, {"name": name, "account.id": account})
        zones = parse_many(ZoneRecord, raw, "GET", "/zones")
        return next((z for z in zones if z.name == name), None)

    async def list_zones(self, account: str) -> list[ZoneRecord]:
        """Every zone of the account (paged)."""
        raw = await self._t.paged("/zones", ZONES_PER_PAGE, {"account.id": account})
        return parse_many(ZoneRecord, raw, "GET", "/zones")

    async def get_schedules(self, account: str, script: str) -> list[str]:
        path = _script(account, script, "/schedules")
        result = await self._call("GET", path)
        raw = result.get("schedules") if isinstance(result, dict) else None
        return [s.cron for s in parse_many(ScheduleRecord, raw or [], "GET", path)]

    async def put_schedules(self, account: str, script: str, crons: list[str]) -> None:
        """Replace the worker's whole cron list (PUT: sending it twice leaves the same state)."""
        path = _script(account, script, "/schedules")
        await self._call("PUT", path, json=[{"cron": c} for c in crons])

    async def get_subdomain(self, account: str, script: str) -> SubdomainRecord:
        path = _script(account, script, "/subdomain")
        return parse_one(SubdomainRecord, await self._call("GET", path) or {}, "GET", path)

    async def set_subdomain(
        self, account: str, script: str, *, enabled: bool, previews_enabled: bool
    ) -> None:
        path = _script(account, script, "/subdomain")
        body = {"enabled": enabled, "previews_enabled": previews_enabled}
        await self._call("POST", path, json=body)

    async def list_zone_routes(self, zone_id: str) -> list[RouteRecord]:
        path = f"{_zone(zone_id)}/workers/routes"
        return parse_many(RouteRecord, await self._t.call_list(path), "GET", path)

    async def create_route(self, zone_id: str, pattern: str, script: str) -> RouteRecord:
        path = f"{_zone(zone_id)}/workers/routes"

        async def send() -> RouteRecord:
            result = await self._call(
                "POST", path, idempotent=False, json={"pattern": pattern, "script": script}
            )
            return parse_one(RouteRecord, result, "POST", path)

        async def find() -> RouteRecord | None:
            live = await self.list_zone_routes(zone_id)
            return next((r for r in live if r.pattern == pattern and r.script == script), None)

        return await self._t.create_once(send, find, f"route {pattern!r}", path)

    async def update_route(self, zone_id: str, route_id: str, pattern: str, script: str) -> None:
        """Point an existing route at `script` (how a route moves between workers)."""
        path = f"{_zone(zone_id)}/workers/routes/{segment(route_id, 'route id')}"
        await self._call("PUT", path, json={"pattern": pattern, "script": script})

    async def delete_route(self, zone_id: str, route_id: str) -> None:
        path = f"{_zone(zone_id)}/workers/routes/{segment(route_id, 'route id')}"
        try:
            await self._call("DELETE", path)
        except ApiError as exc:
            if not (exc.status == 404 or exc.has_code(10009)):
                raise

    async def list_domains(self, account: str) -> list[DomainRecord]:
        path = _w(account, "/domains")
        return parse_many(DomainRecord, await self._t.call_list(path), "GET", path)

    async def attach_domain(
        self, account: str, hostname: str, service: str, zone_id: str, *, take_over: bool
    ) -> DomainRecord:
        """PUT (attaching twice is one attachment); `take_over` moves it from another worker."""
        path = _w(account, "/domains")
        body: dict[str, Any] = {"hostname": hostname, "service": service, "zone_id": zone_id}
        if take_over:
            body["override_existing_origin"] = True
        return parse_one(DomainRecord, await self._call("PUT", path, json=body), "PUT", path)

    async def detach_domain(self, account: str, domain_id: str) -> None:
        path = _w(account, f"/domains/{segment(domain_id, 'domain id')}")
        try:
            await self._call("DELETE", path)
        except ApiError as exc:
            if not (exc.status == 404 or exc.has_code(100114)):
                raise


def _ss(account: str, rest: str) -> str:
    return f"/accounts/{segment(account, 'account id')}/secrets_store{rest}"


def _store(account: str, store_id: str, rest: str = "") -> str:
    return _ss(account, f"/stores/{segment(store_id, 'store id')}{rest}")


def _zone(zone_id: str) -> str:
    return f"/zones/{segment(zone_id, 'zone id')}"


def _script(account: str, name: str, rest: str = "") -> str:
    return _w(account, f"/scripts/{segment(name, 'worker name')}{rest}")


def _w(account: str, rest: str) -> str:
    return f"/accounts/{segment(account, 'account id')}/workers{rest}"


def _is_gone(exc: ApiError, not_found_key: str) -> bool:
    return exc.status == 404 or not_found_key in exc.api_message
