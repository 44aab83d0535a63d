"""`reconciler apply`: plan (or check a saved plan), confirm, apply with progress, report."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from reconciler.apply import ApplyReport, Outcome, SecretUpdate
from reconciler.cli.exits import handle_errors
from reconciler.cli.options import (
    allow_commands_option,
    allow_outside_option,
    connection_from,
    connection_options,
    load,
    max_stores_option,
    paths_argument,
    with_plan_options,
)
from reconciler.cli.output import emit, json_format_option
from reconciler.documents import apply_document
from reconciler.errors import ApplyError, CancelledError, ConfigError, PlanConflictError
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.planfile import read_plan
from reconciler.plan.render_common import describe
from reconciler.plan.render_text import render_text
from reconciler.plan.secret_update import as_applied
from reconciler.sentences import absent_warning, error_sentence, interrupted_report, report_lines
from reconciler.workflow import open_session


@click.command()
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
@json_format_option
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
    output_format: str,
    prune: bool,
    force: bool,
    replace: tuple[str, ...],
    allow_outside_files: bool,
    allow_commands: bool,
    **kw: Any,
) -> None:
    """Carry out the plan: plan, confirm, apply; or apply a saved plan with --plan."""
    manifests = load(paths, allow_outside_files, allow_commands)
    connection = connection_from(kw, paths, manifests)
    if plan_file is not None and (prune or force or replace):
        raise ConfigError(
            "--prune, --force and --replace belong to the saved plan; "
            "pass them to `reconciler plan --out` and apply that plan"
        )
    saved = read_plan(plan_file) if plan_file is not None else None
    as_json = output_format == "json"
    # Under --format json stdout holds only the document: the plan and progress go to stderr.
    console = Console(soft_wrap=True, stderr=as_json)
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
            shown.append(todo)
            render_text(as_applied(todo, secret_update), console)
            todo.raise_if_conflicts()
            if not todo.has_changes:
                return None
            if saved is None and not auto_approve:
                _confirm(err=as_json)
            stores.extend(sorted(live.stores))
            applying.append(todo)
            with _progress_bar(console, len(todo.actions)) as advance:

                def on_outcome(outcome: Outcome) -> None:
                    outcomes.append(outcome)
                    _progress(console, outcome, stores)
                    advance()

                return await session.apply(
                    todo, manifests, live, secret_update=secret_update, on_outcome=on_outcome
                )

    shown: list[Plan] = []  # the plan, once made
    applying: list[Plan] = []  # the plan, once apply has started changing things
    outcomes: list[Outcome] = []
    stores: list[str] = []

    def document(report: ApplyReport | None, interrupted: bool = False, message: str = "") -> None:
        if as_json and shown:
            emit(
                apply_document(
                    shown[0],
                    report,
                    secret_update=secret_update,
                    interrupted=interrupted,
                    stores=stores,
                    message=message,
                )
            )

    try:
        report = asyncio.run(run())
    except KeyboardInterrupt:
        if not applying:
            raise
        report = interrupted_report(applying[0], outcomes)
        document(report, interrupted=True)
        _report(report, interrupted=True)
    except PlanConflictError as exc:
        document(None, message=error_sentence(exc))
        raise
    document(report, message="No changes; nothing was applied.")
    if report is not None:
        _report(report, quiet=as_json)


def _confirm(*, err: bool = False) -> None:
    """Ask before applying; Ctrl-C (or end of input) at the prompt cancels at once.

    asyncio.run's SIGINT handler only cancels the task at its next await, and the prompt
    blocks in input(), so the first Ctrl-C would be swallowed: Python's own handler is put
    back for the prompt.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        approved = click.confirm("Apply these changes?", default=False, err=err)
    except click.Abort:
        click.echo("", err=True)  # end the prompt's line (the terminal shows ^C)
        approved = False
    finally:
        signal.signal(signal.SIGINT, previous)
    if not approved:
        raise CancelledError("Apply cancelled; nothing was changed.")


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
    if outcome.note:  # how it was done, when that is not what the plan said
        what += f" ({outcome.note})"
    if outcome.status == "done":
        console.print(Text.assemble(("done", "green"), f"    {what}"), highlight=False)
    elif outcome.status == "failed":
        reason = error_sentence(outcome.error, stores)
        console.print(Text.assemble(("failed", "red"), f"  {what}: {reason}"), highlight=False)
        if outcome.secret_absent:
            console.print(Text(absent_warning(outcome), style="bold red"), highlight=False)
    else:
        skipped = f" {what} (not started after an earlier failure)"
        console.print(Text.assemble(("skipped", "yellow"), skipped), highlight=False)


def _report(report: ApplyReport, *, interrupted: bool = False, quiet: bool = False) -> None:
    """The closing line on success (`quiet`: the JSON document said it); else ApplyError."""
    lines = report_lines(report, interrupted=interrupted)
    if report.ok and not interrupted:
        if not quiet:
            click.echo(lines[0])
        return
    raise ApplyError("\n".join(lines), report)
