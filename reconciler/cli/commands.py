"""The CLI's commands, but apply (`apply_command.py`): validate, schema, plan, drift, export
and the emulator. Exceptions become exit codes in `exits.py` only."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from reconciler import __version__
from reconciler.cli.exits import handle_errors
from reconciler.cli.options import (
    FullHelpGroup,
    allow_commands_option,
    allow_outside_option,
    connection_from,
    connection_options,
    follow_up_flags,
    format_option,
    load,
    max_stores_option,
    paths_argument,
    with_plan_options,
)
from reconciler.errors import (
    EXIT_CHANGES,
    EXIT_CONFLICTS,
    ManifestError,
)
from reconciler.manifest.merge import ManifestSet, resolve_all
from reconciler.manifest.models import manifest_json_schema
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.planfile import write_plan
from reconciler.plan.render_json import render_json
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text
from reconciler.sentences import valid_summary
from reconciler.untrusted import printable
from reconciler.words import count
from reconciler.workflow import Connection, export_live, open_session


@click.group(cls=FullHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative reconciler for Cloudflare Workers scripts and Secrets Store."""


@cli.command()
@paths_argument
@allow_outside_option
@allow_commands_option
@click.option(
    "--resolve",
    is_flag=True,
    help="Also resolve every value (env, files, sops, AWS, commands) and report each failure.",
)
@handle_errors
def validate(
    paths: tuple[str, ...], allow_outside_files: bool, allow_commands: bool, resolve: bool
) -> None:
    """Check manifests (default: manifests/) and report every problem with file:line:column."""
    manifests = load(paths, allow_outside_files, allow_commands)
    if resolve:
        failed = resolve_all(manifests)
        if failed:
            raise ManifestError(failed)
    for warning in manifests.warnings:
        click.echo(f"warning: {printable(str(warning))}", err=True)
    click.echo(valid_summary(manifests))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the manifest format (for editors)."""
    click.echo(json.dumps(manifest_json_schema(), indent=2, sort_keys=True))


def _render(
    plan: Plan, output_format: str, *, drift_options: dict[str, object] | None = None
) -> None:
    """Print the plan; a drift report (drift_options given) shows drift's own options."""
    drift = drift_options is not None
    if output_format == "json":
        click.echo(render_json(plan, options=drift_options), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(plan, drift=drift), nl=False)
    else:
        render_text(plan, Console(soft_wrap=True), drift=drift)


async def _plan(connection: Connection, manifests: ManifestSet, options: PlanOptions) -> Plan:
    async with open_session(connection, manifests.state.account_id) as session:
        result, _ = await session.plan(manifests, options)
        return result


@cli.command()
@paths_argument
@format_option
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Write the plan file for apply --plan."
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes, 0 when none."
)
@with_plan_options
@allow_outside_option
@allow_commands_option
@connection_options
@max_stores_option
@handle_errors
def plan(
    paths: tuple[str, ...],
    output_format: str,
    out: Path | None,
    detailed_exitcode: bool,
    prune: bool,
    force: bool,
    replace: tuple[str, ...],
    allow_outside_files: bool,
    allow_commands: bool,
    **kw: Any,
) -> None:
    """Show what apply would change (exit 3 on conflicts)."""
    hint_flags = follow_up_flags(kw, allow_outside_files, allow_commands)
    manifests = load(paths, allow_outside_files, allow_commands)
    connection = connection_from(kw, paths, manifests)
    options = PlanOptions(prune=prune, force=force, replace=list(replace))
    result = asyncio.run(_plan(connection, manifests, options))
    _render(result, output_format)
    if out is not None:
        write_plan(result, out)
        command = shlex.join(["reconciler", "apply", *paths, "--plan", str(out), *hint_flags])
        click.echo(f"Plan written to {out}; apply it with `{command}`.", err=True)
    if result.conflicts:
        sys.exit(EXIT_CONFLICTS)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@cli.command()
@paths_argument
@format_option
@click.option(
    "--fail-on",
    type=click.Choice(["unmanaged"]),
    help="Also exit 2 when the account holds resources no manifest declares.",
)
@allow_outside_option
@allow_commands_option
@connection_options
@max_stores_option
@handle_errors
def drift(
    paths: tuple[str, ...],
    output_format: str,
    fail_on: str | None,
    allow_outside_files: bool,
    allow_commands: bool,
    **kw: Any,
) -> None:
    """Compare the account with the manifests: exit 0 in sync, 2 on drift, 3 on conflicts."""
    manifests = load(paths, allow_outside_files, allow_commands)
    connection = connection_from(kw, paths, manifests)
    # Drift lists what differs, managed leftovers included (prune); it never applies anything.
    result = asyncio.run(_plan(connection, manifests, PlanOptions(prune=True, force=True)))
    _render(result, output_format, drift_options={"fail_on": fail_on})
    if result.conflicts:
        sys.exit(EXIT_CONFLICTS)
    if result.has_changes or (fail_on == "unmanaged" and result.unmanaged):
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exported"),
    show_default=True,
    help="Directory to write the manifests and worker scripts into.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@connection_options
@handle_errors
def export(out_dir: Path, force: bool, **kw: Any) -> None:
    """Write manifests from a live account; secret values become env placeholders."""
    result = asyncio.run(export_live(connection_from(kw, (), None)))
    written = result.write(out_dir, force=force)
    for warning in result.warnings:
        click.echo(f"Warning: {printable(warning)}", err=True)
    click.echo(f"Exported account {result.account_id}: {count(len(written), 'file')} in {out_dir}")
    if result.env_vars:
        click.echo("Secret values cannot be read back; set these before `reconciler plan`:")
        for var in result.env_vars:
            click.echo(f"  {var.name}  ({printable(var.label)})")
    click.echo(f"Then run: reconciler plan {out_dir}")


@cli.group(cls=FullHelpGroup)
def emulator() -> None:
    """The local Cloudflare API emulator."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback).")
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on.",
)
@click.option("--db", type=click.Path(path_type=str), help="SQLite file (default: in memory).")
@click.option(
    "--config", "config_path", type=click.Path(path_type=str), help="Config file (YAML/JSON)."
)
@handle_errors
def emulator_serve(host: str, port: int, db: str | None, config_path: str | None) -> None:
    """Serve the emulator over HTTP until interrupted."""
    from reconciler.emulator.server import serve

    serve(host, port, db, config_path)
