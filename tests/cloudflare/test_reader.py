"""The live-state reader and its cache, against the emulator; upload encoding read back."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.reader import read_live
from reconciler.cloudflare.upload import build_upload
from reconciler.markers import WORKER_TAG, format_comment
from reconciler.state import Binding, Module, State, Worker, script_digest

from .conftest import ACCOUNT, Emulator, served

MODULE_MAIN = Module(
    "index.js",
    b"import { x } from './util.js';\nexport default { fetch() { return new Response(x) } }",
)
MODULE_UTIL = Module("util.js", b"export const x = 'hi'")
CLASSIC = Module("worker.js", b"addEventListener('fetch', e => e.respondWith(new Response('old')))")
FP = "ab" * 16


def _api_worker(store: str = "main") -> Worker:
    modules = (MODULE_MAIN, MODULE_UTIL)
    return Worker(
        name="api",
        format="module",
        script_digest=script_digest(modules),
        modules=modules,
        compatibility_date="2025-01-01",
        compatibility_flags=("nodejs_compat",),
        bindings=(
            Binding("KEY", "secrets_store_secret", {"store": store, "secret": "API_KEY"}),
            Binding("GREETING", "plain_text", {"text": "hello"}),
        ),
    )


def _legacy_worker() -> Worker:
    return Worker(
        name="legacy", format="classic", script_digest=script_digest([CLASSIC]), modules=(CLASSIC,)
    )


async def _populate(client: CloudflareClient) -> str:
    store = await client.create_store(ACCOUNT, "main")
    await client.create_secret(
        ACCOUNT,
        store.id,
        name="API_KEY",
        value="v1",
        scopes=["workers", "ai_gateway"],
        comment=format_comment("the api key", FP),
    )
    await client.create_secret(
        ACCOUNT, store.id, name="HANDMADE", value="v2", scopes=["workers"], comment="by hand"
    )
    await client.upload_script(ACCOUNT, "api", build_upload(_api_worker(), {"main": store.id}, []))
    legacy = build_upload(_legacy_worker(), {}, [])
    # An unmanaged worker: uploaded without our tag, as someone else would.
    legacy.metadata["tags"] = []
    await client.upload_script(ACCOUNT, "legacy", legacy)
    # A worker secret set out of band (wrangler secret put) must not show up as a binding.
    await client._call(
        "PUT",
        f"/accounts/{ACCOUNT}/workers/scripts/api/secrets",
        json={"name": "OOB", "text": "x", "type": "secret_text"},
    )
    return store.id


def _read(emu: Emulator, cache: Path | None = None) -> tuple[State, int]:
    async def run() -> tuple[State, int]:
        async with emu.client(cache_dir=cache) as client:
            state = await read_live(client, ACCOUNT, max_stores=None)
            return state, client.request_count

    return asyncio.run(run())


def _setup(emu: Emulator) -> str:
    async def run() -> str:
        async with emu.client() as client:
            return await _populate(client)

    return asyncio.run(run())


def test_read_live_builds_the_shared_model(emu: Emulator) -> None:
    store_id = _setup(emu)
    state, _ = _read(emu)
    assert state.account_id == ACCOUNT
    assert state.max_stores == 1
    assert state.secret_quota == 100  # the emulator default account's quota
    assert state.stores["main"].id == store_id
    key = state.secrets[("main", "API_KEY")]
    assert key.scopes == frozenset({"workers", "ai_gateway"})
    assert (key.comment, key.managed, key.fingerprint) == ("the api key", True, FP)
    assert key.id
    hand = state.secrets[("main", "HANDMADE")]
    assert (hand.comment, hand.managed, hand.fingerprint) == ("by hand", False, None)

    api = state.workers["api"]
    assert api.format == "module" and api.managed
    assert api.script_digest == script_digest((MODULE_MAIN, MODULE_UTIL))
    assert api.compatibility_date == "2025-01-01"
    assert api.compatibility_flags == ("nodejs_compat",)
    by_name = {b.name: b for b in api.bindings}
    assert set(by_name) == {"KEY", "GREETING"}  # OOB (secret_text) is left out
    assert by_name["KEY"] == Binding(
        "KEY", "secrets_store_secret", {"store": "main", "secret": "API_KEY"}
    )
    assert by_name["GREETING"].params == {"text": "hello"}
    # Bindings compare by store name: the desired binding equals the live one.
    assert sorted(_api_worker().bindings, key=lambda b: b.name) == list(api.bindings)
    assert api.etag and api.modified_on

    legacy = state.workers["legacy"]
    assert legacy.format == "classic" and not legacy.managed
    assert legacy.script_digest == script_digest([CLASSIC])


def test_max_stores_argument(emu: Emulator) -> None:
    async def run() -> State:
        async with emu.client() as client:
            return await read_live(client, ACCOUNT, max_stores=3)

    assert asyncio.run(run()).max_stores == 3


def test_cache_skips_unchanged_workers_and_rereads_changed_ones(
    emu: Emulator, cache_dir: Path
) -> None:
    _setup(emu)
    cold, cold_calls = _read(emu, cache_dir)
    (written,) = cache_dir.iterdir()
    content = written.read_bytes()
    written.touch()  # a warm read that learnt nothing new leaves the file as it is
    touched = written.stat().st_mtime_ns
    asyncio.run(emu.clear_requests())
    warm, warm_calls = _read(emu, cache_dir)
    log = asyncio.run(emu.requests())
    assert list(cache_dir.iterdir()) == [written]
    assert (written.stat().st_mtime_ns, written.read_bytes()) == (touched, content)
    assert warm.workers == cold.workers and warm.secrets == cold.secrets
    assert not [r for r in log if "/workers/scripts/" in r["path"]]
    assert warm_calls <= 5 < cold_calls

    files = list(cache_dir.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700

    # Out-of-band change: someone re-uploads `legacy` with new code.
    new_code = Module(
        "worker.js", b"addEventListener('fetch', e => e.respondWith(new Response('new')))"
    )

    async def change() -> None:
        async with emu.client() as client:
            changed = Worker(name="legacy", format="classic", script_digest="", modules=(new_code,))
            await client.upload_script(ACCOUNT, "legacy", build_upload(changed, {}, []))

    asyncio.run(change())
    asyncio.run(emu.clear_requests())
    after, _ = _read(emu, cache_dir)
    per_script = sorted(
        r["path"] for r in asyncio.run(emu.requests()) if "/workers/scripts/" in r["path"]
    )
    assert per_script == [
        f"/client/v4/accounts/{ACCOUNT}/workers/scripts/legacy/content/v2",
        f"/client/v4/accounts/{ACCOUNT}/workers/scripts/legacy/settings",
    ]
    assert after.workers["legacy"].script_digest == script_digest([new_code])
    assert after.workers["legacy"].managed  # build_upload tagged it
    assert after.workers["api"] == cold.workers["api"]


def test_no_cache_dir_means_no_files(emu: Emulator, tmp_path: Path) -> None:
    _setup(emu)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        _read(emu, None)
    finally:
        os.chdir(cwd)
    assert list(tmp_path.iterdir()) == []


def test_upload_round_trip_module_and_classic(emu: Emulator) -> None:
    async def run() -> tuple[list[Module], list[Module], dict[str, bool | None]]:
        async with emu.client() as client:
            store = await client.create_store(ACCOUNT, "main")
            await client.create_secret(
                ACCOUNT, store.id, name="API_KEY", value="v", scopes=["workers"], comment=None
            )
            await client.upload_script(
                ACCOUNT, "api", build_upload(_api_worker(), {"main": store.id}, [])
            )
            await client.upload_script(ACCOUNT, "legacy", build_upload(_legacy_worker(), {}, []))
            api = await client.get_script_content(ACCOUNT, "api")
            legacy = await client.get_script_content(ACCOUNT, "legacy")
            listed = {s.id: s.has_modules for s in await client.list_scripts(ACCOUNT)}
            settings = await client.get_script_settings(ACCOUNT, "api")
            assert {
                "name": "KEY",
                "type": "secrets_store_secret",
                "store_id": store.id,
                "secret_name": "API_KEY",
            } in settings.bindings
            assert WORKER_TAG in (settings.tags or [])
            return api, legacy, listed

    api, legacy, listed = asyncio.run(run())
    assert api[0].content == MODULE_MAIN.content
    assert {m.name: m.content for m in api} == {
        "index.js": MODULE_MAIN.content,
        "util.js": MODULE_UTIL.content,
    }
    assert [m.content for m in legacy] == [CLASSIC.content]
    assert listed == {"api": True, "legacy": False}


def test_delete_is_idempotent(emu: Emulator) -> None:
    async def run() -> None:
        async with emu.client() as client:
            store = await client.create_store(ACCOUNT, "main")
            secret = await client.create_secret(
                ACCOUNT, store.id, name="K", value="v", scopes=["workers"], comment=None
            )
            await client.upload_script(ACCOUNT, "legacy", build_upload(_legacy_worker(), {}, []))
            for _ in range(2):
                await client.delete_secret(ACCOUNT, store.id, secret.id)
                await client.delete_script(ACCOUNT, "legacy")
            assert await client.list_scripts(ACCOUNT) == []
            await client.delete_store(ACCOUNT, store.id, force=True)
            await client.delete_store(ACCOUNT, store.id, force=True)
            assert await client.list_stores(ACCOUNT) == []

    asyncio.run(run())


def test_served_over_real_http() -> None:
    with served() as emu:
        assert emu.base_url.startswith("http://127.0.0.1:")
        _setup(emu)
        state, _ = _read(emu)
        assert set(state.workers) == {"api", "legacy"}
        assert state.workers["api"].script_digest == script_digest((MODULE_MAIN, MODULE_UTIL))
        assert len(state.secrets) == 2


def test_corrupt_cache_is_ignored(emu: Emulator, cache_dir: Path) -> None:
    _setup(emu)
    cold, _ = _read(emu, cache_dir)
    (cache_file,) = cache_dir.iterdir()
    cache_file.write_text('{"version": 1, "account_id": "x", "scripts": ', encoding="utf-8")
    again, calls = _read(emu, cache_dir)
    assert again.workers == cold.workers
    assert calls >= 4 + 2 * len(cold.workers)
