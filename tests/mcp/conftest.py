"""Drive `reconciler mcp` with the MCP Python SDK's own stdio client, as an agent would.

Every tool result and every line the server logs is kept, so a test can scan them all
for secret values and tokens.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from tests.checkout import LOCAL_STATE

REPO = Path(__file__).resolve().parents[2]
# Secret values the manifests carry: no tool result or log line may ever contain them.
STRIPE_VALUE = "sk_test_FAKE_development_only_0000000000"
WEBHOOK_VALUE = "whsec_FAKE_development_only_1111111111"
ENV_SECRET_VALUE = "mcp-e2e-env-secret-value-5b1e"
FINGERPRINT_KEY = "mcp-e2e-fingerprint-key-0123456789abcdef"
SECRETS = (STRIPE_VALUE, WEBHOOK_VALUE, ENV_SECRET_VALUE, FINGERPRINT_KEY)
WRITES = ("POST", "PUT", "PATCH", "DELETE")
T = TypeVar("T")


def project(root: Path) -> Path:
    """A workspace holding a copy of the default manifests (values from FAKE files)."""
    shutil.copytree(REPO / "manifests", root / "manifests", ignore=LOCAL_STATE)
    assert (root / "manifests/dev-secrets/stripe-key.txt").read_text().strip() == STRIPE_VALUE
    return root


@dataclass
class Agent:
    """One MCP session with the server; remembers every result it received."""

    session: ClientSession
    seen: list[str] = field(default_factory=list)

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        result = await self.session.call_tool(tool, arguments)
        self.seen.append(result.model_dump_json())
        return result

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A successful call's structured result (which must match its text content)."""
        result = await self.call(tool, **arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> str:
        """A failed call's message: a tool error, not a protocol error or a crash."""
        result = await self.call(tool, **arguments)
        assert result.is_error, result.structured_content
        text = "".join(getattr(block, "text", "") for block in result.content)
        prefix = f"Error executing tool {tool}: "
        assert text.startswith(prefix), text
        return text.removeprefix(prefix)

    async def tool_names(self) -> set[str]:
        listed = await self.session.list_tools()
        self.seen.append(listed.model_dump_json())
        return {t.name for t in listed.tools}

    async def resource(self, uri: str) -> str:
        read = await self.session.read_resource(uri)
        self.seen.append(read.model_dump_json())
        return "".join(getattr(c, "text", "") for c in read.contents)


@asynccontextmanager
async def agent(
    cwd: Path, *args: str, env: dict[str, str] | None = None, errlog: IO[str] = sys.stderr
) -> AsyncIterator[Agent]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "reconciler", "mcp", *args],
        cwd=str(cwd),
        env=env or {},
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield Agent(session)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, with a failed assertion shown as itself, not inside task-group wrappers."""
    try:
        return asyncio.run(main)
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
            leaf = leaf.exceptions[0]
        raise leaf from None


def assert_no_secrets(texts: list[str], *secrets: str) -> None:
    assert texts, "nothing was scanned"
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret or token leaked into: {text[:200]}"


def requests(root_url: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{root_url}/__emulator/requests").json()
    return log


def writes(root_url: str) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in requests(root_url) if r["method"] in WRITES]


def clear_log(root_url: str) -> None:
    httpx.delete(f"{root_url}/__emulator/requests").raise_for_status()


def dump(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True)
