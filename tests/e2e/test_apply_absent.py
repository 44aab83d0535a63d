"""A secret deleted for replacement whose recreate keeps failing is reported as ABSENT."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.apply import Applier, ApplyReport, Outcome
from reconciler.cli.apply_command import _report
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import Backoff, ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.errors import ApplyError
from reconciler.manifest.merge import load_manifests
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from tests.checkout import LOCAL_STATE
from tests.e2e.conftest import REPO

KEY = b"absent-test-key"


class FailSecretCreates(httpx.AsyncBaseTransport):
    """The emulator, except that secret creates answer 503 once `armed`.

    The emulator cannot fail the second half of a delete-then-create on cue; this seam can.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.armed = False
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and request.method == "POST" and request.url.path.endswith("/secrets"):
            self.refused += 1
            return httpx.Response(
                503, json={"success": False, "errors": [{"code": 10002, "message": "down"}]}
            )
        return await self.inner.handle_async_request(request)


class FailSecretCreatesAndLists(FailSecretCreates):
    """Creates fail, and so does the fresh list that would confirm the secret is absent."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and request.method == "GET" and "search=" in str(request.url):
            return httpx.Response(
                503, json={"success": False, "errors": [{"code": 10002, "message": "down"}]}
            )
        return await super().handle_async_request(request)


class HangSecretCreates(FailSecretCreates):
    """Secret creates never answer once armed: the run is interrupted in the gap."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and request.method == "POST" and request.url.path.endswith("/secrets"):
            await asyncio.Event().wait()
        return await self.inner.handle_async_request(request)


def _config(transport: httpx.AsyncBaseTransport) -> ClientConfig:
    return ClientConfig(
        token=DEFAULT_TOKEN,
        base_url="http://127.0.0.1/client/v4",
        transport=transport,
        max_retries=1,
        backoff=Backoff(base_s=0.001),
    )


async def _apply(
    config: ClientConfig, on_outcome: Callable[[Outcome], None] | None = None
) -> ApplyReport:
    """Plan and apply manifests/ in the working directory, as the CLI would."""
    manifests = load_manifests(["manifests"])
    async with CloudflareClient(config) as client:
        live = await read_live(client, DEFAULT_ACCOUNT_ID)
        plan = compute_plan(manifests.state, live, options=PlanOptions(), fingerprint_key=KEY)
        applier = Applier(
            client,
            DEFAULT_ACCOUNT_ID,
            manifests.state,
            live,
            KEY,
            on_outcome=on_outcome,
            recreate_pause_s=0.0,
        )
        return await applier.run(plan)


def _rotate_stripe_key(root: Path) -> None:
    (root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_NEW\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_failed_recreate_is_retried_then_reported_absent(project: Path) -> None:
    transport = FailSecretCreates(httpx.ASGITransport(app=create_app()))
    config = _config(transport)
    assert asyncio.run(_apply(config)).ok
    _rotate_stripe_key(project)
    transport.armed = True
    report = asyncio.run(_apply(config))

    assert not report.ok
    assert report.absent_secrets == ["prod-secrets/STRIPE_KEY"]
    # Retried at apply level (3 tries), each try retried once by the client after its 503.
    assert transport.refused == 3 * 2
    with pytest.raises(ApplyError) as info:
        _report(report)
    assert "secret prod-secrets/STRIPE_KEY was deleted for replacement" in str(info.value)
    assert "it is ABSENT now. Rerun `reconciler apply` to recreate it" in str(info.value)

    transport.armed = False
    assert asyncio.run(_apply(config)).ok, "a rerun recreates the secret"


def test_an_interrupt_between_delete_and_create_names_the_absent_secret(project: Path) -> None:
    transport = HangSecretCreates(httpx.ASGITransport(app=create_app()))
    config = _config(transport)
    assert asyncio.run(_apply(config)).ok
    _rotate_stripe_key(project)
    transport.armed = True
    seen: list[Outcome] = []
    with pytest.raises(TimeoutError):
        asyncio.run(asyncio.wait_for(_apply(config, seen.append), 0.5))
    absent = [o for o in seen if o.secret_absent]
    assert [o.action.label for o in absent] == ["prod-secrets/STRIPE_KEY"]
    assert "interrupted between the delete and the create" in str(absent[0].error)


def test_an_absence_that_cannot_be_confirmed_says_may_be(project: Path) -> None:
    transport = FailSecretCreatesAndLists(httpx.ASGITransport(app=create_app()))
    config = _config(transport)
    assert asyncio.run(_apply(config)).ok
    _rotate_stripe_key(project)
    transport.armed = True
    report = asyncio.run(_apply(config))
    [outcome] = [o for o in report.outcomes if o.secret_absent]
    assert not outcome.absent_confirmed
    with pytest.raises(ApplyError) as info:
        _report(report)
    assert (
        "secret prod-secrets/STRIPE_KEY was deleted for replacement and could not be recreated; "
        "it may be ABSENT now (not confirmed by a read of the account)"
    ) in str(info.value)
