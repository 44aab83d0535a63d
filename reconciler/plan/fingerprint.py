"""Keyed fingerprints of secret values: how a plan sees a value change without storing the value.

Apply writes the fingerprint into the secret's comment marker
(``reconciler.markers.format_comment``); the plan recomputes it from the manifest's
value and compares. Without the key nobody can test guesses against a fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from reconciler.markers import format_comment

KEY_ENV = "RECONCILER_FINGERPRINT_KEY"
FINGERPRINT_HEX_CHARS = 32
# Worker secret records share a 1000-byte annotation: 64 bits each, still keyed.
WORKER_SECRET_HEX_CHARS = 16
_DOMAIN = b"reconciler-secret-fingerprint-v1"


def _encode(parts: tuple[str, ...]) -> bytes:
    """Length-prefix every part so ("ab", "c") and ("a", "bc") never collide."""
    out = bytearray(_DOMAIN)
    for part in parts:
        raw = part.encode("utf-8")
        out += len(raw).to_bytes(8, "big") + raw
    return bytes(out)


def fingerprint(key: bytes, store: str, name: str, value: str) -> str:
    """HMAC-SHA256 over (store, name, value), hex, truncated to 128 bits."""
    mac = hmac.new(key, _encode((store, name, value)), hashlib.sha256)
    return mac.hexdigest()[:FINGERPRINT_HEX_CHARS]


def worker_secret_fingerprint(key: bytes, worker: str, name: str, value: str) -> str:
    """The same HMAC over ("worker:<name>", secret, value), shorter to fit the version record.

    Store names cannot hold ':', so a worker secret never shares a store secret's input.
    """
    return fingerprint(key, f"worker:{worker}", name, value)[:WORKER_SECRET_HEX_CHARS]


def load_key(env: Mapping[str, str] | None = None) -> bytes | None:
    """The fingerprint key from the environment; None when unset or empty."""
    source = os.environ if env is None else env
    raw = source.get(KEY_ENV, "")
    return raw.encode("utf-8") if raw else None


def marked_comment(key: bytes | None, store: str, name: str, user_comment: str, value: str) -> str:
    """The comment apply writes: the user's text, then our marker with the fingerprint if keyed."""
    fp = fingerprint(key, store, name, value) if key else None
    return format_comment(user_comment, fp)
