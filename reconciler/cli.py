"""Command line. The one place where exceptions become messages and exit codes.

Exit codes (a contract for CI): 0 success / no changes, 1 error, 2 changes present
(plan --detailed-exitcode, drift), 3 conflicts.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.errors import EXIT_ERROR, ManifestError, ReconcilerError
from reconciler.manifest.merge import ManifestSet, load_manifests
from reconciler.manifest.models import manifest_json_schema

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
                click.echo(str(problem), err=True)
            noun = "problem" if len(exc.problems) == 1 else "problems"
            _fail(f"{len(exc.problems)} {noun} in the manifests", exc.exit_code)
        except ReconcilerError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def _not_built(name: str) -> None:
    _fail(f"`reconciler {name}` is not built yet", EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative reconciler for Cloudflare Workers scripts and Secrets Store."""


DEFAULT_PATHS = ("manifests",)

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))
allow_outside_option = click.option(
    "--allow-outside-files",
    is_flag=True,
    help="Let value_from files leave the manifest directory (.. and symbolic links).",
)


def _load(paths: tuple[str, ...], allow_outside_files: bool) -> ManifestSet:
    return load_manifests(paths or DEFAULT_PATHS, allow_outside_files=allow_outside_files)


@cli.command()
@paths_argument
@allow_outside_option
@handle_errors
def validate(paths: tuple[str, ...], allow_outside_files: bool) -> None:
    """Check manifests (default: manifests/) and report every problem with file:line:column."""
    manifests = _load(paths, allow_outside_files)
    state = manifests.state
    click.echo(
        f"Valid: {_count(len(state.stores), 'store')}, {_count(len(state.secrets), 'secret')}, "
        f"{_count(len(state.workers), 'worker')} in {_count(len(manifests.files), 'file')}."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the manifest format (for editors)."""
    click.echo(json.dumps(manifest_json_schema(), indent=2, sort_keys=True))


@cli.command()
@handle_errors
def plan() -> None:
    """Show what apply would change."""
    _not_built("plan")


@cli.command()
@handle_errors
def apply() -> None:
    """Carry out a plan."""
    _not_built("apply")


@cli.command()
@handle_errors
def drift() -> None:
    """Exit 2 when the account differs from the manifests."""
    _not_built("drift")


@cli.command()
@handle_errors
def export() -> None:
    """Write manifests from a live account."""
    _not_built("export")


@cli.group()
def emulator() -> None:
    """The local Cloudflare API emulator."""


@emulator.command("serve")
@handle_errors
def emulator_serve() -> None:
    """Serve the emulator over HTTP."""
    _not_built("emulator serve")


def main() -> None:
    cli(prog_name="reconciler")
