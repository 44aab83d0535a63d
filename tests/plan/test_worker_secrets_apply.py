"""The applier on worker secrets, against a recording fake client: calls, order, the record,
and what a failed write leaves (no record, so the next plan writes the values again)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from reconciler.apply import Applier
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.ratelimit import RateLimiter
from reconciler.errors import ApiError
from reconciler.markers import SECRETS_ANNOTATION, parse_secrets_record
from reconciler.plan.diff import compute_plan
from reconciler.plan.fingerprint import worker_secret_fingerprint
from reconciler.plan.model import PlanOptions

from .conftest import (
    KEY,
    desired_worker_secret,
    env_name,
    live_state,
    live_worker_secret,
    state,
    value_of,
    worker,
)

NAMES = ("API_KEY", "DB_URL", "TOKEN")


@dataclass
class _Config:
    concurrency: int = 4
    cache_dir: None = None


@dataclass
class FakeClient:
    """Records every call; `fail` names secrets whose PUT answers an API error."""

    fail: set[str] = field(default_factory=set)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    annotations: dict[str, str] | None = None
    config: _Config = field(default_factory=_Config)
    # The applier announces its expected calls to the client's limiter.
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(1200, 300))

    async def put_script_secret(self, account: str, script: str, name: str, value: str) -> None:
        self.calls.append(("PUT secret", script, name))
        if name in self.fail:
            raise ApiError(status=500, codes=(10002,), message="boom", method="PUT", path="/x")

    async def delete_script_secret(self, account: str, script: str, name: str) -> None:
        self.calls.append(("DELETE secret", script, name))

    async def patch_script_annotations(
        self, account: str, script: str, annotations: dict[str, str]
    ) -> None:
        self.calls.append(("PATCH settings", script))
        self.annotations = annotations

    async def upload_script(self, account: str, name: str, upload: Any) -> Any:
        self.calls.append(("PUT script", name))
        self.annotations = upload.metadata.get("annotations")
        self.uploaded = upload.metadata
        from reconciler.cloudflare.models import UploadResult

        return UploadResult()


@pytest.fixture(autouse=True)
def _values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.setenv(env_name("api", name), value_of(name))


def _run(
    client: FakeClient,
    live_secrets: list[Any],
    *,
    code: str = "export default {}",
    prune: bool = False,
) -> list[tuple[str, str]]:
    declared = [desired_worker_secret("api", n) for n in NAMES]
    desired = state(workers=[worker("api", code, secrets=declared)])
    live = live_state(workers=[worker("api", secrets=live_secrets)])
    plan = compute_plan(desired, live, options=PlanOptions(prune=prune), fingerprint_key=KEY)
    applier = Applier(cast(CloudflareClient, client), "acct", desired, live, KEY)
    report = asyncio.run(applier.run(plan))
    return [(o.action.label, o.status) for o in report.outcomes]


def _fp(name: str) -> str:
    return worker_secret_fingerprint(KEY, "api", name, value_of(name))


def test_changed_values_are_put_one_by_one_then_recorded_once() -> None:
    client = FakeClient()
    live = [
        live_worker_secret("api", "API_KEY", value="old"),
        live_worker_secret("api", "DB_URL"),
        live_worker_secret("api", "OLD"),
    ]
    outcomes = _run(client, live, prune=True)
    assert outcomes == [("api/OLD", "done"), ("api/API_KEY", "done"), ("api/TOKEN", "done")]
    assert client.calls == [
        ("DELETE secret", "api", "OLD"),
        ("PUT secret", "api", "API_KEY"),
        ("PUT secret", "api", "TOKEN"),
        ("PATCH settings", "api"),
    ]
    assert client.annotations is not None
    record = parse_secrets_record(client.annotations[SECRETS_ANNOTATION])
    assert record == {n: _fp(n) for n in NAMES}


def test_a_failed_write_leaves_no_record_and_stops() -> None:
    client = FakeClient(fail={"API_KEY"})
    outcomes = _run(client, [live_worker_secret("api", n, value="old") for n in NAMES])
    assert outcomes == [
        ("api/API_KEY", "failed"),
        ("api/DB_URL", "not_started"),
        ("api/TOKEN", "not_started"),
    ]
    assert ("PATCH settings", "api") not in client.calls


def test_an_uploaded_worker_carries_its_new_values_and_the_record() -> None:
    client = FakeClient()
    live = [live_worker_secret("api", "API_KEY", value="old"), live_worker_secret("api", "DB_URL")]
    outcomes = _run(client, live, code="export default { changed: 1 }")
    assert ("api", "done") in outcomes and ("api/TOKEN", "done") in outcomes
    assert client.calls == [("PUT script", "api")]  # no separate secret writes, no PATCH
    inline = {b["name"] for b in client.uploaded["bindings"] if b["type"] == "secret_text"}
    assert inline == {"API_KEY", "TOKEN"}  # DB_URL is unchanged: kept by keep_bindings
    assert "secret_text" in client.uploaded["keep_bindings"]
    assert client.annotations is not None
    assert parse_secrets_record(client.annotations[SECRETS_ANNOTATION]) == {
        n: _fp(n) for n in NAMES
    }


def test_a_value_changed_after_the_plan_read_it_is_not_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The applier reads values again; one that is not the plan's pinned value is refused."""
    client = FakeClient()
    declared = [desired_worker_secret("api", n) for n in NAMES]
    desired = state(workers=[worker("api", "export default {}", secrets=declared)])
    live = live_state(
        workers=[worker("api", secrets=[live_worker_secret("api", n, value="old") for n in NAMES])]
    )
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    changed = "a-value-edited-while-the-plan-was-shown-5e4d"
    monkeypatch.setenv(env_name("api", "DB_URL"), changed)
    report = asyncio.run(
        Applier(cast(CloudflareClient, client), "acct", desired, live, KEY).run(plan)
    )
    outcomes = [(o.action.label, o.status) for o in report.outcomes]
    assert outcomes == [
        ("api/API_KEY", "done"),
        ("api/DB_URL", "failed"),
        ("api/TOKEN", "not_started"),
    ]
    assert ("PUT secret", "api", "DB_URL") not in client.calls
    assert ("PATCH settings", "api") not in client.calls
    [failed] = report.with_status("failed")
    assert str(failed.error) == (
        "the value of worker api's secret DB_URL changed after the plan read it, so it was not "
        "sent; run plan again and review the new plan"
    )
    assert changed not in repr(report)
