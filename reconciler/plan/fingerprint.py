"""Keyed fingerprints of secret values: how a plan sees a value change without storing the value.

Apply writes the fingerprint into the secret's comment marker
(``reconciler.markers.format_comment``); the plan recomputes it from the manifest's
value and compares. Without the key nobody can test guesses against a fingerprint.

A plan's value pins (`value_pin`) are the same HMAC in a domain of their own, over a
random salt the plan carries: a saved plan can say which values it was made with, and a
plan file tells a reader without the key nothing, not even whether two plans saw the
same value or whether a pin matches a fingerprint in the account.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping

from reconciler.markers import format_comment

KEY_ENV = "RECONCILER_FINGERPRINT_KEY"
FINGERPRINT_HEX_CHARS = 32
# Worker secret records share a 1000-byte annotation: 64 bits each, still keyed.
WORKER_SECRET_HEX_CHARS = 16
_DOMAIN = b"reconciler-secret-fingerprint-v1"
_PIN_DOMAIN = "reconciler-plan-value-pin-v1"
PIN_SALT_HEX_CHARS = 32
PIN_HEX_CHARS = 64


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


def new_pin_salt() -> str:
    return secrets.token_hex(PIN_SALT_HEX_CHARS // 2)


def value_pin(key: bytes, salt: str, kind: str, where: str, name: str, value: str) -> str:
    """HMAC-SHA256 over (pin domain, salt, kind, store or worker, name, value), all 256 bits.

    The extra leading parts keep it apart from every fingerprint (the encoding is
    length-prefixed, so inputs with a different number of parts never meet).
    """
    parts = (_PIN_DOMAIN, salt, kind, where, name, value)
    return hmac.new(key, _encode(parts), hashlib.sha256).hexdigest()


def pins_match(expected: str, actual: str) -> bool:
    """Constant time: the file's side is hostile and must not learn a pin byte by byte."""
    return hmac.compare_digest(expected.encode("utf-8"), actual.encode("utf-8"))


def load_key(env: Mapping[str, str] | None = None) -> bytes | None:
    """The fingerprint key from the environment; None when unset or empty."""
    source = os.environ if env is None else env
    raw = source.get(KEY_ENV, "")
    return raw.encode("utf-8") if raw else None


def marked_comment(key: bytes | None, store: str, name: str, user_comment: str, value: str) -> str:
    """The comment apply writes: the user's text, then our marker with the fingerprint if keyed."""
    fp = fingerprint(key, store, name, value) if key else None
    return format_comment(user_comment, fp)
