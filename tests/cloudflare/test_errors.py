"""Every known failure, produced by the emulator, becomes an ApiError and one actionable sentence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.explain import explain
from reconciler.cloudflare.paths import UnsafeIdError
from reconciler.cloudflare.upload import WorkerUpload, build_upload
from reconciler.errors import ApiError
from reconciler.state import Module, Worker

from .conftest import ACCOUNT, TOKEN, Emulator, emulator_config, inprocess

SECRET_VALUE = "s3cr3t-value-never-shown"


def _fail(
    emu: Emulator,
    call: Callable[[CloudflareClient], Awaitable[Any]],
    **overrides: Any,
) -> ApiError:
    async def run() -> ApiError:
        async with emu.client(**overrides) as client:
            with pytest.raises(ApiError) as info:
                await call(client)
            return info.value

    return asyncio.run(run())


def _read_only_emu() -> Emulator:
    return inprocess(
        emulator_config(
            accounts=[{"id": ACCOUNT}],
            tokens=[
                {"token": TOKEN, "accounts": [ACCOUNT], "permissions": ["Workers Scripts Write"]}
            ],
        )
    )


def test_10000_names_the_missing_permission() -> None:
    err = _fail(_read_only_emu(), lambda c: c.create_store(ACCOUNT, "main"))
    assert err.status == 403 and err.codes == (10000,)
    assert err.permission == "Secrets Store Write"
    sentence = explain(err)
    assert "Secrets Store Write" in sentence and "token" in sentence


def test_10000_for_a_read_names_the_read_permission() -> None:
    err = _fail(_read_only_emu(), lambda c: c.list_stores(ACCOUNT))
    assert err.permission == "Secrets Store Read"
    assert "Secrets Store Read" in explain(err)


def test_10000_for_an_unknown_token_says_the_token_is_not_accepted(emu: Emulator) -> None:
    err = _fail(emu, lambda c: c.list_stores(ACCOUNT), token="revoked-token")
    assert err.status == 401 and err.codes == (10000,)
    sentence = explain(err)
    assert "not accepted (invalid, expired or revoked)" in sentence
    assert "revoked-token" not in sentence


def test_9109_on_user_tokens(emu: Emulator) -> None:
    err = _fail(emu, lambda c: c._call("GET", "/user/tokens"))
    assert err.codes == (9109,)
    assert "9109" in explain(err) and "permission" in explain(err)


def test_9106_without_credentials(emu: Emulator) -> None:
    err = _fail(emu, lambda c: c._call("GET", "/accounts", headers={"Authorization": ""}))
    assert err.codes == (9106,)
    assert "CLOUDFLARE_API_TOKEN" in explain(err)


def test_1001_patch_with_value_is_rejected() -> None:
    # The observed behaviour, pinned: CI also runs this file under `patch_secret: accept`.
    emu = inprocess(emulator_config(behaviour={"patch_secret": "reject_value"}))

    async def call(c: CloudflareClient) -> None:
        store = await c.create_store(ACCOUNT, "main")
        secret = await c.create_secret(
            ACCOUNT, store.id, name="K", value=SECRET_VALUE, scopes=["workers"], comment=None
        )
        await c.patch_secret(ACCOUNT, store.id, secret.id, value=SECRET_VALUE + "2")

    err = _fail(emu, call)
    assert err.codes == (1001,) and err.method == "PATCH"
    sentence = explain(err)
    assert "delete-then-recreate" in sentence
    assert SECRET_VALUE not in sentence and SECRET_VALUE not in str(err)


def test_1003_store_limit_names_current_stores(emu: Emulator) -> None:
    async def call(c: CloudflareClient) -> None:
        await c.create_store(ACCOUNT, "main")
        await c.create_store(ACCOUNT, "second")

    err = _fail(emu, call)
    assert err.codes == (1003,)
    sentence = explain(err, stores=["main"])
    assert "limit" in sentence and "main" in sentence


def test_1003_secret_name_already_exists(emu: Emulator) -> None:
    async def call(c: CloudflareClient) -> None:
        store = await c.create_store(ACCOUNT, "main")
        for _ in range(2):
            await c.create_secret(
                ACCOUNT, store.id, name="K", value=SECRET_VALUE, scopes=["workers"], comment="c"
            )

    err = _fail(emu, call)
    assert err.codes == (1003,)
    sentence = explain(err)
    assert "already exists" in sentence and SECRET_VALUE not in sentence


def test_10007_missing_worker(emu: Emulator) -> None:
    err = _fail(emu, lambda c: c.get_script_settings(ACCOUNT, "nope"))
    assert err.status == 404 and err.codes == (10007,)
    assert "does not exist" in explain(err)


def test_10021_carries_the_api_message(emu: Emulator) -> None:
    module_source = b"export default { fetch() { return new Response('x') } }"
    worker = Worker(
        name="w", format="module", script_digest="", modules=(Module("i.js", module_source),)
    )
    good = build_upload(worker, {}, [])
    # Force the ES module through as a classic script, the mistake field note 5 recorded.
    as_classic = WorkerUpload(
        format="classic",
        modules=tuple(
            type(p)(name="script", content=p.content, content_type="application/javascript")
            for p in good.modules
        ),
        metadata={
            **{k: v for k, v in good.metadata.items() if k != "main_module"},
            "body_part": "script",
        },
    )
    err = _fail(emu, lambda c: c.upload_script(ACCOUNT, "w", as_classic))
    assert err.codes == (10021,)
    assert "Unexpected token 'export'" in err.api_message
    assert "Unexpected token 'export'" in explain(err)


def test_7003_bad_account_id(emu: Emulator) -> None:
    # A malformed account id no longer reaches the server (test_path_ids.py); a 7003 that
    # the API answers anyway (an id of the right shape it cannot route) is still explained.
    async def run() -> None:
        async with emu.client() as client:
            await client.list_scripts("not-an-account")

    with pytest.raises(UnsafeIdError, match="account id 'not-an-account'"):
        asyncio.run(run())
    err = ApiError(
        status=404, codes=(7003,), message="No route for the URI", method="GET", path="/x"
    )
    assert "account id" in explain(err)


def test_429_says_when_to_retry() -> None:
    emu = inprocess()
    asyncio.run(emu.faults(rate_limit={"requests": 1, "window_s": 30}))

    async def other_process() -> None:
        # Another run on the same token spends the budget; our client has not seen it.
        async with emu.client() as other:
            await other.list_scripts(ACCOUNT)

    asyncio.run(other_process())
    err = _fail(emu, lambda c: c.list_scripts(ACCOUNT), max_retries=0)
    assert err.status == 429
    assert err.retry_after is not None and 1 <= err.retry_after <= 30
    sentence = explain(err)
    assert "rate limited" in sentence and f"{err.retry_after:.0f} seconds" in sentence


def test_5xx_after_retries() -> None:
    emu = inprocess()
    asyncio.run(emu.faults(error_rate=1.0, seed=1))
    err = _fail(emu, lambda c: c.list_scripts(ACCOUNT), max_retries=2)
    assert err.status >= 500
    assert "Cloudflare's side" in explain(err)


def test_unknown_code_falls_back_to_the_api_message() -> None:
    err = ApiError(status=418, codes=(4242,), message="teapot", method="GET", path="/x")
    assert explain(err) == "GET /x failed (HTTP 418, code 4242): teapot."


def test_no_token_or_value_in_errors_or_logs(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    asyncio.run(emu.faults(error_rate=1.0, seed=3))

    async def call(c: CloudflareClient) -> None:
        await c.create_secret(
            ACCOUNT, "0" * 32, name="K", value=SECRET_VALUE, scopes=["workers"], comment=None
        )

    err = _fail(emu, call, max_retries=1)
    text = str(err) + explain(err) + caplog.text + repr(err.__dict__)
    assert SECRET_VALUE not in text
    assert TOKEN not in text


def test_store_not_empty(emu: Emulator) -> None:
    async def call(c: CloudflareClient) -> None:
        store = await c.create_store(ACCOUNT, "main")
        await c.create_secret(
            ACCOUNT, store.id, name="K", value=SECRET_VALUE, scopes=["workers"], comment=None
        )
        await c.delete_store(ACCOUNT, store.id, force=False)

    err = _fail(emu, call)
    assert err.status == 409
    assert "still holds secrets" in explain(err)


def test_missing_secret_is_not_found_not_a_body_problem(emu: Emulator) -> None:
    async def call(c: CloudflareClient) -> None:
        store = await c.create_store(ACCOUNT, "main")
        await c.patch_secret(ACCOUNT, store.id, "f" * 32, comment="x")

    err = _fail(emu, call)
    assert err.codes == (1001,)
    assert "no longer exists" in explain(err)


def test_unexpected_response_shape_is_an_api_error() -> None:
    # The emulator always answers well-formed; a tiny transport stands in for a broken proxy.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "result": [{"name": "no id"}]})

    emu = inprocess()
    err = _fail(emu, lambda c: c.list_scripts(ACCOUNT), transport=httpx.MockTransport(handler))
    assert err.method == "GET" and err.path.endswith("/workers/scripts")
    assert "unexpected response shape" in err.api_message
