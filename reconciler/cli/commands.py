"""The CLI's commands, but apply (`apply_command.py`): validate, schema, plan, drift, export
and the emulator. Exceptions become exit codes in `exits.py` only."""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from reconciler import __version__
from reconciler.cli.exits import handle_errors
from reconciler.cli.options import (
    DEFAULT_PATHS,
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
from reconciler.cli.output import emit, json_format_option
from reconciler.documents import (
    DOCUMENTS,
    export_document,
    schema_text,
    validate_document,
)
from reconciler.errors import EXIT_CHANGES, EXIT_CONFLICTS, ConfigError, ManifestError
from reconciler.local import STATE_DIR_NAME, has_local_account
from reconciler.manifest.loader import discover
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
@json_format_option
@allow_outside_option
@allow_commands_option
@click.option(
    "--resolve",
    is_flag=True,
    help="Also resolve every value (env, files, sops, AWS, commands) and report each failure.",
)
@handle_errors
def validate(
    paths: tuple[str, ...],
    output_format: str,
    allow_outside_files: bool,
    allow_commands: bool,
    resolve: bool,
) -> None:
    """Check manifests (default: manifests/) and report every problem with file:line:column."""
    as_json = output_format == "json"
    try:
        manifests = load(paths, allow_outside_files, allow_commands)
    except ManifestError as exc:
        if as_json:
            files, _ = discover(paths or DEFAULT_PATHS, allow_outside_files=allow_outside_files)
            emit(validate_document(None, exc.problems, files))
        raise
    failed = resolve_all(manifests) if resolve else []
    if failed:
        if as_json:
            emit(validate_document(manifests, failed, manifests.files))
        raise ManifestError(failed)
    for warning in manifests.warnings:
        click.echo(f"warning: {printable(str(warning))}", err=True)
    if as_json:
        emit(validate_document(manifests, [], manifests.files))
    else:
        click.echo(valid_summary(manifests))


@cli.command()
@click.option(
    "--document",
    type=click.Choice(list(DOCUMENTS)),
    help="Print instead the JSON Schema of what `reconciler DOCUMENT --format json` prints.",
)
def schema(document: str | None) -> None:
    """Print the JSON Schema of the manifest format (for editors), or of a command's JSON."""
    if document is not None:
        click.echo(schema_text(document), nl=False)
        return
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
        verbose = logging.getLogger().isEnabledFor(logging.INFO)  # -v
        render_text(plan, Console(soft_wrap=True), drift=drift, verbose=verbose)


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
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Also write the report as JSON (the drift document) to this file.",
)
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
    out: Path | None,
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
    if out is not None:
        write_plan(result, out, options={"fail_on": fail_on})
    if result.conflicts:
        sys.exit(EXIT_CONFLICTS)
    if result.has_changes or (fail_on == "unmanaged" and result.unmanaged):
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The same as DIRECTORY (its older spelling).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@json_format_option
@connection_options
@handle_errors
def export(
    directory: Path | None, out_dir: Path | None, force: bool, output_format: str, **kw: Any
) -> None:
    """Write manifests from a live account into DIRECTORY (default: exported); secret values
    become env placeholders. Under --local, the account is DIRECTORY's own local one."""
    if directory is not None and out_dir is not None and directory != out_dir:
        raise click.UsageError("name the directory once: DIRECTORY, or --out (its older spelling)")
    target = directory or out_dir or Path("exported")
    next_command = shlex.join(["reconciler", "plan", str(target), *follow_up_flags(kw, False)])
    if kw.get("local") and not has_local_account(target):
        raise ConfigError(
            f"there is no local account in {target / STATE_DIR_NAME}: under --local each manifest "
            f"directory has its own account in its {STATE_DIR_NAME}/ (made by `reconciler apply "
            f"{shlex.quote(str(target))} --local`); name the manifest directory whose local "
            "account to export"
        )
    result = asyncio.run(export_live(connection_from(kw, (str(target),), None)))
    written = result.write(target, force=force)
    for warning in result.warnings:
        click.echo(f"Warning: {printable(warning)}", err=True)
    if output_format == "json":
        emit(export_document(result, target, written, next_command))
        return
    click.echo(f"Exported account {result.account_id}: {count(len(written), 'file')} in {target}")
    if result.env_vars:
        click.echo("Secret values cannot be read back; set these before `reconciler plan`:")
        for var in result.env_vars:
            click.echo(f"  {var.name}  ({printable(var.label)})")
    click.echo(f"Then run: {next_command}")


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
