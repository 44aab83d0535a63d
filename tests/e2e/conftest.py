"""End-to-end helpers: a served emulator, a project directory, the CLI run against both."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig
from reconciler.emulator.server import EmulatorServer
from tests.checkout import LOCAL_STATE

REPO = Path(__file__).resolve().parents[2]
FINGERPRINT_KEY = "e2e-fingerprint-key"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Env:
    """A served emulator plus a project directory (the cwd) holding a copy of manifests/."""

    server: EmulatorServer
    root: Path

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        base: dict[str, str | None] = {
            "CLOUDFLARE_API_TOKEN": DEFAULT_TOKEN,
            "CLOUDFLARE_API_BASE_URL": self.server.base_url,
            "CLOUDFLARE_ACCOUNT_ID": None,
            "RECONCILER_FINGERPRINT_KEY": FINGERPRINT_KEY,
            "RECONCILER_MAX_STORES": None,
        }
        return CliRunner().invoke(cli, list(args), env={**base, **(env or {})})

    def inspect(self, what: str) -> Any:
        return httpx.get(f"{self.server.root_url}/__emulator/{what}").json()

    def clear_log(self) -> None:
        httpx.delete(f"{self.server.root_url}/__emulator/requests")

    def writes(self) -> list[tuple[str, str]]:
        prefix = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}"
        return [
            (r["method"], r["path"].removeprefix(prefix))
            for r in self.inspect("requests")
            if r["method"] in WRITES
        ]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.server.base_url}/accounts/{DEFAULT_ACCOUNT_ID}",
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        )

    def seed_secret(self, store_id: str, name: str, value: str = "x") -> None:
        """A secret made by hand (no reconciler marker)."""
        with self.api() as api:
            api.post(
                f"/secrets_store/stores/{store_id}/secrets",
                json=[{"name": name, "value": value, "scopes": ["workers"], "comment": "by hand"}],
            ).raise_for_status()

    def seed_worker(self, name: str) -> None:
        """A classic worker uploaded by hand (no reconciler tag)."""
        metadata = json.dumps({"body_part": "script"})
        code = b"addEventListener('fetch', () => {})"
        with self.api() as api:
            api.put(
                f"/workers/scripts/{name}",
                files={
                    "metadata": (None, metadata, "application/json"),
                    "script": ("script", code, "application/javascript"),
                },
            ).raise_for_status()

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, (old, relative)
        path.write_text(text.replace(old, new))


def start_env(config: EmulatorConfig, root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    shutil.copytree(REPO / "manifests", root / "manifests", ignore=LOCAL_STATE)
    monkeypatch.chdir(root)
    with EmulatorServer(config=config) as server:
        yield Env(server, root)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    yield from start_env(EmulatorConfig(), tmp_path, monkeypatch)
