"""A replace is one unit for the limiter: no budget pause between its delete and its create.

Under a tight rate limit (client and server) the rotation must wait for the budget, but
only before a delete, never between the delete and the create that follows it. The
emulator's request log says when each answer was ready; the client's side names the secret
of each request, so every delete is paired with its own create.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks._common import write_manifests
from reconciler.apply import Applier
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.manifest.merge import load_manifests
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions

KEY = b"limiter-test-key"
SECRETS = 8
WINDOW_S = 2.0
LIMIT = 7


def _emulator_config() -> EmulatorConfig:
    return EmulatorConfig.model_validate(
        {
            "accounts": [{"id": DEFAULT_ACCOUNT_ID, "max_stores": 1, "max_secrets": 100}],
            "faults": {"rate_limit": {"requests": LIMIT, "window_s": WINDOW_S}},
        }
    )


class _Named(httpx.ASGITransport):
    """The secret each delete or create names, and when its answer came back."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.ids: dict[str, str] = {}  # live secret id -> name, from the reads
        self.deleted: dict[str, float] = {}
        self.created: dict[str, float] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        answered = time.monotonic()
        path = request.url.path
        if request.method == "GET" and path.endswith("/secrets"):
            body = json.loads(await response.aread())
            self.ids.update({s["id"]: s["name"] for s in body["result"]})
        elif request.method == "DELETE" and "/secrets/" in path:
            self.deleted[self.ids[path.rsplit("/", 1)[1]]] = answered
        elif request.method == "POST" and path.endswith("/secrets"):
            for secret in json.loads(request.content):
                self.created[secret["name"]] = answered
        return response


async def _apply(app: Any, root: Path, rotate: int) -> tuple[float, int, _Named]:
    """Plan and apply; returns (seconds the limiter waited, requests sent, what was sent)."""
    manifests = load_manifests(
        [str(write_manifests(root, workers=0, secrets=SECRETS, rotate=rotate))]
    )
    config = ClientConfig(
        token=DEFAULT_TOKEN,
        base_url="http://127.0.0.1/client/v4",
        transport=(transport := _Named(app)),
        rate_limit=LIMIT,
        rate_window_s=WINDOW_S,
        concurrency=4,
    )
    async with CloudflareClient(config) as client:
        live = await read_live(client, DEFAULT_ACCOUNT_ID)
        options = PlanOptions(replace=[f"SECRET_{i:04d}" for i in range(rotate)])
        plan = compute_plan(manifests.state, live, options=options, fingerprint_key=KEY)
        applier = Applier(client, DEFAULT_ACCOUNT_ID, manifests.state, live, KEY)
        report = await applier.run(plan)
        assert report.ok, [str(o.error) for o in report.outcomes if o.error]
        return client.limiter.waited_s, client.request_count, transport


def _log(app: Any) -> list[dict[str, Any]]:
    return list(app.state.emulator.log)


def test_no_limiter_pause_between_a_replace_delete_and_its_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(_emulator_config())
    asyncio.run(_apply(app, tmp_path / "m", rotate=0))
    app.state.emulator.log.clear()

    waited, sent, named = asyncio.run(_apply(app, tmp_path / "m", rotate=SECRETS))

    log = _log(app)
    assert sent > 2 * LIMIT, "the rotation needs more than two windows of budget"
    assert waited >= WINDOW_S / 2, "the tight limit made the run wait for the budget"
    assert not [r for r in log if r["status"] == 429], "the shared budget was never overrun"
    deletes = [r for r in log if r["method"] == "DELETE" and "/secrets/" in r["path"]]
    creates = [r for r in log if r["method"] == "POST" and r["path"].endswith("/secrets")]
    assert len(deletes) == SECRETS and len(creates) == SECRETS
    assert set(named.deleted) == set(named.created) == {f"SECRET_{i:04d}" for i in range(SECRETS)}
    for name, deleted in named.deleted.items():
        absent = named.created[name] - deleted
        # Two back-to-back in-process requests: far below the window's pacing.
        assert 0 <= absent < WINDOW_S / 4, (name, absent)
