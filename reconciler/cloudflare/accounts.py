"""Which account a run talks to.

Precedence: the manifest's `account_id`, then `--account-id`, then
CLOUDFLARE_ACCOUNT_ID. The manifest wins even over a flag that disagrees: the
manifest is the reviewed, committed statement of which account it describes, so a
stray flag or variable must not point it at another account. A given account is
verified with one call before anything else; with none given, the token's
accounts are listed and exactly one must exist.
"""

from __future__ import annotations

from reconciler.cloudflare.client import CloudflareClient
from reconciler.errors import ApiError, ConfigError


async def resolve_account(
    client: CloudflareClient,
    *,
    manifest_account: str | None,
    flag_account: str | None,
    env_account: str | None,
) -> str:
    given = [
        (manifest_account, "the manifest's account_id"),
        (flag_account, "--account-id"),
        (env_account, "CLOUDFLARE_ACCOUNT_ID"),
    ]
    for account, source in given:
        if account:
            await _verify(client, account, source)
            return account
    try:
        accounts = await client.list_accounts()
    except ApiError as exc:
        if not exc.has_code(1001):
            raise
        # Account-owned tokens were seen to answer 1001 here ("does not support account
        # owned tokens"): only an explicit account helps.
        raise ConfigError(
            f"no account was given and the token's accounts cannot be listed "
            f"({exc.api_message}); set account_id in the manifest, --account-id, or "
            "CLOUDFLARE_ACCOUNT_ID"
        ) from None
    if len(accounts) == 1:
        return accounts[0].id
    if not accounts:
        raise ConfigError(
            "the API token can see no accounts; give the token access to an account "
            "(Account Settings Read) or set account_id in the manifest"
        )
    listing = ", ".join(f"{a.name} ({a.id})" for a in accounts)
    raise ConfigError(
        f"the API token can see {len(accounts)} accounts: {listing}; choose one with "
        "account_id in the manifest, --account-id, or CLOUDFLARE_ACCOUNT_ID"
    )


async def _verify(client: CloudflareClient, account: str, source: str) -> None:
    if await client.verify_account(account) is None:
        raise ConfigError(
            f"account {account} (from {source}) is not visible to this API token; "
            "check the account id, or use a token that has access to that account"
        )
