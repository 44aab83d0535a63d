"""The MCP server: `Tools` registered with the official SDK, served over stdio.

stdout is the protocol channel; logs go to stderr (configured by the CLI). Every
failure comes back as a tool error holding the CLI's sentence, so the server never
crashes on a bad call and never shows a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import TextResource
from mcp.types import ToolAnnotations
from pydantic import Field

from reconciler import __version__
from reconciler.errors import ManifestError, ReconcilerError, StalePlanError
from reconciler.manifest.models import manifest_json_schema
from reconciler.mcp.guide import GUIDE
from reconciler.mcp.results import (
    ApplyResult,
    DriftResult,
    ExplainResult,
    ExportResult,
    PlanResult,
    ValidateResult,
)
from reconciler.mcp.tools import ServerConfig, Tools
from reconciler.sentences import error_sentence
from reconciler.untrusted import printable

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_URI = "reconciler://manifest-schema"
GUIDE_URI = "reconciler://guide"
INSTRUCTIONS = (
    "Reconcile Cloudflare Workers and Secrets Store with YAML manifests. Read "
    f"{GUIDE_URI} first. Edit manifests, call validate, then plan; show the plan text to "
    "the user; apply only the plan_id the user approved. Secret values only via value_from."
)

# The CLI's stale-plan sentence names `reconciler plan --out`; here the next step is a tool.
REPLAN_HERE = "Here: call plan again, show the new plan, and apply its plan_id"

Paths = Annotated[
    list[str] | None,
    Field(
        description="Manifest files or directories, relative to the workspace "
        "(default: the paths the server was started with)"
    ),
]


async def _guarded(work: Awaitable[T]) -> T:
    """Our errors become tool errors worded as the CLI words them; a bug of ours too."""
    try:
        return await work
    except ManifestError as exc:
        lines = [printable(str(p)) for p in exc.problems] + [error_sentence(exc)]
        raise ToolError("\n".join(lines)) from None
    except StalePlanError as exc:
        raise ToolError(f"{error_sentence(exc).rstrip('.')}. {REPLAN_HERE}") from None
    except ReconcilerError as exc:
        raise ToolError(error_sentence(exc)) from None
    except Exception as exc:
        # Only the type: an unexpected message could quote anything.
        log.error("internal error: %s", type(exc).__name__)
        raise ToolError(
            f"internal error ({type(exc).__name__}); nothing more is shown here. "
            "Run the same step with the reconciler CLI, and report it if it persists"
        ) from None


def build_server(config: ServerConfig) -> MCPServer:
    tools = Tools(config)
    server: MCPServer = MCPServer(
        "reconciler", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool(
        annotations=ToolAnnotations(
            title="Validate manifests", read_only_hint=True, open_world_hint=False
        )
    )
    async def validate(paths: Paths = None) -> ValidateResult:
        """Check the manifests; every problem comes back with file, line, column and message."""
        return await _guarded(tools.validate(paths))

    @server.tool(
        annotations=ToolAnnotations(
            title="Plan changes", read_only_hint=True, idempotent_hint=True, open_world_hint=True
        )
    )
    async def plan(
        paths: Paths = None,
        prune: Annotated[
            bool, Field(description="Delete managed resources no manifest declares")
        ] = False,
        replace: Annotated[
            list[str],
            Field(description="Secrets whose value to rotate, as STORE/NAME or NAME"),
        ] = [],  # noqa: B006 (the SDK copies defaults into a pydantic model)
        force: Annotated[bool, Field(description="Allow a plan past the safety threshold")] = False,
    ) -> PlanResult:
        """Read the account and show what apply would change, with a plan_id to apply it.

        Reads only. Show `text` to the user before applying.
        """
        return await _guarded(tools.plan(paths, prune=prune, replace=replace, force=force))

    @server.tool(
        annotations=ToolAnnotations(
            title="Check drift", read_only_hint=True, idempotent_hint=True, open_world_hint=True
        )
    )
    async def drift(
        paths: Paths = None,
        fail_on_unmanaged: Annotated[
            bool, Field(description="Resources no manifest declares also count as drift")
        ] = False,
    ) -> DriftResult:
        """Compare the account with the manifests: the drift report and whether it is in sync."""
        return await _guarded(tools.drift(paths, fail_on_unmanaged=fail_on_unmanaged))

    @server.tool(
        annotations=ToolAnnotations(
            title="Explain an API error", read_only_hint=True, open_world_hint=False
        )
    )
    async def explain_error(
        code: Annotated[int | None, Field(description="Cloudflare error code, e.g. 1003")] = None,
        message: Annotated[
            str | None,
            Field(description="The error message, or a pasted API response envelope"),
        ] = None,
        status: Annotated[int | None, Field(description="HTTP status, when known")] = None,
        method: Annotated[str | None, Field(description="HTTP method, when known")] = None,
        path: Annotated[str | None, Field(description="API path, when known")] = None,
    ) -> ExplainResult:
        """One sentence for a Cloudflare API error: what failed, why, and what to do."""
        return await _guarded(
            tools.explain_error(code=code, message=message, status=status, method=method, path=path)
        )

    @server.tool(
        annotations=ToolAnnotations(
            title="Export the account as manifests",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=True,
        )
    )
    async def export(
        directory: Annotated[
            str, Field(description="Directory inside the workspace to write into")
        ] = "exported",
        force: Annotated[bool, Field(description="Overwrite files that already exist")] = False,
    ) -> ExportResult:
        """Write manifests from the live account; secret values become env placeholders.

        Writes only inside the workspace. Lists the variables to set before planning.
        """
        return await _guarded(tools.export(directory, force=force))

    if config.allow_apply:

        @server.tool(
            annotations=ToolAnnotations(
                title="Apply a shown plan",
                read_only_hint=False,
                destructive_hint=True,
                idempotent_hint=False,
                open_world_hint=True,
            )
        )
        async def apply(
            plan_id: Annotated[str, Field(description="The plan_id the plan tool returned")],
            secret_update: Annotated[
                Literal["replace", "patch"],
                Field(
                    description="How a value change is written: delete then recreate, "
                    "or PATCH first"
                ),
            ] = "replace",
        ) -> ApplyResult:
            """Apply a plan the user approved, only if a fresh plan still equals it.

            Refused (nothing changed) when the account or the manifests changed since,
            or when the plan has conflicts. Returns what was done, failed, not started.
            """
            return await _guarded(tools.apply(plan_id, secret_update=secret_update))

    server.add_resource(
        TextResource(
            uri=SCHEMA_URI,
            name="manifest-schema",
            title="Manifest JSON Schema",
            description="The JSON Schema of reconciler manifests (as `reconciler schema`)",
            mime_type="application/schema+json",
            text=json.dumps(manifest_json_schema(), indent=2, sort_keys=True),
        )
    )
    server.add_resource(
        TextResource(
            uri=GUIDE_URI,
            name="guide",
            title="reconciler guide for agents",
            description="Manifest format, exit codes, and the rules that matter",
            mime_type="text/markdown",
            text=GUIDE,
        )
    )
    return server


def serve(config: ServerConfig) -> None:
    """Serve over stdio until the client closes it."""
    anyio.run(build_server(config).run_stdio_async)
