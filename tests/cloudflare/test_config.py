"""Configuration: token, base URL, flags over environment, plain-http refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cloudflare.config import DEFAULT_BASE_URL, DEFAULT_CACHE_DIR, ClientConfig
from reconciler.errors import ConfigError

TOKEN = "tok-very-secret-123"


def test_env_defaults() -> None:
    cfg = ClientConfig.from_env({"CLOUDFLARE_API_TOKEN": TOKEN})
    assert cfg.token == TOKEN
    assert cfg.base_url == DEFAULT_BASE_URL
    assert cfg.concurrency == 8
    assert (cfg.rate_limit, cfg.rate_window_s) == (1200, 300)
    assert cfg.cache_dir == DEFAULT_CACHE_DIR


def test_flags_override_env() -> None:
    env = {
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_ACCOUNT_ID": "a" * 32,
        "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4/",
    }
    cfg = ClientConfig.from_env(env, base_url="http://localhost:8787/client/v4", concurrency=3)
    assert cfg.base_url == "http://localhost:8787/client/v4"
    assert cfg.concurrency == 3
    assert ClientConfig.from_env(env).base_url == "http://127.0.0.1:9/client/v4"


def test_no_cache_and_cache_dir(tmp_path: Path) -> None:
    env = {"CLOUDFLARE_API_TOKEN": TOKEN}
    assert ClientConfig.from_env(env, no_cache=True).cache_dir is None
    assert ClientConfig.from_env(env, cache_dir=tmp_path).cache_dir == tmp_path


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="CLOUDFLARE_API_TOKEN"):
        ClientConfig.from_env({})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8787/client/v4", "http://[::1]:80/x", "http://localhost/x"]
)
def test_plain_http_to_loopback_is_accepted(url: str) -> None:
    assert ClientConfig(token=TOKEN, base_url=url).base_url == url


@pytest.mark.parametrize("url", ["http://api.example.test/client/v4", "http://10.0.0.1/x"])
def test_plain_http_elsewhere_is_refused_with_the_fix(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        ClientConfig(token=TOKEN, base_url=url)
    assert "https://" in str(info.value)
    assert "CLOUDFLARE_API_BASE_URL" in str(info.value)


def test_garbage_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid API base URL"):
        ClientConfig(token=TOKEN, base_url="ftp://x")


def test_repr_hides_token() -> None:
    cfg = ClientConfig(token=TOKEN)
    assert TOKEN not in repr(cfg)
    assert TOKEN not in str(cfg)
