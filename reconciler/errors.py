"""Our exception hierarchy.

Every failure the user can meet is one of these. Only the CLI turns them into
messages and exit codes, so library code raises and never prints or exits.
Messages never carry secret values or tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_CONFLICTS = 3


class ReconcilerError(Exception):
    """Base of everything we raise on purpose; exit code 1 unless a subclass says otherwise."""

    exit_code = EXIT_ERROR


@dataclass(frozen=True)
class Location:
    """A spot in a manifest file (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One manifest problem: where it is and what is expected."""

    location: Location
    message: str
    related: tuple[Location, ...] = field(default=())

    def __str__(self) -> str:
        also = "".join(f" (also at {loc})" for loc in self.related)
        return f"{self.location}: {self.message}{also}"


class ManifestError(ReconcilerError):
    """The manifest set is invalid; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ValueSourceError(ReconcilerError):
    """A secret's value source (env var or file) cannot be read. Names the source, never a value."""


class ConfigError(ReconcilerError):
    """Bad or missing configuration: token, account, base URL, flags."""


class ApiError(ReconcilerError):
    """A Cloudflare API call failed.

    Carries what a human needs to act: HTTP status, Cloudflare error codes and
    messages, method and path. Never the request body (it may hold a secret).
    """

    def __init__(
        self,
        *,
        status: int,
        codes: tuple[int, ...],
        message: str,
        method: str,
        path: str,
        retry_after: float | None = None,
        permission: str | None = None,
    ) -> None:
        self.status = status
        self.codes = codes
        self.api_message = message
        self.method = method
        self.path = path
        self.retry_after = retry_after
        # The token permission the call needed, e.g. "Secrets Store Write" (for code 10000).
        self.permission = permission
        # The server asked (credentials removed) and where its URL came from (flag, variable).
        self.base_url: str | None = None
        self.base_url_source: str | None = None
        code_text = ",".join(str(c) for c in codes) or "none"
        super().__init__(f"{method} {path} failed: HTTP {status}, code {code_text}: {message}")

    def has_code(self, code: int) -> bool:
        return code in self.codes


class PlanConflictError(ReconcilerError):
    """The plan has conflicts; apply changes nothing."""

    exit_code = EXIT_CONFLICTS

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("the plan has conflicts:\n" + "\n".join(f"  - {m}" for m in messages))


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches live state or the manifests."""


class UnsafePlanError(ReconcilerError):
    """The applier was handed a plan that breaks its invariants; it made no call."""


class ApplyError(ReconcilerError):
    """Apply stopped after a failure; the report says what was done, failed and not started."""

    def __init__(self, message: str, report: object) -> None:
        self.report = report
        super().__init__(message)


class CancelledError(ReconcilerError):
    """The user declined (or interrupted) the confirmation: not a failure, nothing was changed."""
