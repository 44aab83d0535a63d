"""A loopback HTTP server that misbehaves on purpose: drips, floods, stalls, never pages.

Each test starts its own on a free 127.0.0.1 port (a thread per connection) and
says, per request, what bytes to send back. The server records every request line,
so a test can count what the client sent.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    headers: dict[str, str]


# Given the request, yields the raw bytes of the answer (pauses are the handler's own).
Behaviour = Callable[[Seen], Iterable[bytes]]


def envelope(result: Any, status: str = "200 OK", extra: str = "", info: Any = None) -> bytes:
    """A complete v4 answer (headers and body) with Content-Length."""
    doc: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        doc["result_info"] = info
    body = json.dumps(doc).encode()
    return head(status, len(body), extra) + body


def head(status: str, length: int | None, extra: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [h for h in extra.split("\r\n") if h]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class HostileServer:
    behaviour: Behaviour
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/client/v4"

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                raw, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                buffer = buffer[length:]
                seen = Seen(method, target, headers)
                self.seen.append(seen)
                for chunk in self.behaviour(seen):
                    conn.sendall(chunk)
        except OSError:
            return  # the client gave up on us: exactly what the tests want
        finally:
            conn.close()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def endless(chunk: bytes) -> Iterator[bytes]:
    """The same bytes forever (the client must stop reading, not the server)."""
    while True:
        yield chunk


def run_capped(
    args: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    memory_bytes: int,
    timeout_s: float = 60.0,
) -> tuple[int, str, str, float]:
    """`python -m reconciler ARGS` with its address space capped (RLIMIT_AS); timed."""
    import resource
    import subprocess
    import sys
    import time

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        preexec_fn=cap,
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start
