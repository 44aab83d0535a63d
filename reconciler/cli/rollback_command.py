"""`reconciler rollback WORKER [--to VERSION]`: an emergency rollback from the command line.

The same deployment a `rollout: {version: N}` commit makes (`apply_steps/deployment.py`),
made now, without a manifest; it prints the manifest change that keeps it, because the next
apply of a manifest without the pin deploys the manifest's version again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from reconciler.apply_steps.deployment import Rollback, roll_back
from reconciler.cli.exits import handle_errors
from reconciler.cli.options import connection_from, connection_options
from reconciler.cli.output import emit, json_format_option
from reconciler.documents import RollbackDocument
from reconciler.untrusted import printable
from reconciler.workflow import Connection, open_session


@click.command()
@click.argument("worker")
@click.option(
    "--to",
    "to",
    metavar="VERSION",
    help="The version to serve all traffic: its id or number (default: the newest version "
    "older than the one serving now).",
)
@click.option("--message", help="The deployment's workers/message (default: names the version).")
@json_format_option
@connection_options
@handle_errors
def rollback(
    worker: str, to: str | None, message: str | None, output_format: str, **kw: Any
) -> None:
    """Deploy one version of WORKER to all traffic now; prints the manifest change that keeps
    it (commit it, or the next apply deploys the manifest's version again)."""
    account, done = asyncio.run(_run(connection_from(kw, (), None), worker, to, message))
    if output_format == "json":
        emit(
            RollbackDocument(
                account_id=account,
                worker=done.worker,
                before=done.before,
                after=done.after,
                version_id=done.version_id,
                number=done.number,
                forced=done.forced,
                manifest_change=done.manifest_change(),
            )
        )
        return
    name = printable(done.worker)
    click.echo(f"Rolled back worker {name}: {done.before} -> {done.after} ({done.version_id})")
    if done.forced:
        click.echo("Its secrets changed since that version: deployed with force.")
    click.echo(
        "Keep it in the manifest, or the next apply deploys the manifest's version again:\n"
        f"  - name: {name}\n"
        f"    {done.manifest_change()}"
    )


async def _run(
    connection: Connection, worker: str, to: str | None, message: str | None
) -> tuple[str, Rollback]:
    async with open_session(connection, None) as session:
        done = await roll_back(session.client, session.account, worker, to, message)
        return session.account, done
