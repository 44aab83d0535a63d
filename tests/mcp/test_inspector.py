"""A second, independent client: the MCP Inspector's command-line mode (npm, pinned in
tests/wrangler/package.json) lists the tools and calls `plan` on `reconciler mcp --local`.

`.ci/run` installs it with `npm ci --prefix tests/wrangler`. Without it the test skips,
except under CI, where a missing Inspector is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.config import DEFAULT_TOKEN
from tests.mcp.conftest import SECRETS, assert_no_secrets, project

INSPECTOR = (
    Path(__file__).resolve().parents[1] / "wrangler" / "node_modules" / ".bin" / "mcp-inspector"
)


@pytest.fixture
def inspector() -> Path:
    if not INSPECTOR.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"the MCP Inspector is not installed at {INSPECTOR} (run npm ci --prefix tests/wrangler)"
            )
        pytest.skip("the MCP Inspector is not installed (npm ci --prefix tests/wrangler)")
    return INSPECTOR


def _inspect(inspector: Path, workspace: Path, *method: str) -> tuple[dict[str, Any], str]:
    home = workspace.parent / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "MCP_CATALOG_PATH": str(home / "catalog.json"),
    }
    server = [sys.executable, "-m", "reconciler", "mcp", "--local", "--workspace", str(workspace)]
    proc = subprocess.run(
        [str(inspector), "--cli", *method, "--", *server],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"inspector {' '.join(method)} failed:\n{proc.stdout}{proc.stderr}"
    return json.loads(proc.stdout), proc.stdout + proc.stderr


def test_inspector_lists_tools_and_calls_plan(inspector: Path, tmp_path: Path) -> None:
    workspace = project(tmp_path / "ws")
    listed, out_list = _inspect(inspector, workspace, "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert set(tools) == {"validate", "plan", "drift", "explain_error", "export"}
    assert tools["plan"]["annotations"]["readOnlyHint"] is True
    assert tools["export"]["annotations"]["destructiveHint"] is True

    called, out_call = _inspect(
        inspector, workspace, "--method", "tools/call", "--tool-name", "plan"
    )
    assert called.get("isError") in (None, False), called
    result = called["structuredContent"]
    assert result["plan"]["version"] == 1
    assert result["plan"]["summary"]["create"] == 5
    assert result["plan_id"].startswith("plan-")
    assert "Plan: 5 to create" in result["text"]
    # --workspace: the embedded emulator keeps its state beside the workspace's manifests.
    assert (workspace / "manifests" / ".reconciler" / "local.db").is_file()
    key = (workspace / "manifests" / ".reconciler" / "local-fingerprint.key").read_text().strip()
    assert_no_secrets([out_list, out_call], *SECRETS, DEFAULT_TOKEN, key)
