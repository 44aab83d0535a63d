"""Fixtures: the emulator in-process (ASGI transport) or served over real HTTP on 127.0.0.1.

Tests talk to the emulator through the real client; the emulator's own
endpoints (/__emulator/...) give the request log and the fault switches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import Backoff, ClientConfig
from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer

ACCOUNT = DEFAULT_ACCOUNT_ID
TOKEN = DEFAULT_TOKEN
FAST = Backoff(base_s=0.01, cap_s=0.05)


@dataclass
class Emulator:
    """One emulator, reached either through an ASGI transport or a base URL."""

    base_url: str
    root_url: str
    transport: httpx.AsyncBaseTransport | None

    def config(self, **overrides: Any) -> ClientConfig:
        cfg = ClientConfig(
            token=TOKEN,
            base_url=self.base_url,
            transport=self.transport,
            backoff=FAST,
        )
        return replace(cfg, **overrides)

    def client(self, **overrides: Any) -> CloudflareClient:
        return CloudflareClient(self.config(**overrides))

    def _control(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.root_url, transport=self.transport, timeout=10)

    async def requests(self) -> list[dict[str, Any]]:
        async with self._control() as c:
            r = await c.get("/__emulator/requests")
            r.raise_for_status()
            body = r.json()
            items = body.get("result", body) if isinstance(body, dict) else body
            assert isinstance(items, list)
            return items

    async def clear_requests(self) -> None:
        async with self._control() as c:
            (await c.delete("/__emulator/requests")).raise_for_status()

    async def faults(self, **settings: Any) -> None:
        async with self._control() as c:
            (await c.put("/__emulator/faults", json=settings)).raise_for_status()


def inprocess(config: EmulatorConfig | None = None) -> Emulator:
    app = create_app(config=config)
    return Emulator(
        base_url="http://127.0.0.1/client/v4",
        root_url="http://127.0.0.1",
        transport=httpx.ASGITransport(app=app),
    )


@contextmanager
def served(config: EmulatorConfig | None = None) -> Iterator[Emulator]:
    with EmulatorServer(config=config) as server:
        yield Emulator(base_url=server.base_url, root_url=server.root_url, transport=None)


def emulator_config(**raw: Any) -> EmulatorConfig:
    return EmulatorConfig.model_validate(raw)


def paths(log: list[dict[str, Any]], method: str | None = None) -> list[str]:
    return [r["path"] for r in log if method is None or r["method"] == method]


@pytest.fixture
def emu() -> Emulator:
    return inprocess()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
