"""A manifest cannot read reconciler's own credentials (issue 21).

`value_from: {env: CLOUDFLARE_API_TOKEN}` once validated and planned: once merged, the API
token became a secret a Worker could return. Reconciler's own credential variables are refused
as value sources, with file:line, unless `--allow-credential-env NAME` names the variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.credentials import CREDENTIAL_VARS

STORE_SECRET = """\
stores: [{name: s}]
secrets:
  - store: s
    name: LEAK
    scopes: [workers]
    value_from: {env: %s}
"""

WORKER_SECRET = """\
workers:
  - name: w
    script: w.js
    bindings:
      - {type: secret_text, name: LEAK, value_from: {env: %s}}
"""


def _write(tmp_path: Path, template: str, var: str) -> Path:
    root = tmp_path / "m"
    root.mkdir()
    (root / "w.js").write_text("addEventListener('fetch', () => {})\n")
    (root / "a.yaml").write_text(template % var)
    return root


ENV = {
    "CLOUDFLARE_API_TOKEN": "tok-not-a-real-one",
    "RECONCILER_FINGERPRINT_KEY": "fp-key",
    "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4",
}


@pytest.mark.parametrize("var", ["CLOUDFLARE_API_TOKEN", "RECONCILER_FINGERPRINT_KEY"])
@pytest.mark.parametrize("template", [STORE_SECRET, WORKER_SECRET], ids=["store", "worker"])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_credential_variable_is_refused_with_its_location(
    tmp_path: Path, var: str, template: str, command: str
) -> None:
    root = _write(tmp_path, template, var)
    result = CliRunner().invoke(cli, [command, str(root)], env=ENV)
    assert result.exit_code == 1, result.output
    line = 6 if template is STORE_SECRET else 5
    assert f"a.yaml:{line}:" in result.output, result.output
    assert f"{var} is one of reconciler's own credentials" in result.output
    assert f"--allow-credential-env {var}" in result.output
    assert ENV[var] not in result.output


def test_the_option_naming_the_variable_lets_it_through(tmp_path: Path) -> None:
    root = _write(tmp_path, STORE_SECRET, "RECONCILER_FINGERPRINT_KEY")
    args = ["validate", str(root), "--allow-credential-env", "RECONCILER_FINGERPRINT_KEY"]
    result = CliRunner().invoke(cli, args, env=ENV)
    assert result.exit_code == 0, result.output


def test_the_option_lets_through_only_the_variable_it_names(tmp_path: Path) -> None:
    root = _write(tmp_path, STORE_SECRET, "CLOUDFLARE_API_TOKEN")
    args = ["validate", str(root), "--allow-credential-env", "RECONCILER_FINGERPRINT_KEY"]
    result = CliRunner().invoke(cli, args, env=ENV)
    assert result.exit_code == 1
    assert "CLOUDFLARE_API_TOKEN is one of reconciler's own credentials" in result.output


def test_the_list_names_the_variables_reconciler_reads() -> None:
    from reconciler.cloudflare.config import TOKEN_VAR
    from reconciler.plan.fingerprint import KEY_ENV

    assert {TOKEN_VAR, KEY_ENV} <= CREDENTIAL_VARS
