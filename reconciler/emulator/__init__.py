"""Local emulator of the Cloudflare v4 API for accounts, Workers scripts and Secrets Store."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_ACCOUNT_NAME,
    DEFAULT_TOKEN,
    EmulatorConfig,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_ACCOUNT_NAME",
    "DEFAULT_TOKEN",
    "EmulatorConfig",
    "create_app",
]


def __getattr__(name: str) -> Any:
    # The app (Starlette, sqlite3) loads on first use: every CLI run imports the config
    # (--local's defaults), few serve the emulator.
    if name == "create_app":
        from reconciler.emulator.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
