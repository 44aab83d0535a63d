"""Local emulator of the Cloudflare v4 API for accounts, Workers scripts and Secrets Store."""

from reconciler.emulator.app import create_app
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
