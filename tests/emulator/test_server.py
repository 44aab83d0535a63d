"""Serving: persistence across restarts, private db files, the `serve` banner, in-process mode."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer, serve
from reconciler.errors import ConfigError
from tests.emulator.conftest import MODULE_JS

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
A = f"/accounts/{DEFAULT_ACCOUNT_ID}"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with EmulatorServer(db_path=str(db)) as srv, httpx.Client(
        base_url=srv.base_url, headers=AUTH
    ) as c:  # fmt: skip
        sid = c.post(f"{A}/secrets_store/stores", json={"name": "keep"}).json()["result"]["id"]
        c.post(f"{A}/secrets_store/stores/{sid}/secrets",
               json=[{"name": "K", "value": "canary-plaintext-4711", "scopes": ["workers"]}])  # fmt: skip
        files = [("files", ("index.js", MODULE_JS, "application/javascript+module")),
                 ("metadata", ("", b'{"main_module":"index.js"}', "application/json"))]  # fmt: skip
        etag = c.put(f"{A}/workers/scripts/keep", files=files).json()["result"]["etag"]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with EmulatorServer(db_path=str(db)) as srv, httpx.Client(
        base_url=srv.base_url, headers=AUTH
    ) as c:  # fmt: skip
        assert [s["id"] for s in c.get(f"{A}/secrets_store/stores").json()["result"]] == [sid]
        names = [
            s["name"] for s in c.get(f"{A}/secrets_store/stores/{sid}/secrets").json()["result"]
        ]
        assert names == ["K"]
        (script,) = c.get(f"{A}/workers/scripts").json()["result"]
        assert script["etag"] == etag
        assert c.get(f"{A}/workers/scripts/keep").content == MODULE_JS
    # No plaintext value on disk.
    assert b"canary-plaintext-4711" not in db.read_bytes()


def test_in_memory_by_default_is_fresh_each_time() -> None:
    for _ in range(2):
        with EmulatorServer() as srv:
            r = httpx.post(srv.base_url + f"{A}/secrets_store/stores", json={"name": "x"},
                           headers=AUTH)  # fmt: skip
            assert r.status_code == 200  # a second store would be 1003


def test_in_process_asgi_transport_without_lifespan() -> None:
    async def go() -> list[int]:
        app = create_app()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://emulator.local/client/v4", headers=AUTH
        ) as c:
            results = await asyncio.gather(
                *[c.post(f"{A}/secrets_store/stores", json={"name": f"s{i}"}) for i in range(5)]
            )
            return sorted(r.status_code for r in results)

    # Concurrent creates against a one-store account: exactly one wins.
    assert asyncio.run(go()) == [200, 400, 400, 400, 400]


def test_serve_prints_banner_and_answers(tmp_path: Path) -> None:
    cfg = tmp_path / "emu.yaml"
    cfg.write_text(
        f"accounts:\n  - {{id: {'a' * 32}, name: Acme, max_stores: 2}}\n"
        f"tokens:\n  - token: acme-token\n    accounts: ['{'a' * 32}']\n"
    )
    with EmulatorServer() as probe:
        port = probe.port  # a free port, released when the probe stops
    code = (
        "from reconciler.emulator.server import serve; "
        f"serve('127.0.0.1', {port}, {str(tmp_path / 'x.db')!r}, {str(cfg)!r})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(4)]
        assert banner[0].strip().endswith(f"http://127.0.0.1:{port}/client/v4")
        assert any("a" * 32 in line for line in banner)
        assert any("acme-token" in line for line in banner)
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/client/v4/accounts",
                              headers={"Authorization": "Bearer acme-token"})  # fmt: skip
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve() did not start"
                time.sleep(0.05)
        assert [a["name"] for a in r.json()["result"]] == ["Acme"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_unusable_db_and_taken_port_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot create"):
        create_app(db_path=str(tmp_path / "missing-dir" / "x.db"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="cannot use"):
        create_app(db_path=str(junk))
    with EmulatorServer() as srv, pytest.raises(ConfigError, match="cannot listen"):
        serve("127.0.0.1", srv.port, None, None)


def test_serve_on_port_0_prints_the_port_it_got() -> None:
    """Issue 26, item 4: `--port 0` printed `listening on http://127.0.0.1:0/client/v4`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        url = first.rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/client/v4"), first
        port = int(url.removeprefix("http://127.0.0.1:").removesuffix("/client/v4"))
        assert port != 0
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.get(f"{url}/accounts", headers=AUTH)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the printed port does not answer"
                time.sleep(0.05)
        assert answer.json()["result"][0]["id"] == DEFAULT_ACCOUNT_ID
    finally:
        proc.terminate()
        proc.wait(timeout=10)
