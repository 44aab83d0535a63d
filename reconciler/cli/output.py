"""`--format json` for every command that reports: the option, and printing the document.

A command plugs in with `json_format_option` (text|json) or the plan's `format_option`, and
prints its document with `emit`; when it stops on an error before printing one,
`exits.handle_errors` prints the error document instead. So stdout holds exactly one JSON
document, with the text mode's exit code; progress and notices go to stderr.
"""

from __future__ import annotations

import click
from pydantic import BaseModel

from reconciler.documents import dumps

_EMITTED = "reconciler.document_emitted"

json_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts: one JSON document on stdout "
    "(schema: `reconciler schema --document COMMAND`).",
)


def json_mode() -> bool:
    """Whether the running command prints a JSON document (`--format json`)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.params.get("output_format") == "json"


def emit(document: BaseModel) -> None:
    """Print the command's one document on stdout."""
    ctx = click.get_current_context()
    click.echo(dumps(document), nl=False)
    ctx.meta[_EMITTED] = True


def emitted() -> bool:
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(_EMITTED))


def command_name() -> str:
    ctx = click.get_current_context()
    return ctx.info_name or (ctx.command.name or "")
