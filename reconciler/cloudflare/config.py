"""How to reach the API: token, base URL, account, and the transport knobs.

The token lives only here and in the Authorization header; it is hidden from
repr so that a logged or printed config never shows it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ConfigError

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_CACHE_DIR = Path(".reconciler/cache")
TOKEN_VAR = "CLOUDFLARE_API_TOKEN"
ACCOUNT_VAR = "CLOUDFLARE_ACCOUNT_ID"
BASE_URL_VAR = "CLOUDFLARE_API_BASE_URL"
MAX_WAIT_VAR = "RECONCILER_MAX_WAIT"
BASE_URL_FLAG = "--api-base-url"
MAX_WAIT_FLAG = "--max-wait"
# The largest answer we read: the biggest legitimate one is a script's content (10 MiB).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# Pages of one list: 1,000 pages of 100 secrets is far past any store's limit.
MAX_PAGES = 1_000


@dataclass(frozen=True)
class Timeouts:
    """Explicit timeouts (seconds); no call may hang forever.

    `total` bounds one request whole, connect to last byte: httpx's own timeouts
    are per operation, so a server dripping a byte a second never trips them.
    """

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 30.0
    total: float = 60.0

    @classmethod
    def uniform(cls, seconds: float) -> Timeouts:
        """What `--timeout SECONDS` means: no request, or any part of it, takes longer."""
        return cls(
            connect=min(cls.connect, seconds),
            read=seconds,
            write=seconds,
            pool=cls.pool,
            total=seconds,
        )

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class Backoff:
    """Jittered exponential backoff: base * 2**attempt, capped, times a factor in [0.5, 1]."""

    base_s: float = 0.5
    cap_s: float = 30.0
    # Longest single wait a Retry-After can impose (Cloudflare blocks for 5 minutes).
    max_retry_after_s: float = 300.0
    # Most seconds one run spends waiting before retries, all waits together
    # (--max-wait, RECONCILER_MAX_WAIT): past it the run stops and says so.
    max_total_wait_s: float = 300.0


@dataclass(frozen=True)
class ClientConfig:
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    concurrency: int = 8
    rate_limit: int = 1200
    rate_window_s: float = 300.0
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_retries: int = 4
    backoff: Backoff = field(default_factory=Backoff)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    cache_dir: Path | None = None
    # Where base_url came from, to name it in errors: a flag, a variable, or the default.
    base_url_source: str = "the default"
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_pages: int = MAX_PAGES

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError(f"no API token: set {TOKEN_VAR} to a Cloudflare API token")
        check_token(self.token, TOKEN_VAR)
        check_base_url(self.base_url, self.base_url_source)
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.rate_limit < 1 or self.rate_window_s <= 0:
            raise ConfigError("the rate limit must allow at least 1 request per window")
        if self.max_retries < 0:
            raise ConfigError("max_retries must not be negative")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        base_url: str | None = None,
        concurrency: int | None = None,
        rate_limit: int | None = None,
        no_cache: bool = False,
        cache_dir: Path | None = None,
        max_wait_s: float | None = None,
    ) -> ClientConfig:
        """Environment first, then flags on top (a given flag wins over its variable).

        The account is not part of it: `resolve_account` weighs manifest, flag and
        CLOUDFLARE_ACCOUNT_ID.
        """
        source = os.environ if env is None else env
        token = source.get(TOKEN_VAR, "").strip()
        if not token:
            raise ConfigError(
                f"no API token: set {TOKEN_VAR} to a Cloudflare API token "
                "with Workers Scripts and Secrets Store permissions, "
                "or pass --local to use the built-in emulator"
            )
        if base_url:
            url, url_source = base_url, BASE_URL_FLAG
        elif source.get(BASE_URL_VAR):
            url, url_source = source[BASE_URL_VAR], BASE_URL_VAR
        else:
            url, url_source = DEFAULT_BASE_URL, "the default"
        wait = max_wait_s if max_wait_s is not None else _max_wait_from(source)
        return cls(
            token=token,
            base_url=url.rstrip("/"),
            base_url_source=url_source,
            concurrency=concurrency if concurrency is not None else 8,
            rate_limit=rate_limit if rate_limit is not None else 1200,
            cache_dir=None if no_cache else (cache_dir or DEFAULT_CACHE_DIR),
            backoff=Backoff() if wait is None else Backoff(max_total_wait_s=wait),
        )


def _max_wait_from(source: Mapping[str, str]) -> float | None:
    raw = source.get(MAX_WAIT_VAR, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigError(
            f"{MAX_WAIT_VAR} must be a number of seconds (0 or more), got {raw[:40]!r}"
        )
    return value


def check_token(token: str, name: str) -> None:
    """Printable ASCII only: a header with a newline or a non-ASCII byte cannot be sent.

    Checked before any request, so a bad token is one sentence naming where it came
    from, not four retries and a network error. The value itself is never shown.
    """
    bad = next((c for c in token if not ("!" <= c <= "~")), None)
    if bad is None:
        return
    if bad in " \t":
        what = "a space or tab"
    elif bad.isascii():
        what = "a control character (such as a newline)"
    else:
        what = "a non-ASCII character"
    raise ConfigError(
        f"{name} contains {what}; an API token is printable ASCII only. "
        f"Set {name} to the token exactly as Cloudflare shows it (check for pasted quotes or "
        "line breaks)"
    )


def display_url(url: str) -> str:
    """The URL without user:password@ (never print credentials), for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


def check_base_url(url: str, source: str | None = None) -> None:
    """https anywhere; plain http only to a loopback host (a local emulator).

    Refused, without echoing the URL: credentials in it (httpx would swap our
    Bearer token for Basic auth), a port that is not a number from 1 to 65535,
    control characters or spaces.
    """
    where = _where(source)
    if any(not ("!" <= c <= "~") for c in url):
        raise ConfigError(
            f"invalid API base URL{where}: it contains spaces, control or non-ASCII characters; "
            f"expected e.g. {DEFAULT_BASE_URL}"
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise ConfigError(
            f"invalid API base URL{where}: it cannot be parsed as a URL; "
            f"expected e.g. {DEFAULT_BASE_URL}"
        ) from None
    if "@" in parts.netloc:
        raise ConfigError(
            f"refusing the API base URL{where}: it carries a user name or password "
            "(user:password@host); the API token is the only credential, so remove them "
            f"(expected e.g. {DEFAULT_BASE_URL})"
        )
    shown = display_url(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(
            f"invalid API base URL {shown!r}{where}: the port must be a number from 1 to 65535"
        )
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    if parts.scheme == "http" and parts.hostname:
        raise ConfigError(
            f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted; "
            f"use https://, or http:// only with 127.0.0.1, ::1 or localhost "
            f"(set {BASE_URL_VAR} or {BASE_URL_FLAG})"
        )
    raise ConfigError(
        f"invalid API base URL {shown!r}{where}: expected e.g. {DEFAULT_BASE_URL} "
        f"(set {BASE_URL_VAR} or {BASE_URL_FLAG})"
    )


def _where(source: str | None) -> str:
    return f" (from {source})" if source and source != "the default" else ""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
