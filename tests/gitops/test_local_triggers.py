"""`--local` serves the zones the manifests' routes and custom domains name, so triggers can
be tried without an account: apply, then the plan is empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

from .conftest import _CLEARED

MANIFEST = """
workers:
  - name: api
    script: api.js
    crons: ["*/5 * * * *"]
    routes: [{pattern: "api.example.com/*", zone: example.com}]
    domains: [{hostname: shop.example.org, zone: example.org}]
    workers_dev: true
"""


def test_routes_and_domains_apply_and_converge_under_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "api.js").write_text("export default { fetch() {} }\n")
    (tmp_path / "m" / "m.yaml").write_text(MANIFEST)
    applied = CliRunner().invoke(cli, ["apply", "--local", "m", "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "create worker_route api: api.example.com/*" in applied.output
    assert "create worker_domain api: shop.example.org" in applied.output
    # A new run builds the emulator again: the zones get the same ids, the routes are found.
    again = CliRunner().invoke(cli, ["plan", "--local", "m", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
