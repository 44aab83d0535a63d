"""`GET /accounts` and the user-level endpoints clients touch (§3, field note 7)."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.config import AccountConfig
from reconciler.emulator.envelope import ApiFailure, Reply, page_window, paged
from reconciler.emulator.routing import Ctx, Route, route

ACCOUNT_CREATED_ON = "2024-01-01T00:00:00.000000Z"


def account_json(a: AccountConfig) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "type": a.type,
        "created_on": ACCOUNT_CREATED_ON,
        "settings": {"enforce_twofactor": False, "abuse_contact_email": None},
    }


def _visible(ctx: Ctx) -> list[AccountConfig]:
    assert ctx.token is not None
    accounts = [a for a in ctx.config.accounts if a.id in ctx.token.accounts]
    name = ctx.query.get("name")
    if name:
        accounts = [a for a in accounts if name.lower() in a.name.lower()]
    if ctx.query.get("direction") == "desc":
        accounts.reverse()
    return accounts


def list_accounts(ctx: Ctx) -> Reply:
    """Paged (per_page 5..50, default 20); past the last page `result` is empty."""
    items = [account_json(a) for a in _visible(ctx)]
    page, per_page = page_window(
        ctx.query.get("page"), ctx.query.get("per_page"), default=20, lo=5, hi=50
    )
    return paged(items, page, per_page, total_pages=False)


def list_memberships(ctx: Ctx) -> Reply:
    """wrangler's account lookup when CLOUDFLARE_ACCOUNT_ID is unset."""
    items = [
        {
            "id": a.id,
            "status": "accepted",
            "account": {"id": a.id, "name": a.name},
            "roles": ["Administrator"],
        }
        for a in _visible(ctx)
    ]
    page, per_page = page_window(
        ctx.query.get("page"), ctx.query.get("per_page"), default=20, lo=5, hi=50
    )
    return paged(items, page, per_page)


def user_tokens(ctx: Ctx) -> Reply:
    """Normal tokens may not read /user/tokens (9109, field note 7)."""
    raise ApiFailure(401, 9109, "Unauthorized to access requested resource")


ROUTES: list[Route] = [
    route("GET", "/accounts", list_accounts, None),
    route("GET", "/memberships", list_memberships, None),
    route("GET", "/user/tokens/verify", user_tokens, None),
    route("GET", "/user/tokens", user_tokens, None),
    route("GET", "/user/tokens/{token_id}", user_tokens, None),
]
