"""The emulator's HTTP edge under hostile requests: huge bodies, junk tokens, a foreign
Host (DNS rebinding), a 5,000-character boundary, JSON nested 100,000 deep, a
non-database `--db`, and a client that hangs up mid-request.

Memory is measured on a real `emulator serve` process whose address space is capped
(RLIMIT_AS) and whose peak resident size (VmHWM) is read from /proc.
"""

from __future__ import annotations

import json
import os
import resource
import select
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from benchmarks._common import bound_port
from reconciler.emulator.config import DEFAULT_TOKEN
from reconciler.emulator.db import Database
from reconciler.emulator.edge import host_of, is_loopback
from reconciler.emulator.server import EmulatorServer
from reconciler.errors import ConfigError

from .conftest import AUTH, A, in_process

MiB = 1024 * 1024
CAP = 1024 * MiB


@pytest.fixture
def capped_serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`reconciler emulator serve` in its own process, address space capped at 1 GiB."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=cap,
    )
    port = bound_port(proc)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
    yield proc, port
    proc.terminate()
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _send_huge(port: int, head: str, total: int, chunked: bool = False) -> bytes:
    """Send `head` then up to `total` body bytes; return whatever the server answered."""
    chunk = b"x" * MiB
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode())
        sent = 0
        try:
            while sent < total:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                sent += len(chunk)
                if select.select([s], [], [], 0)[0]:
                    break  # the server answered (or hung up) before the end of the body
        except OSError:
            pass  # the server stopped reading and hung up: expected
        answer = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        return answer


def _get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, object]]:
    host = host or f"127.0.0.1:{port}"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request.encode())
        raw = b""
        while data := s.recv(65536):
            raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else {}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    "target",
    [f"PUT {A}/workers/scripts/big", "PUT /__emulator/faults"],
    ids=["api", "faults"],
)
def test_a_1_5_gb_body_is_refused_while_streaming(
    capped_serve: tuple[subprocess.Popen[bytes], int], target: str, chunked: bool
) -> None:
    proc, port = capped_serve
    total = 1536 * MiB
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        f"{target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\n"
        f"Content-Type: application/json\r\n{length}\r\n\r\n"
    )
    answer = _send_huge(port, head, total, chunked=chunked)
    assert proc.poll() is None, "the emulator died"
    assert answer.split()[1] == b"413", answer[:200]
    peak = _peak_rss_mib(proc.pid)
    assert peak < 300, f"peak RSS {peak:.0f} MiB"
    status, _ = _get(port, "/__emulator/faults")
    assert status == 200


def test_a_body_is_read_only_after_authentication() -> None:
    with in_process() as c:

        async def body() -> AsyncIterator[bytes]:
            yield b"x" * MiB
            raise AssertionError("the body was read for an unauthenticated request")

        r = c.request("PUT", f"{A}/workers/scripts/w", content=body())
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == 9106


def test_past_10_mib_in_process_is_413_without_reading_the_rest() -> None:
    sent = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(1024):  # 1 GiB if it were all read
            sent.append(1)
            yield b"x" * MiB

    with in_process() as c:
        r = c.request(
            "PUT",
            f"{A}/workers/scripts/w",
            content=body(),
            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
        )
    assert r.status_code == 413 and r.json()["errors"][0]["code"] == 10027
    assert len(sent) <= 12


def test_junk_authorization_headers_add_no_rate_limit_state() -> None:
    with in_process() as c:
        emu = c.app.state.emulator
        for i in range(2000):
            c.get(f"{A}/workers/scripts", headers={"Authorization": f"Bearer junk-{i}"})
        c.get(f"{A}/workers/scripts", headers=AUTH)
        c.get(f"{A}/workers/scripts", headers={"Authorization": f"junk {'x' * 1000}"})
        assert len(emu.faults.windows) <= 2  # the real token, and one shared bucket


def test_a_configured_token_still_has_its_own_window() -> None:
    with in_process() as c:
        c.request("PUT", "/__emulator/faults", json={"rate_limit": {"requests": 2, "window_s": 60}})
        for i in range(5):
            c.get(f"{A}/workers/scripts", headers={"Authorization": f"Bearer junk-{i}"})
        r = c.get(f"{A}/workers/scripts", headers=AUTH)
        assert r.status_code == 200  # junk spent the shared bucket, not the token's


# --- Host: loopback only when bound to loopback ------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1:8787", True),
        ("localhost:8787", True),
        ("LOCALHOST", True),
        ("[::1]:8787", True),
        ("127.5.6.7", True),
        ("evil.example:8787", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example", False),
        ("[::ffff:8.8.8.8]:80", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, ok: bool) -> None:
    assert is_loopback(host_of(host)) is ok


def test_a_foreign_host_is_refused_on_the_api_and_the_control_endpoints() -> None:
    with EmulatorServer() as srv:
        for path in ("/__emulator/state", "/__emulator/faults", f"{A}/workers/scripts"):
            status, body = _get(srv.port, path, host="rebound.example")
            assert status == 403, path
            assert body["success"] is False
            assert "Host header is not a loopback name" in json.dumps(body)
            assert _get(srv.port, path)[0] == 200
            assert _get(srv.port, path, host=f"localhost:{srv.port}")[0] == 200
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            body_bytes = b'{"error_rate": 1.0}'
            s.sendall(
                b"PUT /__emulator/faults HTTP/1.1\r\nHost: rebound.example\r\n"
                b"Content-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body_bytes), body_bytes)
            )
            assert s.recv(100).split()[1] == b"403"
        assert srv.app.state.emulator.faults.settings.error_rate == 0.0


def test_in_process_and_non_loopback_binds_do_not_check_host() -> None:
    with in_process() as c:  # Host: emulator.local
        assert c.get("/__emulator/state").status_code == 200


# --- malformed requests answer 400 with the envelope -------------------------------------


def test_a_5000_character_boundary_is_400() -> None:
    with in_process() as c:
        r = c.request(
            "PUT",
            f"{A}/workers/scripts/w",
            content=b"--" + b"b" * 5000 + b"\r\n",
            headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={'b' * 5000}"},
        )
    assert r.status_code == 400
    assert r.json()["success"] is False and r.json()["errors"][0]["code"] == 10006


@pytest.mark.parametrize(
    "path", [f"{A}/secrets_store/stores", "/__emulator/faults"], ids=["api", "faults"]
)
def test_json_nested_deep_is_400(path: str) -> None:
    depth = 100_000 if "stores" in path else 30_000  # the control endpoint takes 64 KiB
    deep = b"[" * depth + b"]" * depth
    with in_process() as c:
        r = c.request(
            "POST" if "stores" in path else "PUT",
            path,
            content=deep,
            headers={**AUTH, "Content-Type": "application/json"},
        )
    assert r.status_code == 400, r.text


def test_metadata_nested_100000_deep_is_400() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    body = (
        b'--b\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n' + deep + b"\r\n--b--\r\n"
    )
    with in_process() as c:
        r = c.request(
            "PUT",
            f"{A}/workers/scripts/w",
            content=body,
            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
        )
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False


# --- --db refuses an ordinary file without touching it -----------------------------------


def test_db_notes_txt_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    notes.chmod(0o644)
    with pytest.raises(ConfigError, match="not a SQLite database"):
        Database(str(notes))
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644
    assert notes.read_text() == "my notes\n"


def test_cli_db_notes_txt(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    notes.chmod(0o664)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            "notes.txt",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "not a SQLite database" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert stat.S_IMODE(notes.stat().st_mode) == 0o664


def test_a_new_or_existing_database_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    Database(str(path)).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    Database(str(path)).close()  # an emulator database: reused, and made private again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        Database(str(fifo))


# --- a client that hangs up is not a server error ----------------------------------------


def test_requests_cancelled_by_the_client_are_not_logged_as_500() -> None:
    with EmulatorServer() as srv:
        srv.app.state.emulator.faults.apply(
            type(srv.app.state.emulator.faults.settings)(latency_ms=800)
        )
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.sendall(
                f"GET {A}/workers/scripts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {DEFAULT_TOKEN}\r\n\r\n".encode()
            )
            s.close()  # what a Ctrl-C does to the client's connections
        deadline = time.monotonic() + 30
        log = srv.app.state.emulator.log
        while len(log) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = [entry["status"] for entry in list(log)]
    assert len(statuses) == 3
    assert 500 not in statuses
    assert set(statuses) <= {499, 200}


# --- the config file is read like a manifest: bounded, typed, no hang ------------------


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: os.mkfifo(p), "FIFO"),
        (lambda p: p.write_bytes(b"latency_ms: 1\n" + b"#" * (2 * MiB)), "larger than 1 MiB"),
        (lambda p: p.write_bytes(b"latency_ms: \xff\n"), "not UTF-8"),
        (lambda p: p.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n"), "nested too deep"),
        (
            lambda p: p.write_text(
                'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
                + "".join(
                    f"{n}: &{n} [" + ",".join([f"*{prev}"] * 10) + "]\n"
                    for prev, n in zip("abcdefgh", "bcdefghi", strict=True)
                )
            ),
            "alias",
        ),
    ],
    ids=["fifo", "huge", "bad-utf8", "deep", "alias-bomb"],
)
def test_hostile_config_files_are_one_sentence(tmp_path: Path, make: object, needle: str) -> None:
    from reconciler.emulator.config import EmulatorConfig

    path = tmp_path / "emulator.yaml"
    make(path)  # type: ignore[operator]
    start = time.monotonic()
    with pytest.raises(ConfigError, match=needle):
        EmulatorConfig.load(path)
    assert time.monotonic() - start < 20


def test_long_request_lines_are_clipped_in_the_request_log() -> None:
    with in_process() as c:
        c.get(f"{A}/workers/scripts?x={'q' * 60_000}", headers=AUTH)
        c.get(f"{A}/workers/scripts/{'w' * 60_000}", headers=AUTH)
        log = c.get("/__emulator/requests").json()
    assert len(log[0]["query"]) == 1024 and log[0]["query"].endswith("…")
    assert len(log[1]["path"]) == 1024
