"""How flags become the client's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.workflow import Connection


def test_timeout_flag_sets_read_and_write_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    config = Connection(timeout_s=5.0).client_config()
    assert (config.timeouts.read, config.timeouts.write) == (5.0, 5.0)
    assert Connection().client_config().timeouts.read == 60.0


def test_store_limit_from_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_MAX_STORES", "4")
    assert Connection().store_limit() == 4
    assert Connection(max_stores=2).store_limit() == 2
    monkeypatch.setenv("RECONCILER_MAX_STORES", "many")
    with pytest.raises(ConfigError, match="RECONCILER_MAX_STORES must be a whole number"):
        Connection().store_limit()
