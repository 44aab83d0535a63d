"""Account resolution against the emulator: 0, 1, several accounts; a wrong account; precedence."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.cloudflare.accounts import resolve_account
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.errors import ConfigError

from .conftest import TOKEN, Emulator, emulator_config, inprocess, paths

A1 = "11111111111111111111111111111111"
A2 = "22222222222222222222222222222222"
A3 = "33333333333333333333333333333333"


def _emu(visible: list[str]) -> Emulator:
    return inprocess(
        emulator_config(
            accounts=[
                {"id": A1, "name": "Alpha"},
                {"id": A2, "name": "Beta"},
                {"id": A3, "name": "Gamma"},
            ],
            tokens=[{"token": TOKEN, "accounts": visible}],
        )
    )


def _resolve(
    emu: Emulator,
    manifest: str | None = None,
    flag: str | None = None,
    env: str | None = None,
) -> str:
    async def run() -> str:
        async with emu.client() as client:
            return await resolve_account(
                client, manifest_account=manifest, flag_account=flag, env_account=env
            )

    return asyncio.run(run())


def test_one_account_is_used() -> None:
    assert _resolve(_emu([A2])) == A2


def test_no_account_fails_with_advice() -> None:
    with pytest.raises(ConfigError, match="can see no accounts"):
        _resolve(_emu([]))


def test_several_accounts_fail_with_the_list_and_how_to_choose() -> None:
    with pytest.raises(ConfigError) as info:
        _resolve(_emu([A1, A2, A3]))
    text = str(info.value)
    for name, account in (("Alpha", A1), ("Beta", A2), ("Gamma", A3)):
        assert f"{name} ({account})" in text
    assert "--account-id" in text and "CLOUDFLARE_ACCOUNT_ID" in text and "account_id" in text


def test_precedence_manifest_then_flag_then_env() -> None:
    emu = _emu([A1, A2, A3])
    assert _resolve(emu, manifest=A1, flag=A2, env=A3) == A1
    assert _resolve(emu, flag=A2, env=A3) == A2
    assert _resolve(emu, env=A3) == A3


def test_wrong_manifest_account_fails_before_any_other_call() -> None:
    emu = _emu([A1])
    asyncio.run(emu.clear_requests())
    with pytest.raises(ConfigError) as info:
        _resolve(emu, manifest=A2, flag=A1)
    assert A2 in str(info.value) and "manifest" in str(info.value)
    log = asyncio.run(emu.requests())
    assert paths(log) == ["/client/v4/accounts"]


def test_account_owned_token_that_cannot_list_accounts_is_told_to_name_one() -> None:
    """Seen in 2024: `/accounts` answered 1001 for account-owned tokens; the emulator never
    does, so a two-line stand-in answers like that."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "success": False,
            "errors": [
                {
                    "code": 1001,
                    "message": "List accounts endpoint does not support account owned tokens.",
                }
            ],
        }
        return httpx.Response(400, json=body)

    config = ClientConfig(
        token=TOKEN, base_url="http://127.0.0.1/client/v4", transport=httpx.MockTransport(handler)
    )

    async def run() -> str:
        async with CloudflareClient(config) as client:
            return await resolve_account(
                client, manifest_account=None, flag_account=None, env_account=None
            )

    with pytest.raises(ConfigError) as info:
        asyncio.run(run())
    message = str(info.value)
    assert "does not support account owned tokens" in message
    assert "CLOUDFLARE_ACCOUNT_ID" in message and "--account-id" in message
