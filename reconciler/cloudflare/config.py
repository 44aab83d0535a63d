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


@dataclass(frozen=True)
class Timeouts:
    """Explicit httpx timeouts (seconds); no call may hang forever."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class Backoff:
    """Jittered exponential backoff: base * 2**attempt, capped, times a factor in [0.5, 1]."""

    base_s: float = 0.5
    cap_s: float = 30.0
    # Longest single wait a Retry-After can impose (Cloudflare blocks for 5 minutes).
    max_retry_after_s: float = 300.0


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

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError(f"no API token: set {TOKEN_VAR} to a Cloudflare API token")
        check_base_url(self.base_url)
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
                "with Workers Scripts and Secrets Store permissions"
            )
        return cls(
            token=token,
            base_url=(base_url or source.get(BASE_URL_VAR) or DEFAULT_BASE_URL).rstrip("/"),
            concurrency=concurrency if concurrency is not None else 8,
            rate_limit=rate_limit if rate_limit is not None else 1200,
            cache_dir=None if no_cache else (cache_dir or DEFAULT_CACHE_DIR),
        )


def check_base_url(url: str) -> None:
    """https anywhere; plain http only to a loopback host (a local emulator)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    if parts.scheme == "http" and parts.hostname:
        raise ConfigError(
            f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted; "
            f"use https://, or http:// only with 127.0.0.1, ::1 or localhost "
            f"(set {BASE_URL_VAR} or --api-base-url)"
        )
    raise ConfigError(
        f"invalid API base URL {url!r}: expected e.g. {DEFAULT_BASE_URL} "
        f"(set {BASE_URL_VAR} or --api-base-url)"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
