"""Shared by the benchmark scripts and the robustness tests: synthetic manifests, a served
emulator in its own process, and the CLI run as a subprocess.

Everything runs on 127.0.0.1; nothing here writes into the repository.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN

REPO = Path(__file__).resolve().parent.parent
# wrangler as `npm ci --prefix tests/wrangler` installs it (the tests and the side-by-side).
WRANGLER = REPO / "tests" / "wrangler" / "node_modules" / ".bin" / "wrangler"
STORE = "bench-store"
# A fixed, obviously fake key: benchmarks need value-change detection, not secrecy.
FINGERPRINT_KEY = "benchmark-fingerprint-key-not-secret"


def secret_value(i: int, generation: int = 0) -> str:
    return f"bench-value-{i:04d}-gen{generation}"


def worker_script(i: int, size_bytes: int = 0) -> str:
    """An ES module worker; padded with a comment to `size_bytes` when asked."""
    body = (
        "export default {\n"
        f"  async fetch(request, env) {{ return new Response('worker {i}'); }}\n"
        "};\n"
    )
    if size_bytes > len(body):
        line = f"// padding for worker {i} " + "x" * 60 + "\n"
        pad = (size_bytes - len(body)) // len(line) + 1
        body += (line * pad)[: size_bytes - len(body)]
    return body


def write_manifests(
    root: Path,
    *,
    workers: int,
    secrets: int,
    script_bytes: int = 0,
    generation: int = 0,
    rotate: int = 0,
) -> Path:
    """A manifest directory: one store (if any secrets), `secrets` file-backed secrets, `workers`
    workers.

    The first `rotate` secrets get the values of `generation + 1`. Returns the directory.
    """
    root.mkdir(parents=True, exist_ok=True)
    values = root / "values"
    values.mkdir(exist_ok=True)
    scripts = root / "workers"
    scripts.mkdir(exist_ok=True)
    secret_specs = []
    for i in range(secrets):
        gen = generation + 1 if i < rotate else generation
        (values / f"s{i:04d}.txt").write_text(secret_value(i, gen) + "\n", encoding="utf-8")
        secret_specs.append(
            {
                "name": f"SECRET_{i:04d}",
                "store": STORE,
                "value_from": {"file": f"values/s{i:04d}.txt"},
                "scopes": ["workers"],
                "comment": f"benchmark secret {i}",
            }
        )
    worker_specs = []
    for i in range(workers):
        (scripts / f"w{i:04d}.js").write_text(worker_script(i, script_bytes), encoding="utf-8")
        bindings: list[dict[str, Any]] = [{"type": "plain_text", "name": "INDEX", "text": str(i)}]
        if secrets:
            n = i % secrets
            bindings.append(
                {
                    "type": "secrets_store_secret",
                    "name": "KEY",
                    "store": STORE,
                    "secret": f"SECRET_{n:04d}",
                }
            )
        worker_specs.append(
            {
                "name": f"bench-worker-{i:04d}",
                "script": f"workers/w{i:04d}.js",
                "compatibility_date": "2025-01-01",
                "bindings": bindings,
            }
        )
    stores = [{"name": STORE}] if secrets else []
    doc = {"stores": stores, "secrets": secret_specs, "workers": worker_specs}
    (root / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root


def emulator_config(
    *,
    max_secrets: int = 1000,
    latency_ms: int = 0,
    rate_limit: int = 1_000_000,
    rate_window_s: float = 300.0,
    error_rate: float = 0.0,
    seed: int | None = None,
    token: str = DEFAULT_TOKEN,
) -> dict[str, Any]:
    """An emulator config document; the server's rate limit is lifted unless asked for."""
    return {
        "accounts": [{"id": DEFAULT_ACCOUNT_ID, "max_stores": 1, "max_secrets": max_secrets}],
        "tokens": [{"token": token, "accounts": [DEFAULT_ACCOUNT_ID]}],
        "latency_ms": latency_ms,
        "faults": {
            "error_rate": error_rate,
            "seed": seed,
            "rate_limit": {"requests": rate_limit, "window_s": rate_window_s},
        },
    }


def bound_port(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> int:
    """The port `emulator serve --port 0` bound, read from its banner's first line.

    Asking the kernel for any port and reading it back, rather than picking a free one and
    passing it, leaves no gap in which a test running in parallel could take the port.
    """
    assert process.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise RuntimeError("the emulator printed no banner in time")
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"the emulator exited early: {err[-2000:]}")
            line += chunk
    found = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/", line)
    if found is None:
        raise RuntimeError(f"unexpected emulator banner: {line!r}")
    return int(found.group(1))


@dataclass
class ServedEmulator:
    """An emulator in its own process (`reconciler emulator serve`), as users run it."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/client/v4"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.root_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/__emulator/requests")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/__emulator/requests")

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/__emulator/state")
        return result

    def set_faults(self, **settings: Any) -> None:
        self._call("PUT", "/__emulator/faults", settings)


@contextmanager
def served_emulator(workdir: Path, config: Mapping[str, Any]) -> Iterator[ServedEmulator]:
    """Start `python -m reconciler emulator serve` on a free loopback port; stop it after."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "emulator.yaml"
    config_path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            str(workdir / "emulator.db"),
            "--config",
            str(config_path),
        ],
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        emu = ServedEmulator(process, bound_port(process))
        _wait_until_up(emu)
        yield emu
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _wait_until_up(emu: ServedEmulator, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if emu.process.poll() is not None:
            err = emu.process.stderr.read().decode() if emu.process.stderr else ""
            raise RuntimeError(f"the emulator exited early: {err[-2000:]}")
        try:
            emu.requests()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not start in time")


def cli_env(emu: ServedEmulator, **extra: str) -> dict[str, str]:
    """The environment of a CLI run against `emu` (no inherited Cloudflare variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RECONCILER_"))}
    env.update(
        CLOUDFLARE_API_TOKEN=DEFAULT_TOKEN,
        CLOUDFLARE_ACCOUNT_ID=DEFAULT_ACCOUNT_ID,
        CLOUDFLARE_API_BASE_URL=emu.base_url,
        RECONCILER_FINGERPRINT_KEY=FINGERPRINT_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class CliRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(
    args: list[str], *, cwd: Path, env: Mapping[str, str], timeout_s: float = 300.0
) -> CliRun:
    """`python -m reconciler ARGS` in `cwd`, timed from start to exit."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    return CliRun(args, proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def api_calls(requests: list[dict[str, Any]]) -> int:
    """Requests to the Cloudflare API (the emulator's own /__emulator endpoints excluded)."""
    return sum(1 for r in requests if str(r.get("path", "")).startswith("/client/v4"))


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table, ready to paste into benchmarks/README.md."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def wrangler_env(base_url: str, home: Path) -> dict[str, str]:
    """wrangler pointed at an emulator: no metrics, no error reports, a private HOME,
    non-interactive (see the API reference, section 8.2)."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLOUDFLARE_API_BASE_URL": base_url,
        "CLOUDFLARE_API_TOKEN": DEFAULT_TOKEN,
        "CLOUDFLARE_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
        "WRANGLER_SEND_METRICS": "false",
        "WRANGLER_SEND_ERROR_REPORTS": "false",
        "NO_COLOR": "1",
        "CI": "true",
    }


def run_wrangler(
    args: list[str],
    *,
    cwd: Path,
    base_url: str,
    home: Path | None = None,
    stdin_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """One wrangler command against an emulator, output captured (HOME: `home` or cwd/home)."""
    return subprocess.run(
        [str(WRANGLER), *args],
        cwd=cwd,
        env=wrangler_env(base_url, home or cwd / "home"),
        input=stdin_text,
        stdin=subprocess.DEVNULL if stdin_text is None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )
