"""Worker settings through the official Python SDK (cloudflare 5.9.0) against the served emulator.

Where each setting lives: observability, logpush and tail consumers on the script
(`…/script-settings`), limits, placement and the usage model on the version (upload
metadata, `…/settings`); the script list item carries all but limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cloudflare
import pytest
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer
from tests.emulator.conftest import MODULE_JS

ACCT = DEFAULT_ACCOUNT_ID
OBSERVABILITY = {
    "enabled": True,
    "head_sampling_rate": 0.25,
    "logs": {"enabled": True, "invocation_logs": False, "head_sampling_rate": 0.5},
    "traces": {"enabled": True, "destinations": ["otel-sink"]},
}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloudflare]:
    for var in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_TOKEN",
                "CLOUDFLARE_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    with EmulatorServer(config=None) as srv:
        c = Cloudflare(base_url=srv.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
        yield c
        c.close()


def upload(client: Cloudflare, name: str, **metadata: Any) -> None:
    client.workers.scripts.update(
        name,
        account_id=ACCT,
        metadata={"main_module": "index.js", "compatibility_date": "2025-01-01", **metadata},  # type: ignore[arg-type]
        files=[("index.js", MODULE_JS, "application/javascript+module")],
    )


def listed(client: Cloudflare, name: str) -> Any:
    return next(s for s in client.workers.scripts.list(account_id=ACCT) if s.id == name)


def test_every_setting_in_the_upload_reads_back_from_list_settings_and_script_settings(
    client: Cloudflare,
) -> None:
    upload(client, "tail")
    upload(
        client,
        "api",
        observability=OBSERVABILITY,
        logpush=True,
        tail_consumers=[{"service": "tail"}],
        placement={"mode": "smart"},
        limits={"cpu_ms": 50},
        usage_model="standard",
    )
    item = listed(client, "api")
    assert item.logpush is True and item.usage_model == "standard"
    assert [t.service for t in item.tail_consumers or []] == ["tail"]
    assert item.placement is not None and item.placement.mode == "smart"  # type: ignore[union-attr]
    obs = item.observability
    assert obs is not None and obs.enabled is True and obs.head_sampling_rate == 0.25
    # The API's defaults come back filled in, not as sent.
    assert obs.logs is not None and obs.logs.persist is True and obs.logs.destinations == []
    assert obs.logs.invocation_logs is False and obs.logs.head_sampling_rate == 0.5
    assert obs.traces is not None and obs.traces.head_sampling_rate == 1
    assert obs.traces.destinations == ["otel-sink"]
    full = client.workers.scripts.script_and_version_settings.get("api", account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms == 50
    assert full.placement is not None and full.placement.mode == "smart"  # type: ignore[union-attr]
    assert full.observability is not None and full.observability.head_sampling_rate == 0.25
    script = client.workers.scripts.settings.get("api", account_id=ACCT)
    assert script.logpush is True and [t.service for t in script.tail_consumers or []] == ["tail"]
    assert script.observability is not None and script.observability.enabled is True


def test_a_new_worker_reads_the_default_forms(client: Cloudflare) -> None:
    upload(client, "plain")
    item = listed(client, "plain")
    assert item.logpush is False and item.tail_consumers == [] and item.usage_model == "standard"
    assert item.observability is not None and item.observability.enabled is False
    assert item.observability.head_sampling_rate == 1  # the default, not absent
    full = client.workers.scripts.script_and_version_settings.get("plain", account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms is None


def test_script_settings_patch_changes_only_what_it_names_and_no_version(
    client: Cloudflare,
) -> None:
    upload(client, "tail")
    upload(client, "api", placement={"mode": "smart"}, limits={"cpu_ms": 50})
    versions = len(list(client.workers.scripts.versions.list("api", account_id=ACCT)))
    edited = client.workers.scripts.settings.edit(
        "api",
        account_id=ACCT,
        observability={"enabled": True},
        tail_consumers=[{"service": "tail"}],
    )
    assert edited.observability is not None and edited.observability.head_sampling_rate == 1
    assert [t.service for t in edited.tail_consumers or []] == ["tail"]
    assert len(list(client.workers.scripts.versions.list("api", account_id=ACCT))) == versions
    client.workers.scripts.settings.edit("api", account_id=ACCT, logpush=True)
    item = listed(client, "api")
    assert item.logpush is True and item.observability.enabled is True  # type: ignore[union-attr]
    assert item.placement.mode == "smart"  # type: ignore[union-attr]
    client.workers.scripts.settings.edit("api", account_id=ACCT, observability=None)
    assert listed(client, "api").observability.enabled is False  # type: ignore[union-attr]


def test_settings_patch_makes_a_version_and_keeps_bindings_and_script_settings(
    client: Cloudflare,
) -> None:
    upload(
        client,
        "api",
        bindings=[{"type": "plain_text", "name": "GREETING", "text": "hi"}],
        observability={"enabled": True},
    )
    versions = len(list(client.workers.scripts.versions.list("api", account_id=ACCT)))
    client.workers.scripts.script_and_version_settings.edit(
        "api",
        account_id=ACCT,
        settings={"limits": {"cpu_ms": 100}, "placement": {"region": "aws:us-east-1"}},
    )
    assert len(list(client.workers.scripts.versions.list("api", account_id=ACCT))) == versions + 1
    full = client.workers.scripts.script_and_version_settings.get("api", account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms == 100
    assert full.placement.region == "aws:us-east-1"  # type: ignore[union-attr]
    assert [b.name for b in full.bindings or []] == ["GREETING"]
    assert full.observability is not None and full.observability.enabled is True


def test_an_upload_replaces_version_settings_and_keeps_script_settings(
    client: Cloudflare,
) -> None:
    """Limits, placement and usage model belong to the version an upload makes; observability,
    logpush and tail consumers to the script. A client that leaves a version setting out of an
    upload must send the live one to keep it."""
    upload(client, "api", placement={"mode": "smart"}, limits={"cpu_ms": 50}, logpush=True)
    upload(client, "api")
    full = client.workers.scripts.script_and_version_settings.get("api", account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms is None
    assert full.placement is None or full.placement.model_dump(exclude_none=True) == {}
    assert full.logpush is True


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"observability": {"head_sampling_rate": 1}}, "observability.enabled is required"),
        ({"observability": {"enabled": True, "head_sampling_rate": 2}}, "from 0 to 1"),
        ({"observability": {"enabled": True, "logs": {"enabled": True}}}, "invocation_logs"),
        ({"observability": {"enabled": True, "sampling": 1}}, "Unknown observability"),
        ({"placement": {"mode": "fast"}}, "placement.mode"),
        ({"placement": {"mode": "smart", "region": "aws:us-east-1"}}, "no target"),
        ({"placement": {"region": "a", "host": "b:1"}}, "placement must be"),
        ({"limits": {"cpu_ms": 0}}, "positive integer"),
        ({"limits": {"wall_ms": 5}}, "Unknown limits"),
        ({"usage_model": "free"}, "usage_model"),
        ({"tail_consumers": [{"service": "nobody"}]}, "deploy the Tail Worker first"),
        ({"tail_consumers": [{"name": "x"}]}, "tail_consumers"),
    ],
)
def test_bad_settings_are_refused_with_10021(
    client: Cloudflare, metadata: dict[str, Any], words: str
) -> None:
    with pytest.raises(cloudflare.BadRequestError) as err:
        upload(client, "api", **metadata)
    error = err.value.body["errors"][0]  # type: ignore[index]
    assert error["code"] == 10021 and words in error["message"]


def test_other_placement_forms_are_kept_as_sent(client: Cloudflare) -> None:
    for placement in (
        {"hostname": "db.example.com"},
        {"mode": "targeted", "host": "db.example.com:5432"},
        {"mode": "targeted", "target": [{"region": "gcp:europe-west1"}]},
    ):
        upload(client, "api", placement=placement)
        full = client.workers.scripts.script_and_version_settings.get("api", account_id=ACCT)
        assert full.placement is not None
        assert full.placement.model_dump(exclude_none=True) == placement
