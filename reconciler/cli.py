"""Command line. The one place where exceptions become messages and exit codes.

Exit codes (a contract for CI): 0 success / no changes, 1 error, 2 changes present
(plan --detailed-exitcode, drift), 3 conflicts.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from reconciler import __version__
from reconciler.apply import ApplyReport, Outcome, SecretUpdate
from reconciler.cloudflare.explain import explain
from reconciler.credentials import CREDENTIAL_VARS
from reconciler.errors import (
    EXIT_CHANGES,
    EXIT_CONFLICTS,
    EXIT_ERROR,
    ApiError,
    ApplyError,
    CancelledError,
    ConfigError,
    ManifestError,
    ReconcilerError,
)
from reconciler.manifest.merge import ManifestSet, load_manifests, resolve_all
from reconciler.manifest.models import manifest_json_schema
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.planfile import read_plan, write_plan
from reconciler.plan.render_common import describe
from reconciler.plan.render_json import render_json
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text
from reconciler.untrusted import UntrustedFormatter, printable, printable_lines
from reconciler.words import count
from reconciler.workflow import Connection, open_session

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn our exceptions into one clear message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ManifestError as exc:
            for problem in exc.problems:
                click.echo(printable(str(problem)), err=True)
            _fail(error_sentence(exc), exc.exit_code)
        except CancelledError as exc:
            # The user said no: say what happened, without calling it an error.
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except ReconcilerError as exc:
            _fail(error_sentence(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail(
                "interrupted; run the command again (apply converges from where it stopped)",
                EXIT_ERROR,
            )

    return wrapper  # type: ignore[return-value]


def error_sentence(error: BaseException | None, stores: list[str] | None = None) -> str:
    """The one sentence a user reads for one of our errors; the MCP server shows the same."""
    if isinstance(error, ManifestError):
        noun = "problem" if len(error.problems) == 1 else "problems"
        return f"{len(error.problems)} {noun} in the manifests"
    if isinstance(error, ApiError):
        # What the server said is untrusted text, and this sentence is one line.
        return printable(explain(error, stores=stores))
    return printable_lines(str(error))


class FullHelpGroup(click.Group):
    """Lists each command's whole summary, wrapped, where click would cut it with "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=FullHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative reconciler for Cloudflare Workers scripts and Secrets Store."""


DEFAULT_PATHS = ("manifests",)

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))
allow_outside_option = click.option(
    "--allow-outside-files",
    is_flag=True,
    help="Let script, modules and value_from files leave the manifest directory "
    "(absolute paths, .., symbolic links); they must still be regular files.",
)


_allow_commands = click.option(
    "--allow-commands",
    is_flag=True,
    help="Let value_from: {command: [...]} run its program. Only for manifests you trust "
    "(never a pull request's).",
)


def _remember_credential_env(ctx: click.Context, _: object, names: tuple[str, ...]) -> None:
    ctx.meta[CREDENTIAL_ENV_META] = tuple(names)


CREDENTIAL_ENV_META = "reconciler.allow_credential_env"
_allow_credential_env = click.option(
    "--allow-credential-env",
    "allow_credential_env",
    metavar="NAME",
    multiple=True,
    expose_value=False,
    callback=_remember_credential_env,
    help="Let value_from: {env: NAME} read NAME although it holds reconciler's own "
    f"credentials ({', '.join(sorted(CREDENTIAL_VARS))}); repeat for each. Only for "
    "manifests you trust.",
)


def allow_commands_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """What manifests may run or read beyond their own files: programs, credential variables."""
    return _allow_commands(_allow_credential_env(f))


def _credential_env() -> tuple[str, ...]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(CREDENTIAL_ENV_META, ()) if ctx is not None else ()


def _load(paths: tuple[str, ...], allow_outside_files: bool, allow_commands: bool) -> ManifestSet:
    return load_manifests(
        paths or DEFAULT_PATHS,
        allow_outside_files=allow_outside_files,
        allow_commands=allow_commands,
        allow_credential_env=_credential_env(),
    )


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
    manifests = _load(paths, allow_outside_files, allow_commands)
    if resolve:
        failed = resolve_all(manifests)
        if failed:
            raise ManifestError(failed)
    for warning in manifests.warnings:
        click.echo(f"warning: {printable(str(warning))}", err=True)
    click.echo(valid_summary(manifests))


def valid_summary(manifests: ManifestSet) -> str:
    """What `validate` prints last (the MCP validate tool returns the same)."""
    state = manifests.state
    noted = f" ({_count(len(manifests.warnings), 'warning')} above)" if manifests.warnings else ""
    return (
        f"Valid: {_count(len(state.stores), 'store')}, {_count(len(state.secrets), 'secret')}, "
        f"{_count(len(state.workers), 'worker')} in {_count(len(manifests.files), 'file')}{noted}."
    )


_count = count


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the manifest format (for editors)."""
    click.echo(json.dumps(manifest_json_schema(), indent=2, sort_keys=True))


def option_group(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, applied in the order listed."""

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


# Flags shared by every command that talks to an account.
connection_options = option_group(
    click.option(
        "--local",
        is_flag=True,
        help="Use the built-in emulator (state in .reconciler/ of the manifest directory).",
    ),
    click.option("--account-id", help="Account to use (else CLOUDFLARE_ACCOUNT_ID)."),
    click.option("--api-base-url", help="API base URL (else CLOUDFLARE_API_BASE_URL)."),
    click.option("--concurrency", type=click.IntRange(1, 64), help="Parallel requests (8)."),
    click.option(
        "--rate-limit",
        type=click.IntRange(1),
        help="Most requests per 5 minutes this run may send (1200).",
    ),
    click.option("--no-cache", is_flag=True, help="Ignore .reconciler/cache."),
    click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=1, min_open=False),
        help="Seconds each API request may take in all, connect to last byte (60).",
    ),
    click.option(
        "--max-wait",
        "max_wait_s",
        type=click.FloatRange(min=0),
        help="Seconds this run may wait in all before retries (else RECONCILER_MAX_WAIT, 300).",
    ),
    click.option("-v", "--verbose", count=True, help="Log API calls (never values or tokens)."),
)


# Only where a plan is made: the store-limit conflict (export has no use for it).
max_stores_option = click.option(
    "--max-stores",
    type=click.IntRange(0),
    help="The account's store limit (else RECONCILER_MAX_STORES, else 1).",
)


def _hint_flags(
    kw: dict[str, Any], allow_outside_files: bool, allow_commands: bool = False
) -> list[str]:
    """The flags a follow-up command needs to reach the same account and read the same files."""
    flags = ["--local"] if kw.get("local") else []
    for name in ("account_id", "api_base_url", "max_stores"):
        if kw.get(name) is not None:
            flags += [f"--{name.replace('_', '-')}", str(kw[name])]
    flags += ["--allow-outside-files"] if allow_outside_files else []
    flags += [f for name in _credential_env() for f in ("--allow-credential-env", name)]
    return flags + (["--allow-commands"] if allow_commands else [])


def _connection(
    kw: dict[str, Any], paths: tuple[str, ...], manifests: ManifestSet | None
) -> Connection:
    """The flags as a Connection; under --local, the embedded emulator of this manifest set."""
    _logging(kw.pop("verbose"))
    account_id = kw.pop("account_id")
    manifest_account = manifests.state.account_id if manifests is not None else None
    return Connection(
        local=kw.pop("local"),
        account_id=account_id,
        api_base_url=kw.pop("api_base_url"),
        concurrency=kw.pop("concurrency"),
        rate_limit=kw.pop("rate_limit"),
        no_cache=kw.pop("no_cache"),
        max_stores=kw.pop("max_stores", None),
        timeout_s=kw.pop("timeout_s"),
        max_wait_s=kw.pop("max_wait_s"),
    ).for_manifests(paths or DEFAULT_PATHS, manifest_account)


def _logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    # Log lines carry paths, names and API messages: control characters are escaped.
    main = logging.StreamHandler(sys.stderr)
    main.setFormatter(UntrustedFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[main], force=True)
    # Every wait for the rate limit is named, as a plain line (on a terminal and in CI).
    waits = logging.getLogger("reconciler.wait")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(UntrustedFormatter("%(message)s"))
    waits.handlers, waits.propagate = [handler], False
    # Our client logs each call (method, path, status); httpx's and asyncio's lines add noise.
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


with_plan_options = option_group(
    click.option("--prune", is_flag=True, help="Delete managed resources no manifest declares."),
    click.option("--force", is_flag=True, help="Allow a plan past the safety threshold."),
    click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="SECRET",
        help="Rotate this secret's value (STORE/NAME or NAME); repeatable.",
    ),
)


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts (the plan JSON), markdown for a PR comment.",
)


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
    hint_flags = _hint_flags(kw, allow_outside_files, allow_commands)
    manifests = _load(paths, allow_outside_files, allow_commands)
    connection = _connection(kw, paths, manifests)
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
    manifests = _load(paths, allow_outside_files, allow_commands)
    connection = _connection(kw, paths, manifests)
    # Drift lists what differs, managed leftovers included (prune); it never applies anything.
    result = asyncio.run(_plan(connection, manifests, PlanOptions(prune=True, force=True)))
    _render(result, output_format, drift_options={"fail_on": fail_on})
    if result.conflicts:
        sys.exit(EXIT_CONFLICTS)
    if result.has_changes or (fail_on == "unmanaged" and result.unmanaged):
        sys.exit(EXIT_CHANGES)


@cli.command()
@paths_argument
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path),
    help="Apply a saved plan: planned afresh, run only when equal to the file.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--secret-update",
    type=click.Choice(["replace", "patch"]),
    default="replace",
    show_default=True,
    help="How a value change is written: delete then recreate, or PATCH first (falls back).",
)
@with_plan_options
@allow_outside_option
@allow_commands_option
@connection_options
@max_stores_option
@handle_errors
def apply(
    paths: tuple[str, ...],
    plan_file: Path | None,
    auto_approve: bool,
    secret_update: SecretUpdate,
    prune: bool,
    force: bool,
    replace: tuple[str, ...],
    allow_outside_files: bool,
    allow_commands: bool,
    **kw: Any,
) -> None:
    """Carry out the plan: plan, confirm, apply; or apply a saved plan with --plan."""
    manifests = _load(paths, allow_outside_files, allow_commands)
    connection = _connection(kw, paths, manifests)
    if plan_file is not None and (prune or force or replace):
        raise ConfigError(
            "--prune, --force and --replace belong to the saved plan; "
            "pass them to `reconciler plan --out` and apply that plan"
        )
    saved = read_plan(plan_file) if plan_file is not None else None
    console = Console(soft_wrap=True)
    if saved is None and not auto_approve and not sys.stdin.isatty():
        raise ConfigError(
            "apply asks for confirmation, but there is no terminal; "
            "pass --auto-approve, or apply a reviewed plan with --plan PLANFILE"
        )

    async def run() -> ApplyReport | None:
        async with open_session(connection, manifests.state.account_id) as session:
            if saved is not None:
                todo, live = await session.check_saved_plan(saved, manifests)
            else:
                options = PlanOptions(prune=prune, force=force, replace=list(replace))
                todo, live = await session.plan(manifests, options)
            render_text(todo, console)
            todo.raise_if_conflicts()
            if not todo.has_changes:
                return None
            if saved is None and not auto_approve:
                _confirm()
            stores = sorted(live.stores)
            applying.append(todo)
            with _progress_bar(console, len(todo.actions)) as advance:

                def on_outcome(outcome: Outcome) -> None:
                    outcomes.append(outcome)
                    _progress(console, outcome, stores)
                    advance()

                return await session.apply(
                    todo, manifests, live, secret_update=secret_update, on_outcome=on_outcome
                )

    applying: list[Plan] = []  # the plan, once apply has started changing things
    outcomes: list[Outcome] = []
    try:
        report = asyncio.run(run())
    except KeyboardInterrupt:
        if not applying:
            raise
        _report(_interrupted(applying[0], outcomes), interrupted=True)
    if report is not None:
        _report(report)


def _confirm() -> None:
    """Ask before applying; Ctrl-C (or end of input) at the prompt cancels at once.

    asyncio.run's SIGINT handler only cancels the task at its next await, and the prompt
    blocks in input(), so the first Ctrl-C would be swallowed: Python's own handler is put
    back for the prompt.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        approved = click.confirm("Apply these changes?", default=False)
    except click.Abort:
        click.echo("", err=True)  # end the prompt's line (the terminal shows ^C)
        approved = False
    finally:
        signal.signal(signal.SIGINT, previous)
    if not approved:
        raise CancelledError("Apply cancelled; nothing was changed.")


def _interrupted(plan: Plan, outcomes: list[Outcome]) -> ApplyReport:
    """The report of an apply stopped by Ctrl-C: what finished, what was cut, what never ran."""
    reached = {id(o.action) for o in outcomes}
    waiting = [Outcome(a, "not_started") for a in plan.actions if id(a) not in reached]
    return ApplyReport(outcomes=[*outcomes, *waiting])


@contextmanager
def _progress_bar(console: Console, total: int) -> Iterator[Callable[[], None]]:
    """A live bar on a terminal; CI logs get only the plain per-action lines."""
    if not console.is_terminal:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("applying"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("apply", total=total)
        yield lambda: progress.advance(task)


def _progress(console: Console, outcome: Outcome, stores: list[str]) -> None:
    # Text, never markup: a name holding `[` cannot restyle the line.
    what = describe(outcome.action)
    if outcome.status == "done":
        console.print(Text.assemble(("done", "green"), f"    {what}"), highlight=False)
    elif outcome.status == "failed":
        reason = error_sentence(outcome.error, stores)
        console.print(Text.assemble(("failed", "red"), f"  {what}: {reason}"), highlight=False)
        if outcome.secret_absent:
            console.print(Text(_absent_warning(outcome), style="bold red"), highlight=False)
    else:
        skipped = f" {what} (not started after an earlier failure)"
        console.print(Text.assemble(("skipped", "yellow"), skipped), highlight=False)


def _absent_warning(outcome: Outcome) -> str:
    now = (
        "it is ABSENT now"
        if outcome.absent_confirmed
        else "it may be ABSENT now (not confirmed by a read of the account)"
    )
    return (
        f"WARNING: secret {printable(outcome.action.label)} was deleted for replacement and "
        f"could not be recreated; {now}. Rerun `reconciler apply` to recreate it."
    )


def _report(report: ApplyReport, *, interrupted: bool = False) -> None:
    lines = report_lines(report, interrupted=interrupted)
    if report.ok and not interrupted:
        click.echo(lines[0])
        return
    raise ApplyError("\n".join(lines), report)


def report_lines(report: ApplyReport, *, interrupted: bool = False) -> list[str]:
    """The apply report as the CLI words it (the MCP apply tool returns the same lines)."""
    done, failed, waiting = (report.with_status(s) for s in ("done", "failed", "not_started"))
    if report.ok and not interrupted:
        return [f"Apply complete: {_count(len(done), 'change')} made."]
    stopped = "apply interrupted (Ctrl-C)" if interrupted else "apply stopped"
    lines = [
        f"{stopped}: {len(done)} done, {len(failed)} failed, {len(waiting)} not started.",
        *(f"  failed: {describe(o.action)}" for o in failed),
        *(f"  not started: {describe(o.action)}" for o in waiting),
    ]
    lines += [f"  {_absent_warning(o)}" for o in report.outcomes if o.secret_absent]
    again = "Run" if interrupted else "Fix the cause and run"
    lines.append(f"{again} apply again: it converges from where it stopped.")
    return lines


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
    from reconciler.export import Export, export_account

    connection = _connection(kw, (), None)

    async def run() -> Export:
        async with open_session(connection, None) as session:
            return await export_account(session.client, session.account, await session.read())

    result = asyncio.run(run())
    written = result.write(out_dir, force=force)
    for warning in result.warnings:
        click.echo(f"Warning: {printable(warning)}", err=True)
    click.echo(f"Exported account {result.account_id}: {_count(len(written), 'file')} in {out_dir}")
    if result.env_vars:
        click.echo("Secret values cannot be read back; set these before `reconciler plan`:")
        for var in result.env_vars:
            click.echo(f"  {var.name}  ({printable(var.label)})")
    click.echo(f"Then run: reconciler plan {out_dir}")


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
    connection = _connection(kw, paths, None)
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


def main() -> None:
    cli(prog_name="reconciler")
