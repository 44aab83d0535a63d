"""`--local`: the built-in emulator in process, so the quick start needs no account and no setup.

State lives in `.reconciler/local.db`; the token and account are the emulator's
defaults; the fingerprint key is RECONCILER_FINGERPRINT_KEY when set, else a random
key kept in `.reconciler/local-fingerprint.key` (owner-only, never in git).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx

from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig

LOCAL_DIR = Path(".reconciler")
LOCAL_DB = LOCAL_DIR / "local.db"
LOCAL_KEY = LOCAL_DIR / "local-fingerprint.key"
LOCAL_BASE_URL = "http://127.0.0.1/client/v4"
LOCAL_TOKEN = DEFAULT_TOKEN
LOCAL_ACCOUNT_ID = DEFAULT_ACCOUNT_ID


def private_dir(path: Path) -> Path:
    """Create a directory only its owner can enter (cache, local db, key)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def local_transport() -> httpx.AsyncBaseTransport:
    private_dir(LOCAL_DIR)
    return httpx.ASGITransport(app=create_app(EmulatorConfig(), str(LOCAL_DB)))


def local_fingerprint_key() -> bytes:
    if LOCAL_KEY.exists():
        return LOCAL_KEY.read_bytes().strip()
    private_dir(LOCAL_DIR)
    key = secrets.token_hex(32).encode()
    fd = os.open(LOCAL_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key
