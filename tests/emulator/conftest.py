"""Fixtures for the emulator's own tests: an in-process client and a served emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer

A = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
MODULE_JS = b"export default { async fetch(request, env) { return new Response('hi'); } };\n"
CLASSIC_JS = b"addEventListener('fetch', (e) => e.respondWith(new Response('hi')));\n"


class InProcess:
    """A synchronous face on the documented in-process mode (httpx.ASGITransport, no server)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator.local"
        )

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, path, **kw))

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_process(config: EmulatorConfig | None = None) -> InProcess:
    return InProcess(create_app(config))


class Api:
    """A thin synchronous client for in-process tests (authorised by default)."""

    def __init__(self, client: InProcess) -> None:
        self.c = client

    def req(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        h = {**AUTH, **(headers or {})}
        return self.c.request(method, path, headers=h, **kw)

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = self.c.get("/__emulator/state").json()
        return out

    def create_store(self, name: str = "main") -> str:
        r = self.req("POST", f"{A}/secrets_store/stores", json={"name": name})
        assert r.status_code == 200, r.text
        sid: str = r.json()["result"]["id"]
        return sid

    def create_secret(
        self, store_id: str, name: str = "API_KEY", scopes: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = [{"name": name, "value": "v-" + name, "scopes": scopes or ["workers"], **extra}]
        r = self.req("POST", f"{A}/secrets_store/stores/{store_id}/secrets", json=body)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()["result"][0]
        return out

    def upload(
        self,
        name: str,
        metadata: dict[str, Any],
        modules: list[tuple[str, bytes, str]],
        query: str = "",
    ) -> Any:
        files = [("files", (n, data, ct)) for n, data, ct in modules]
        files.append(("metadata", ("", json.dumps(metadata).encode(), "application/json")))
        return self.req("PUT", f"{A}/workers/scripts/{name}{query}", files=files)

    def upload_module(self, name: str = "hello", **metadata: Any) -> Any:
        md = {"main_module": "index.js", **metadata}
        r = self.upload(name, md, [("index.js", MODULE_JS, "application/javascript+module")])
        return r


def make_config(**raw: Any) -> EmulatorConfig:
    return EmulatorConfig.model_validate(raw)


@pytest.fixture
def api() -> Iterator[Api]:
    with in_process() as client:
        yield Api(client)


@pytest.fixture
def served() -> Iterator[EmulatorServer]:
    with EmulatorServer() as srv:
        yield srv


def envelope_error(r: Any) -> tuple[int, str]:
    """(code, message) of a failure envelope, after checking its shape."""
    body = r.json()
    assert body["success"] is False and body["result"] is None, body
    assert body["errors"] and isinstance(body["messages"], list), body
    err = body["errors"][0]
    return err["code"], err["message"]
