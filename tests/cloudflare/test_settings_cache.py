"""The read cache entry an upload leaves holds the settings the next read would show."""

from __future__ import annotations

from reconciler.cloudflare.cache import upload_entry
from reconciler.cloudflare.facets.settings import FACET
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings, UploadResult
from reconciler.cloudflare.upload import build_upload
from reconciler.state import Module, Worker, script_digest

CODE = (Module("index.js", b"export default { fetch() { return new Response('x') } }\n"),)


def _entry_settings(worker: Worker, live: Worker | None = None) -> dict[str, object]:
    upload = build_upload(worker, {}, tags=[], live=live)
    result = UploadResult(id=worker.name, etag="e" * 64, modified_on="2026-12-04T00:00:00Z")
    entry = upload_entry(result, upload, worker.script_digest)
    assert entry is not None
    settings = ScriptSettings.model_validate(entry.settings)
    # The list item carries no limits: the cached settings are all a warm plan has.
    part = FACET.read(ScriptRecord(id=worker.name), settings, {})
    return part["settings"]


def _worker(**settings: object) -> Worker:
    return Worker("api", "module", script_digest(list(CODE)), CODE, settings=dict(settings))


def test_version_settings_sent_are_cached() -> None:
    got = _entry_settings(_worker(limits={"cpu_ms": 50}, placement={"mode": "smart"}))
    assert got["limits"] == {"cpu_ms": 50} and got["placement"] == {"mode": "smart"}


def test_version_settings_left_out_are_cached_as_reset() -> None:
    got = _entry_settings(_worker())
    assert got["limits"] is None and got["placement"] is None


def test_unmanaged_version_settings_carried_from_live_are_cached() -> None:
    live = _worker(limits={"cpu_ms": 20}, usage_model="standard", placement={})
    got = _entry_settings(_worker(), live)
    assert got["limits"] == {"cpu_ms": 20}
