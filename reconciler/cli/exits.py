"""The one place where exceptions become messages and exit codes.

Exit codes (a contract for CI): 0 success / no changes, 1 error, 2 changes present
(plan --detailed-exitcode, drift), 3 conflicts.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.cli.output import command_name, emit, emitted, json_mode
from reconciler.documents import error_document
from reconciler.errors import (
    EXIT_ERROR,
    CancelledError,
    ManifestError,
    ReconcilerError,
)
from reconciler.sentences import error_sentence
from reconciler.untrusted import printable

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int, error: BaseException | None = None) -> None:
    if json_mode() and not emitted():
        emit(error_document(command_name(), error or Exception(message), code))
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn our exceptions into one clear message on stderr and the documented exit code
    (under `--format json`, also the error document on stdout, unless one was printed)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ManifestError as exc:
            for problem in exc.problems:
                click.echo(printable(str(problem)), err=True)
            _fail(error_sentence(exc), exc.exit_code, exc)
        except CancelledError as exc:
            # The user said no: say what happened, without calling it an error.
            if json_mode() and not emitted():
                emit(error_document(command_name(), exc, exc.exit_code))
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except ReconcilerError as exc:
            _fail(error_sentence(exc), exc.exit_code, exc)
        except KeyboardInterrupt:
            _fail(
                "interrupted; run the command again (apply converges from where it stopped)",
                EXIT_ERROR,
            )

    return wrapper  # type: ignore[return-value]
