"""Fixtures for the GitOps tests: a served emulator and a CLI runner pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FINGERPRINT_KEY = "gitops-test-fingerprint-key-0123456789abcdef"
# Variables a developer's shell might carry that would change what the CLI does.
_CLEARED = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_BASE_URL",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_KEY",
    "RECONCILER_FINGERPRINT_KEY",
    "RECONCILER_MAX_STORES",
)


@dataclass
class Cli:
    """Runs `reconciler ...` in-process against one served emulator."""

    server: EmulatorServer
    env: dict[str, str]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env={**self.env, **(env or {})})

    def plan_file(self, *args: str, env: dict[str, str] | None = None) -> tuple[Result, Any]:
        """`plan ... --out plan.json`: the result and the parsed plan file."""
        out = Path("plan.json")
        result = self(*args, "--out", str(out), env=env)
        doc = json.loads(out.read_text()) if out.exists() else None
        out.unlink(missing_ok=True)
        return result, doc


def accounts_config(*account_ids: str) -> EmulatorConfig:
    """One token that sees every given account."""
    return EmulatorConfig.model_validate({"accounts": [{"id": a} for a in account_ids]})


@pytest.fixture
def make_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[EmulatorConfig | None], Cli]]:
    """Start an emulator (with the config given) and run the CLI with cwd = tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    servers: list[EmulatorServer] = []

    def start(config: EmulatorConfig | None = None) -> Cli:
        server = EmulatorServer(config=config).start()
        servers.append(server)
        env = {
            "CLOUDFLARE_API_TOKEN": DEFAULT_TOKEN,
            "CLOUDFLARE_API_BASE_URL": server.base_url,
            "RECONCILER_FINGERPRINT_KEY": FINGERPRINT_KEY,
        }
        return Cli(server, env)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def served_cli(make_cli: Callable[[EmulatorConfig | None], Cli]) -> Cli:
    """The CLI against an emulator with the default single account."""
    cli_ = make_cli(None)
    cli_.env["CLOUDFLARE_ACCOUNT_ID"] = DEFAULT_ACCOUNT_ID
    return cli_
