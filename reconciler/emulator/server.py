"""Serving the emulator with uvicorn: in a background thread (tests) or blocking (CLI)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

import uvicorn
from starlette.applications import Starlette

from reconciler.emulator.app import API_PREFIX, create_app
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.edge import is_loopback
from reconciler.errors import ConfigError

_START_TIMEOUT_S = 10.0


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _listen(host: str, port: int) -> socket.socket:
    """The bound socket serve() hands to uvicorn: our error, not uvicorn's sys.exit, when the
    address is taken, and the real port when 0 asked for any free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class EmulatorServer:
    """`with EmulatorServer() as srv:` serves on a free 127.0.0.1 port until the block ends."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        db_path: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.db_path = db_path
        self.host = host
        self.port = port or _free_port(host)
        self.app: Starlette = create_app(self.config, db_path, loopback_only=is_loopback(host))
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host=host, port=self.port, log_level="warning", access_log=False,
                lifespan="off",
            )
        )  # fmt: skip
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + API_PREFIX

    def start(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the emulator could not start on {self.root_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_S)
        self.app.state.emulator.db.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def banner(config: EmulatorConfig, base_url: str, db: str | None) -> str:
    """What `emulator serve` prints: where it listens and which accounts and tokens it takes.

    The tokens are the emulator's own local test tokens from its config, not real ones.
    """
    lines = [f"Cloudflare API emulator listening on {base_url}"]
    lines.append(f"state: {db if db else 'in memory (lost on exit)'}")
    for a in config.accounts:
        lines.append(
            f"account: {a.id} ({a.name}, max_stores={a.max_stores}, max_secrets={a.max_secrets})"
        )
    for t in config.tokens:
        lines.append(f"token: {t.token} -> {', '.join(t.accounts)} [{', '.join(t.permissions)}]")
    return "\n".join(lines)


def serve(
    host: str, port: int, db: str | None, config_path: str | None, out: TextIO | None = None
) -> None:
    """Serve until interrupted, printing the banner first (the CLI's `emulator serve`)."""
    config = EmulatorConfig.load(config_path)
    sock = _listen(host, port)
    bound: int = sock.getsockname()[1]
    try:
        app = create_app(config, db, loopback_only=is_loopback(host))
        stream = out or sys.stdout
        shown = f"[{host}]" if ":" in host else host
        stream.write(banner(config, f"http://{shown}:{bound}{API_PREFIX}", db) + "\n")
        stream.flush()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=bound, log_level="warning", access_log=False, lifespan="off"
            )
        )
        server.run(sockets=[sock])
    finally:
        sock.close()
