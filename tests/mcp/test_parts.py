"""The server's own small parts, without a client: path confinement, plan ids, error input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from reconciler.errors import ApiError, ConfigError, Location, ManifestError, Problem
from reconciler.mcp.plans import PlanBook, ShownPlan
from reconciler.mcp.server import _guarded
from reconciler.mcp.tools import api_error_from
from reconciler.mcp.workspace import confine
from reconciler.plan.model import Plan


def test_confine_keeps_paths_inside_and_refuses_every_way_out(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "manifests").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    assert confine("manifests", root, what="manifest") == (root / "manifests").resolve()
    assert confine("new/dir", root, what="export directory") == (root / "new/dir").resolve()
    assert (
        confine("manifests/../manifests", root, what="manifest") == (root / "manifests").resolve()
    )
    for escape in ("..", "../outside", str(tmp_path / "outside"), "link", "link/deeper", "/"):
        with pytest.raises(ConfigError, match="leads outside the workspace"):
            confine(escape, root, what="manifest")
    for bad in ("", "a\x00b"):
        with pytest.raises(ConfigError, match="empty or holds a NUL byte"):
            confine(bad, root, what="manifest")


def test_plan_book_is_bounded_and_names_unknown_ids() -> None:
    book = PlanBook(limit=2)
    ids = [book.add(ShownPlan(Plan(account_id=f"a{i}"), ())) for i in range(3)]
    assert len(set(ids)) == 3
    assert book.get(ids[2]).plan.account_id == "a2"
    assert book.get(ids[1]).plan.account_id == "a1"
    with pytest.raises(ConfigError, match="no plan with id"):
        book.get(ids[0])  # the oldest was dropped
    with pytest.raises(ConfigError, match="nothing was changed"):
        book.get("x" * 10_000)


def test_explain_input_from_a_code_a_message_or_a_pasted_envelope() -> None:
    by_code = api_error_from(code=10000, message=None, status=401, method=None, path=None)
    assert by_code.codes == (10000,) and by_code.status == 401
    from_text = api_error_from(
        code=None,
        message="POST /stores failed: HTTP 400, code 1003: maximum_stores_exceeded",
        status=None,
        method="POST",
        path="/stores",
    )
    assert from_text.codes == (1003,) and from_text.status == 400
    envelope = json.dumps(
        {"success": False, "errors": [{"code": 1001, "message": "invalid_json_body"}]}
    )
    pasted = api_error_from(code=None, message=envelope, status=None, method=None, path=None)
    assert pasted.codes == (1001,) and pasted.api_message == "invalid_json_body"
    with pytest.raises(ConfigError, match="needs an API error code"):
        api_error_from(code=None, message="  ", status=None, method=None, path=None)


def _tool_error(exc: BaseException) -> str:
    async def fail() -> None:
        raise exc

    with pytest.raises(ToolError) as caught:
        asyncio.run(_guarded(fail()))
    return str(caught.value)


def test_guarded_words_errors_as_the_cli_and_never_quotes_a_crash() -> None:
    api = ApiError(
        status=400, codes=(1003,), message="maximum_stores_exceeded", method="POST", path="/stores"
    )
    assert _tool_error(api).startswith("POST /stores failed (1003 maximum_stores_exceeded)")
    problems = ManifestError([Problem(Location("m.yaml", 2, 3), "bad name")])
    assert _tool_error(problems) == "m.yaml:2:3: bad name\n1 problem in the manifests"
    crash = _tool_error(RuntimeError("value=hunter2"))
    assert crash.startswith("internal error (RuntimeError)") and "hunter2" not in crash
