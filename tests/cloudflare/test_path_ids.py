"""Ids from the server never aim a request elsewhere (issue 21).

A secret whose id is `..` once turned a secret delete into `DELETE …/stores/{store_id}`:
percent-encoding leaves dot segments alone and the HTTP client removes them. Every id or
name that enters a URL path is checked against the API's shape before any request is sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.reader import read_live
from reconciler.errors import ReconcilerError

from ..hostile import HostileServer, Seen, head
from .test_hostile_server import ACCOUNT, ACCOUNT_JSON, config

STORE_ID = "0" * 32
SECRET_ID = "1" * 32

Call = Callable[[CloudflareClient], Awaitable[Any]]

CALLS: list[tuple[str, Call, str]] = [
    ("secret ..", lambda c: c.delete_secret(ACCOUNT, STORE_ID, ".."), "secret id '..'"),
    ("secret .", lambda c: c.delete_secret(ACCOUNT, STORE_ID, "."), "secret id '.'"),
    ("secret /", lambda c: c.patch_secret(ACCOUNT, STORE_ID, "a/b", comment="x"), "secret id"),
    ("store ..", lambda c: c.delete_store(ACCOUNT, "..", force=True), "store id '..'"),
    ("store list", lambda c: c.list_secrets(ACCOUNT, "%2e%2e"), "store id '%2e%2e'"),
    ("account", lambda c: c.list_stores(".."), "account id '..'"),
    ("worker", lambda c: c.get_script_settings(ACCOUNT, ".."), "worker name '..'"),
    ("worker del", lambda c: c.delete_script(ACCOUNT, "."), "worker name '.'"),
    ("worker secret", lambda c: c.delete_script_secret(ACCOUNT, "w", ".."), "secret name '..'"),
    ("control", lambda c: c.delete_secret(ACCOUNT, STORE_ID, "1\r\n"), r"secret id '1\r\n'"),
]


def answer_anything(seen: Seen) -> Iterator[bytes]:
    body = json.dumps({"success": True, "errors": [], "result": []}).encode()
    yield head("200 OK", len(body)) + body


@pytest.mark.parametrize(("what", "call", "says"), CALLS, ids=[c[0] for c in CALLS])
def test_an_id_that_is_not_an_id_is_refused_before_any_request(
    what: str, call: Call, says: str
) -> None:
    async def run() -> None:
        async with CloudflareClient(config(server, max_retries=0)) as client:
            await call(client)

    with HostileServer(answer_anything) as server, pytest.raises(ReconcilerError) as caught:
        asyncio.run(run())
    assert server.seen == [], [s.target for s in server.seen]
    message = str(caught.value)
    assert says in message, message
    assert "\r" not in message and "\n" not in message


def test_well_formed_ids_still_reach_the_server() -> None:
    async def run() -> None:
        async with CloudflareClient(config(server, max_retries=0)) as client:
            await client.delete_secret(ACCOUNT, STORE_ID, SECRET_ID)
            await client.get_script_settings(ACCOUNT, "my_worker-2")

    with HostileServer(answer_anything) as server:
        asyncio.run(run())
    assert [s.target.split("?")[0] for s in server.seen] == [
        f"/client/v4/accounts/{ACCOUNT}/secrets_store/stores/{STORE_ID}/secrets/{SECRET_ID}",
        f"/client/v4/accounts/{ACCOUNT}/workers/scripts/my_worker-2/settings",
    ]


def test_a_listed_worker_named_dot_dot_stops_the_read_in_one_sentence() -> None:
    def behaviour(seen: Seen) -> Iterator[bytes]:
        path = seen.target.split("?", 1)[0]
        result: Any = []
        if path.endswith("/workers/scripts"):
            result = [{"id": "..", "etag": "e", "modified_on": "2026-01-01T00:00:00Z"}]
        elif path.endswith("/quota"):
            result = {"secrets": {"quota": 100, "usage": 0}}
        elif path.endswith("/accounts"):
            result = [ACCOUNT_JSON]
        body = json.dumps({"success": True, "errors": [], "result": result}).encode()
        yield head("200 OK", len(body)) + body

    async def run() -> None:
        async with CloudflareClient(config(server, max_retries=0)) as client:
            await read_live(client, ACCOUNT)

    with HostileServer(behaviour) as server, pytest.raises(ReconcilerError) as caught:
        asyncio.run(run())
    assert "worker name '..'" in str(caught.value)
    assert not any("/scripts/" in s.target for s in server.seen)
