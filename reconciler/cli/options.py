"""The command line's shared pieces: the program's help layout, the options commands share,
and turning those options into a Connection (and logging)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler import local
from reconciler.credentials import CREDENTIAL_VARS
from reconciler.manifest.merge import ManifestSet, load_manifests
from reconciler.untrusted import UntrustedFormatter
from reconciler.workflow import Connection

F = TypeVar("F", bound=Callable[..., Any])


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


def load(paths: tuple[str, ...], allow_outside_files: bool, allow_commands: bool) -> ManifestSet:
    return load_manifests(
        paths or DEFAULT_PATHS,
        allow_outside_files=allow_outside_files,
        allow_commands=allow_commands,
        allow_credential_env=_credential_env(),
    )


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


def follow_up_flags(
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


def connection_from(
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
    ).for_manifests(
        paths or DEFAULT_PATHS,
        manifest_account,
        local.zone_names(manifests.state) if manifests is not None else (),
    )


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
