"""Tokens and URLs are checked before any request: one sentence, never the value.

A token with a newline used to be retried four times and reported as a network
error; a URL with user:password@ replaced the Bearer token with Basic auth and was
echoed whole in errors; a port past 65535 ended in a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cloudflare.config import ClientConfig, check_base_url, display_url
from reconciler.errors import ConfigError

from ..hostile import HostileServer, Seen, envelope, run_capped
from .test_hostile_server import cli_env

GOOD = "tok-GOOD-123"


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("tok\nSECRETPART", "a control character"),
        ("tok\rSECRETPART", "a control character"),
        ("tok\x00SECRETPART", "a control character"),
        ("tok SECRETPART", "a space or tab"),
        ("tökSECRETPART", "a non-ASCII character"),
        ("tok\u2028SECRETPART", "a non-ASCII character"),
    ],
)
def test_bad_tokens_are_refused_naming_the_variable_never_the_value(token: str, kind: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ClientConfig.from_env({"CLOUDFLARE_API_TOKEN": token})
    message = str(caught.value)
    assert message.startswith(f"CLOUDFLARE_API_TOKEN contains {kind}")
    assert "SECRETPART" not in message and "tok" not in message.split("contains")[0]


def test_surrounding_whitespace_of_a_token_is_still_trimmed() -> None:
    assert ClientConfig.from_env({"CLOUDFLARE_API_TOKEN": f"  {GOOD}\n"}).token == GOOD


def test_cli_newline_token_sends_nothing(tmp_path: Path) -> None:
    def answer(seen: Seen) -> Iterator[bytes]:
        yield envelope([])

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "s.yaml").write_text("stores:\n  - name: main\n")
    with HostileServer(answer) as server:
        code, _out, err, seconds = run_capped(
            ["plan", "m"],
            cwd=str(tmp_path),
            env=cli_env(server, CLOUDFLARE_API_TOKEN="tok-abc\nSECRETPART"),
            memory_bytes=1 << 30,
        )
    assert server.seen == []
    assert code == 1
    assert err.startswith("Error: CLOUDFLARE_API_TOKEN contains a control character")
    assert "SECRETPART" not in err and "network" not in err and "Traceback" not in err
    assert seconds < 30


@pytest.mark.parametrize(
    "url",
    [
        "ftp://user:PASSWORD@host/x",
        "http://user:PASSWORD@127.0.0.1/client/v4",
        "https://user:PASSWORD@api.cloudflare.com/client/v4",
        "https://PASSWORD@api.cloudflare.com/client/v4",
        "http://user:PASSWORD@127.0.0.1:99999/client/v4",
    ],
)
def test_urls_with_credentials_are_refused_without_echo(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ClientConfig(token=GOOD, base_url=url)
    message = str(caught.value)
    assert "PASSWORD" not in message and "host/x" not in message
    assert "user name or password" in message


def stores_manifest(root: Path) -> None:
    (root / "manifests").mkdir()
    (root / "manifests" / "s.yaml").write_text("stores:\n  - name: main\n")


def test_a_url_with_credentials_is_refused_by_the_cli_before_any_request(
    tmp_path: Path,
) -> None:
    stores_manifest(tmp_path)

    def answer(seen: Seen) -> Iterator[bytes]:
        yield envelope([])

    with HostileServer(answer) as server:
        url = server.base_url.replace("http://", "http://user:PASSWORD@")
        code, _out, err, _ = run_capped(
            ["plan", "--api-base-url", url],
            cwd=str(tmp_path),
            env=cli_env(),
            memory_bytes=1 << 30,
        )
    assert server.seen == []  # Basic auth never replaced the Bearer token on the wire
    assert code == 1 and "Traceback" not in err
    assert "PASSWORD" not in err and "(from --api-base-url)" in err


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/client/v4",
        "http://127.0.0.1:0/client/v4",
        "http://127.0.0.1:port/client/v4",
        "https://api.cloudflare.com:-1/client/v4",
    ],
)
def test_bad_ports_are_one_sentence(url: str) -> None:
    with pytest.raises(ConfigError, match="the port must be a number from 1 to 65535"):
        check_base_url(url, "--api-base-url")


def test_cli_port_99999_is_one_sentence(tmp_path: Path) -> None:
    stores_manifest(tmp_path)
    code, _out, err, _ = run_capped(
        ["plan", "--api-base-url", "http://127.0.0.1:99999/client/v4"],
        cwd=str(tmp_path),
        env=cli_env(),
        memory_bytes=1 << 30,
    )
    assert code == 1
    assert "Traceback" not in err and "ExceptionGroup" not in err and "Overflow" not in err
    assert err.count("\n") == 1 and "port must be a number from 1 to 65535" in err


def test_an_unparseable_url_is_one_sentence() -> None:
    with pytest.raises(ConfigError, match="cannot be parsed as a URL"):
        check_base_url("http://[::1/client/v4", "CLOUDFLARE_API_BASE_URL")


@pytest.mark.parametrize("url", ["http://127.0.0.1/client v4", "https://api.cloudflare.com/\n"])
def test_spaces_and_control_characters_in_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="spaces, control or non-ASCII"):
        check_base_url(url)


def test_display_url_drops_credentials_query_and_fragment() -> None:
    assert display_url("https://u:p@h.example:8443/client/v4?x=1#f") == (
        "https://h.example:8443/client/v4"
    )


def test_no_token_and_no_local_mentions_local() -> None:
    with pytest.raises(ConfigError, match="or pass --local to use the built-in emulator"):
        ClientConfig.from_env({})
