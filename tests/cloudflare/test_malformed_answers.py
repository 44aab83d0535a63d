"""A malformed answer is an error, never an empty account (issue 21).

`result: null` or a list of non-objects where a list belongs, or `success: true` with an
`errors` array, once read as "the store holds nothing": the plan then adopted and recreated
what exists. Each case serves one such answer from a loopback server and checks the read
stops with one sentence, and the CLI exits 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cloudflare.reader import read_live
from reconciler.errors import ApiError

from ..hostile import HostileServer, Seen, head, run_capped
from .test_hostile_server import ACCOUNT, ACCOUNT_JSON, cli_env, config

STORE = {"id": "0" * 32, "name": "main"}
SECRET = {"id": "1" * 32, "name": "API_KEY", "scopes": ["workers"], "comment": "x"}

Doc = dict[str, Any]


def answer(doc: Doc) -> Iterator[bytes]:
    body = json.dumps(doc).encode()
    yield head("200 OK", len(body)) + body


def ok(result: Any) -> Doc:
    """A success; a list is the only page there is (`result_info` says so)."""
    doc: Doc = {"success": True, "errors": [], "messages": [], "result": result}
    if isinstance(result, list):
        doc["result_info"] = {"page": 1, "total_pages": 1, "total_count": len(result)}
    return doc


def account(
    secrets_answer: Doc, scripts_answer: Doc | None = None
) -> Callable[[Seen], Iterator[bytes]]:
    """A one-store account whose secrets list (or workers list) answers as given."""

    def behaviour(seen: Seen) -> Iterator[bytes]:
        path = seen.target.split("?", 1)[0].removeprefix("/client/v4")
        if path == "/accounts":
            return answer(ok([ACCOUNT_JSON]))
        if path.endswith("/secrets_store/stores"):
            return answer(ok([STORE]))
        if path.endswith("/secrets"):
            return answer(secrets_answer)
        if path.endswith("/quota"):
            return answer(ok({"secrets": {"quota": 100, "usage": 1}}))
        if path.endswith("/workers/scripts"):
            return answer(scripts_answer or ok([]))
        return answer({"success": False, "errors": [{"code": 7003, "message": "no route"}]})

    return behaviour


MALFORMED: list[tuple[str, Doc, Doc | None, str]] = [
    ("null secrets", ok(None), None, "expected a list of objects as the result, got null"),
    ("non-objects", ok(["API_KEY", 1]), None, "expected a list of objects as the result, got"),
    ("null scripts", ok([SECRET]), ok(None), "expected a list of objects as the result, got null"),
    (
        "success with errors",
        {**ok([]), "errors": [{"code": 1000, "message": "partial outage"}]},
        None,
        "the API said success but also reported errors: partial outage (1000)",
    ),
]


@pytest.mark.parametrize(
    ("what", "secrets", "scripts", "says"), MALFORMED, ids=lambda v: str(v)[:20]
)
def test_a_malformed_list_is_an_error_not_an_empty_account(
    what: str, secrets: Doc, scripts: Doc | None, says: str
) -> None:
    async def read() -> None:
        from reconciler.cloudflare.client import CloudflareClient

        with HostileServer(account(secrets, scripts)) as server:
            async with CloudflareClient(config(server, max_retries=0)) as client:
                await read_live(client, ACCOUNT)

    with pytest.raises(ApiError) as caught:
        asyncio.run(read())
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("what", "secrets", "scripts", "says"), MALFORMED, ids=lambda v: str(v)[:20]
)
def test_the_cli_says_one_sentence_and_exits_1(
    tmp_path: Path, what: str, secrets: Doc, scripts: Doc | None, says: str
) -> None:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "stores.yaml").write_text(
        "stores:\n  - name: main\nsecrets:\n  - store: main\n    name: API_KEY\n"
        "    scopes: [workers]\n    value_from: {env: APP_KEY}\n"
    )
    with HostileServer(account(secrets, scripts)) as server:
        code, out, err, _ = run_capped(
            ["plan", str(root)],
            cwd=str(tmp_path),
            env=cli_env(server, APP_KEY="v", RECONCILER_CACHE_DIR=str(tmp_path / "cache")),
            memory_bytes=1 << 30,
        )
    assert code == 1, out + err
    assert says in err and "Traceback" not in err
    assert "adopt" not in out and "create" not in out
