"""The config file: defaults, YAML and JSON, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.config import (
    BEHAVIOUR_ENV,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    EmulatorConfig,
)
from reconciler.errors import ConfigError


def test_defaults_one_account_one_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BEHAVIOUR_ENV, raising=False)
    cfg = EmulatorConfig.load(None)
    (acct,) = cfg.accounts
    assert (acct.id, acct.max_stores, acct.max_secrets, acct.type) == (
        DEFAULT_ACCOUNT_ID, 1, 100, "standard",
    )  # fmt: skip
    (tok,) = cfg.tokens
    assert tok.token == DEFAULT_TOKEN and tok.accounts == [DEFAULT_ACCOUNT_ID]
    assert set(tok.permissions) == {"Workers Scripts Write", "Secrets Store Write"}
    assert cfg.behaviour.patch_secret == "reject_value"
    assert cfg.behaviour.list_result_info == "with_total_pages"
    assert cfg.behaviour.pending_secrets.reads == 0 and cfg.behaviour.secret_names == "pattern"


def test_issue_example_yaml_and_json(tmp_path: Path) -> None:
    y = tmp_path / "c.yaml"
    y.write_text(
        "accounts:\n"
        "  - {id: 023e105f4ecef8ad9ca31a8372d0c353, name: Acme, max_stores: 1, max_secrets: 100}\n"
        "tokens:\n"
        "  - token: acme-token\n"
        "    accounts: [023e105f4ecef8ad9ca31a8372d0c353]\n"
        '    permissions: ["Workers Scripts Write", "Secrets Store Write"]\n'
        "behaviour: {patch_secret: reject_value}\n"
        "latency_ms: 0\n"
        "faults: {error_rate: 0.0, rate_limit: {requests: 1200, window_s: 300}}\n"
    )
    cfg = EmulatorConfig.load(y)
    assert cfg.accounts[0].name == "Acme" and cfg.tokens[0].token == "acme-token"
    j = tmp_path / "c.json"
    j.write_text('{"accounts": [{"id": "' + "f" * 32 + '", "type": "enterprise"}]}')
    cfg = EmulatorConfig.load(j)
    assert cfg.accounts[0].type == "enterprise"
    assert cfg.tokens[0].accounts == ["f" * 32]  # default token on the configured accounts


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("accounts: [{id: nothex}]", "accounts.0.id"),
        ("accounts: [{id: " + "1" * 32 + "}]", r"accounts.0.id: .*write it in quotes"),
        ("tokens: [{token: t, accounts: ['" + "e" * 32 + "']}]", "unknown account"),
        ("tokens: [{token: t, permissions: [Everything]}]", "unknown permission"),
        ("behaviour: {patch_secret: maybe}", "behaviour.patch_secret"),
        ("faults: {error_rate: 2}", "faults.error_rate"),
        ("colour: red", "colour"),
        ("- a list", "mapping"),
        ("{unclosed", "not valid YAML"),
    ],
)
def test_invalid_config_is_a_config_error(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        EmulatorConfig.load(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        EmulatorConfig.load(tmp_path / "nope.yaml")
