"""The tools' work, on top of `reconciler.workflow`: no MCP types here, only our own.

Each method raises our own errors (`reconciler.errors`); `server.py` turns them into
tool errors worded as the CLI words them.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from reconciler import local
from reconciler.apply import ApplyReport, SecretUpdate
from reconciler.documents import ProblemItem
from reconciler.errors import (
    EXIT_CHANGES,
    EXIT_CONFLICTS,
    EXIT_OK,
    ApiError,
    ConfigError,
    ManifestError,
)
from reconciler.manifest.merge import ManifestSet, load_manifests
from reconciler.mcp.plans import PlanBook, ShownPlan
from reconciler.mcp.results import (
    ApplyResult,
    DriftResult,
    EnvVarItem,
    ExplainResult,
    ExportResult,
    PlanResult,
    ValidateResult,
    outcome_item,
)
from reconciler.mcp.workspace import confine, relative
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.render_text import render_text
from reconciler.sentences import error_sentence, report_lines, valid_summary
from reconciler.workflow import Connection, export_live, open_session

TEXT_WIDTH = 100
_CODE = re.compile(r"(?<![\d.])(\d{4,5})(?![\d.])")
_STATUS = re.compile(r"\b(?:HTTP|status)\s*(\d{3})\b", re.IGNORECASE)


@dataclass(frozen=True)
class ServerConfig:
    """What `reconciler mcp` was started with."""

    connection: Connection
    workspace: Path
    paths: tuple[str, ...]
    allow_apply: bool = False
    allow_outside_files: bool = False


def plan_text(plan: Plan, *, drift: bool = False) -> str:
    """The terminal rendering, without colour codes, as one string."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=TEXT_WIDTH, color_system=None, soft_wrap=True)
    render_text(plan, console, drift=drift)
    return buffer.getvalue()


class Tools:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.plans = PlanBook()
        # One apply at a time: two agents' applies must not interleave their writes.
        self._apply_lock = asyncio.Lock()

    def manifest_paths(self, paths: Sequence[str] | None) -> tuple[Path, ...]:
        """The agent's paths, confined to the workspace; none given: the server's own.

        Relative to the workspace (the server's working directory), as messages name them.
        """
        root = self.config.workspace
        if not paths:
            return tuple(Path(p) for p in self.config.paths)
        return tuple(Path(relative(confine(p, root, what="manifest"), root)) for p in paths)

    def load(self, paths: Sequence[Path]) -> ManifestSet:
        return load_manifests(paths, allow_outside_files=self.config.allow_outside_files)

    async def validate(self, paths: Sequence[str] | None) -> ValidateResult:
        try:
            manifests = self.load(self.manifest_paths(paths))
        except ManifestError as exc:
            return ValidateResult(
                valid=False,
                problems=[ProblemItem.of_problem(p) for p in exc.problems],
                warnings=[],
                summary=error_sentence(exc),
            )
        return ValidateResult(
            valid=True,
            problems=[],
            warnings=[ProblemItem.of_problem(w) for w in manifests.warnings],
            summary=valid_summary(manifests),
        )

    def connection(self, paths: Sequence[Path], manifests: ManifestSet | None) -> Connection:
        """As the CLI binds it: under --local, the embedded emulator of these manifests."""
        account = manifests.state.account_id if manifests is not None else None
        zones = local.zone_names(manifests.state) if manifests is not None else ()
        return self.config.connection.for_manifests([str(p) for p in paths], account, zones)

    async def _plan(
        self, paths: Sequence[Path], manifests: ManifestSet, options: PlanOptions
    ) -> Plan:
        connection = self.connection(paths, manifests)
        async with open_session(connection, manifests.state.account_id) as session:
            plan, _ = await session.plan(manifests, options)
            return plan

    async def plan(
        self, paths: Sequence[str] | None, *, prune: bool, replace: Sequence[str], force: bool
    ) -> PlanResult:
        resolved = self.manifest_paths(paths)
        manifests = self.load(resolved)
        options = PlanOptions(prune=prune, force=force, replace=list(replace))
        plan = await self._plan(resolved, manifests, options)
        plan_id = self.plans.add(ShownPlan(plan, resolved))
        code = EXIT_CONFLICTS if plan.conflicts else EXIT_CHANGES if plan.has_changes else EXIT_OK
        return PlanResult(
            plan_id=plan_id,
            plan=plan.to_dict(),
            text=plan_text(plan),
            has_changes=plan.has_changes,
            has_conflicts=bool(plan.conflicts),
            exit_code=code,
        )

    async def drift(self, paths: Sequence[str] | None, *, fail_on_unmanaged: bool) -> DriftResult:
        resolved = self.manifest_paths(paths)
        manifests = self.load(resolved)
        # As `reconciler drift`: managed leftovers count (prune), nothing is ever applied.
        plan = await self._plan(resolved, manifests, PlanOptions(prune=True, force=True))
        drifted = plan.has_changes or (fail_on_unmanaged and bool(plan.unmanaged))
        code = EXIT_CONFLICTS if plan.conflicts else EXIT_CHANGES if drifted else EXIT_OK
        return DriftResult(
            in_sync=code == EXIT_OK,
            report=plan.to_dict(),
            text=plan_text(plan, drift=True),
            exit_code=code,
        )

    async def explain_error(
        self,
        *,
        code: int | None,
        message: str | None,
        status: int | None,
        method: str | None,
        path: str | None,
    ) -> ExplainResult:
        error = api_error_from(code=code, message=message, status=status, method=method, path=path)
        sentence = error_sentence(error)
        return ExplainResult(sentence=sentence[:1].upper() + sentence[1:])

    async def export(self, directory: str, *, force: bool) -> ExportResult:
        root = self.config.workspace
        target = confine(directory, root, what="export directory")
        if target.exists() and not target.is_dir():
            raise ConfigError(f"{relative(target, root)} exists and is not a directory")
        # Under --local: the account of the server's manifests (as `reconciler export --local`).
        connection = self.connection(self.manifest_paths(None), None)
        result = await export_live(connection)
        written = result.write(target, force=force)
        return ExportResult(
            account_id=result.account_id,
            directory=relative(target, root),
            files=[relative(p, root) for p in written],
            env_vars=[
                EnvVarItem(name=v.name, store=v.store, secret=v.secret) for v in result.env_vars
            ],
            warnings=list(result.warnings),
        )

    async def apply(self, plan_id: str, *, secret_update: SecretUpdate) -> ApplyResult:
        shown = self.plans.get(plan_id)
        async with self._apply_lock:
            manifests = self.load(shown.paths)
            connection = self.connection(shown.paths, manifests)
            async with open_session(connection, manifests.state.account_id) as session:
                # The check of `reconciler apply --plan`: a fresh plan runs, only if it equals
                # the plan that was shown.
                todo, live = await session.check_saved_plan(shown.plan, manifests)
                todo.raise_if_conflicts()
                if not todo.has_changes:
                    return ApplyResult(
                        applied=False,
                        ok=True,
                        done=[],
                        failed=[],
                        not_started=[],
                        absent_secrets=[],
                        text="No changes: the account already matches the manifests.",
                    )
                stores = sorted(live.stores)
                report = await session.apply(todo, manifests, live, secret_update=secret_update)
        return _apply_result(report, stores)


def _apply_result(report: ApplyReport, stores: list[str]) -> ApplyResult:
    def items(status: str) -> list[Any]:
        return [
            outcome_item(o, error_sentence(o.error, stores) if o.error is not None else None)
            for o in report.outcomes
            if o.status == status
        ]

    return ApplyResult(
        applied=True,
        ok=report.ok,
        done=items("done"),
        failed=items("failed"),
        not_started=items("not_started"),
        absent_secrets=report.absent_secrets,
        text="\n".join(report_lines(report)),
    )


def api_error_from(
    *,
    code: int | None,
    message: str | None,
    status: int | None,
    method: str | None,
    path: str | None,
) -> ApiError:
    """An ApiError from what an agent saw: a code, a message, or a pasted API envelope."""
    text = (message or "").strip()
    codes: list[int] = [] if code is None else [code]
    envelope = _envelope_errors(text)
    if envelope:
        codes += [c for c, _ in envelope if c not in codes]
        text = "; ".join(m for _, m in envelope if m) or text
    elif text:
        codes += [int(c) for c in _CODE.findall(text) if int(c) not in codes]
    if not codes and not text:
        raise ConfigError("explain_error needs an API error code, a message, or both")
    if status is None:
        found = _STATUS.search(message or "")
        status = int(found.group(1)) if found else 400
    return ApiError(
        status=status,
        codes=tuple(codes),
        message=text or "no message",
        method=method or "the",
        path=path or "API call",
    )


def _envelope_errors(text: str) -> list[tuple[int, str]]:
    """`errors[{code, message}]` of a pasted Cloudflare envelope; [] when it is not one."""
    if not text.startswith("{"):
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list):
        return []
    found = []
    for item in errors:
        if isinstance(item, dict) and isinstance(item.get("code"), int):
            found.append((int(item["code"]), str(item.get("message", ""))))
    return found
