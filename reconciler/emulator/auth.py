"""Who may do what: bearer tokens, their accounts and product permissions (field note 7)."""

from __future__ import annotations

import re
from typing import Literal

from reconciler.emulator.config import AccountConfig, EmulatorConfig, TokenConfig
from reconciler.emulator.envelope import ApiFailure

Product = Literal["workers", "secrets_store"]

_READ = {
    "workers": {"Workers Scripts Read", "Workers Scripts Write"},
    "secrets_store": {"Secrets Store Read", "Secrets Store Write", "Secrets Store Edit"},
}
_WRITE = {
    "workers": {"Workers Scripts Write"},
    "secrets_store": {"Secrets Store Write", "Secrets Store Edit"},
}
_ACCOUNT_ID = re.compile(r"^[0-9a-f]{32}$")


def auth_error() -> ApiFailure:
    return ApiFailure(403, 10000, "Authentication error")


def rate_key(authorization: str | None, config: EmulatorConfig) -> str:
    """Whose rate-limit window a request counts in: a configured token, else one shared one.

    Never the raw header: a key per junk header would grow without bound.
    """
    scheme, _, value = (authorization or "").partition(" ")
    token = config.token(value.strip()) if scheme.lower() == "bearer" else None
    return token.token if token is not None else ""


def authenticate(authorization: str | None, config: EmulatorConfig) -> TokenConfig:
    """The token of the request, or the real API's refusal (never echoing the token)."""
    if not authorization:
        raise ApiFailure(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiFailure(
            400,
            6003,
            "Invalid request headers",
            error_chain=[{"code": 6111, "message": "Invalid format for Authorization header"}],
        )
    token = config.token(value.strip())
    if token is None:
        raise ApiFailure(401, 10000, "Authentication error")
    return token


def authorize(
    token: TokenConfig,
    account_id: str,
    product: Product | None,
    write: bool,
    config: EmulatorConfig,
    path: str,
) -> AccountConfig:
    """The account named in the path, if the token may use this product on it."""
    if not _ACCOUNT_ID.match(account_id):
        raise ApiFailure(
            404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?"
        )
    account = config.account(account_id)
    if account is None or account_id not in token.accounts:
        raise auth_error()
    if product is not None:
        allowed = _WRITE[product] if write else _READ[product]
        if not allowed & set(token.permissions):
            raise auth_error()
    return account
