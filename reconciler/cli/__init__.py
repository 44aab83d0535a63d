"""The `reconciler` program: the CLI's commands and the MCP server's on one click group.

The two front ends stand side by side and neither imports the other: the CLI is
`cli/commands.py` and `cli/apply_command.py`, the MCP server is `reconciler/mcp/`. This
module alone sees both: it adds apply and the `mcp` command (which starts the server with
the CLI's connection options) to the group. `main` is the console script.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from reconciler.cli.apply_command import apply
from reconciler.cli.commands import cli
from reconciler.cli.exits import handle_errors
from reconciler.cli.options import (
    DEFAULT_PATHS,
    allow_outside_option,
    connection_from,
    connection_options,
    max_stores_option,
    paths_argument,
)
from reconciler.cli.rollback_command import rollback

__all__ = ["cli", "main"]

cli.add_command(apply)
cli.add_command(rollback)


@cli.command("mcp")
@paths_argument
@click.option(
    "--allow-apply",
    is_flag=True,
    help="Offer the apply tool (it applies only a shown plan that is still current).",
)
@click.option(
    "--workspace",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run in this directory; tool paths may not leave it (default: the current one).",
)
@allow_outside_option
@connection_options
@max_stores_option
@handle_errors
def mcp_server(
    paths: tuple[str, ...],
    allow_apply: bool,
    workspace: Path | None,
    allow_outside_files: bool,
    **kw: Any,
) -> None:
    """Serve validate, plan, drift, export (and apply) as MCP tools over stdio."""
    from reconciler.mcp.server import serve
    from reconciler.mcp.tools import ServerConfig

    # Each tool call rebinds --local to the manifests it names (Connection.for_manifests).
    connection = connection_from(kw, paths, None)
    if workspace is not None:
        # Clients start servers anywhere; paths, --local state and the cache follow this.
        os.chdir(workspace)
    serve(
        ServerConfig(
            connection=connection,
            workspace=Path.cwd(),
            paths=paths or DEFAULT_PATHS,
            allow_apply=allow_apply,
            allow_outside_files=allow_outside_files,
        )
    )


def main() -> None:
    cli(prog_name="reconciler")
