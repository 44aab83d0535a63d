"""The JSON documents commands print with `--format json`: one per command, versioned.

Every document is a pydantic model here; the JSON Schema of each command's output ships in
`reconciler/schemas/` (generated from these models: `python -m reconciler.documents`), and a
test validates real output against the shipped files. A command's output is its document,
or the error document when it stops on an error (same exit code as in text mode).

A new command (`rollback`, say) plugs in with three lines of its own: its model here,
added to DOCUMENTS (then regenerate the schemas), and in the CLI `json_format_option` on
the command and `emit(document)` where it is done (`cli/output.py`); the error document
and the exit codes come with `handle_errors`.

`plan` and `drift` print the plan JSON (reconciler/plan/render_json.py), described here
too (PlanDocument, DriftDocument) so that its schema ships beside the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from reconciler.apply import ApplyReport, Outcome
from reconciler.errors import Location, ManifestError, Problem
from reconciler.export import Export
from reconciler.manifest.merge import ManifestSet
from reconciler.plan.model import ActionType, ConflictKind, Plan, ResourceKind, ValueKind
from reconciler.sentences import error_sentence, report_lines, valid_summary

DOCUMENT_VERSION: Final = 1


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- shared parts ---------------------------------------------------------------------------


class Spot(_Document):
    file: str
    line: int = Field(description="1-based; 0 when the problem is about the whole file")
    column: int = Field(description="1-based; 0 when the problem is about the whole file")

    @classmethod
    def of(cls, location: Location) -> Spot:
        return cls(file=location.file, line=location.line, column=location.column)


class ProblemItem(Spot):
    message: str
    related: list[Spot] = Field(default_factory=list, description="Other spots involved")

    @classmethod
    def of_problem(cls, problem: Problem) -> ProblemItem:
        where = problem.location
        return cls(
            file=where.file,
            line=where.line,
            column=where.column,
            message=problem.message,
            related=[Spot.of(loc) for loc in problem.related],
        )


class ErrorDetail(_Document):
    message: str = Field(description="The one sentence the text output prints after `Error:`")
    exit_code: int = Field(description="The command's exit code (1 error, 3 conflicts)")
    problems: list[ProblemItem] = Field(
        default_factory=list, description="Manifest problems, each with its location"
    )


class ErrorDocument(_Document):
    """What any command prints when it stops on an error."""

    version: Literal[1] = 1
    command: str
    error: ErrorDetail


# --- plan and drift: the plan JSON ------------------------------------------------------------


class PlanChange(_Document):
    field: str
    before: Any
    after: Any


class PlanAction(_Document):
    action: ActionType
    kind: ResourceKind
    name: str
    store: str | None
    changes: list[PlanChange]
    reason: str
    worker: str | None = Field(default=None, description="worker_secret only")


class PlanConflict(_Document):
    kind: ConflictKind
    message: str


class PlanSummary(_Document):
    create: int
    update: int
    replace: int
    delete: int
    adopt: int
    no_op: int
    unmanaged: int


class PlanUnmanaged(_Document):
    kind: ResourceKind
    name: str
    store: str | None


class PlanOptionsItem(_Document):
    prune: bool
    force: bool
    replace: list[str]


class PlanValuePin(_Document):
    kind: ValueKind
    name: str
    store: str | None
    worker: str | None = Field(default=None, description="worker_secret only")
    pin: str = Field(description="keyed HMAC of the value, never the value")


class PlanValuePins(_Document):
    salt: str
    pins: list[PlanValuePin]


class DriftOptionsItem(_Document):
    fail_on: Literal["unmanaged"] | None


class PlanDocument(_Document):
    """`plan --format json`, the plan file (`plan --out`), and the plan inside apply's output."""

    version: Literal[1]
    account_id: str
    actions: list[PlanAction] = Field(description="In the order apply runs them")
    conflicts: list[PlanConflict]
    summary: PlanSummary
    live_digest: str
    manifest_digest: str
    warnings: list[str]
    unmanaged: list[PlanUnmanaged]
    options: PlanOptionsItem
    value_pins: PlanValuePins | None = Field(
        description="A keyed pin of every value the plan resolved (null: made without a key)"
    )


class DriftDocument(PlanDocument):
    """`drift --format json`: the plan JSON with drift's own options."""

    options: DriftOptionsItem  # type: ignore[assignment]


# --- validate ---------------------------------------------------------------------------------


class Counts(_Document):
    stores: int
    secrets: int
    workers: int
    files: int


class ValidateDocument(_Document):
    version: Literal[1] = 1
    command: Literal["validate"] = "validate"
    valid: bool
    problems: list[ProblemItem]
    warnings: list[ProblemItem] = Field(
        description="Not errors, but what plan and apply will meet (an unset env value, say)"
    )
    counts: Counts | None = Field(description="What the manifests declare (null when invalid)")
    files: list[str] = Field(description="The manifest files read")
    message: str = Field(description="The sentence the text output ends with")


# --- apply ------------------------------------------------------------------------------------


class OutcomeItem(_Document):
    action: ActionType
    kind: ResourceKind
    name: str
    store: str | None
    worker: str | None = None
    status: Literal["done", "failed", "not_started"]
    note: str = Field(description="How it was done when that differs from the plan, else ''")
    error: str | None = Field(description="Why it failed (failed actions only)")
    secret_absent: bool = Field(
        description="Deleted for replacement and not recreated: absent from the account now"
    )


class ApplySummary(_Document):
    done: int
    failed: int
    not_started: int


class ApplyDocument(_Document):
    version: Literal[1] = 1
    command: Literal["apply"] = "apply"
    ok: bool = Field(description="Every action done (true when there was nothing to do)")
    interrupted: bool
    secret_update: Literal["replace", "patch"]
    plan: PlanDocument = Field(description="The fresh plan that was applied")
    outcomes: list[OutcomeItem] = Field(description="One per action, in the plan's order")
    summary: ApplySummary
    message: str = Field(description="The report the text output ends with")


# --- export -----------------------------------------------------------------------------------


class EnvVarItem(_Document):
    name: str
    store: str = Field(description="The store's name, or the worker's for a worker secret")
    secret: str
    worker: bool


class ExportDocument(_Document):
    version: Literal[1] = 1
    command: Literal["export"] = "export"
    account_id: str
    directory: str
    files: list[str] = Field(description="Files written")
    env_vars: list[EnvVarItem] = Field(
        description="Set these (one secret value each) before planning the exported manifests"
    )
    warnings: list[str]
    next_command: str = Field(description="The plan command to run next, as it can be pasted")


# --- rollback ---------------------------------------------------------------------------------


class RollbackDocument(_Document):
    version: Literal[1] = 1
    command: Literal["rollback"] = "rollback"
    account_id: str
    worker: str
    before: str = Field(
        description="The split that served before, as `v2 100%` or `v1 90% / v2 10%`"
    )
    after: str = Field(description="The split now: the version rolled back to, at 100%")
    version_id: str
    number: int = Field(description="The version's number")
    forced: bool = Field(description="Deployed with force: a secret changed since that version")
    manifest_change: str = Field(
        description="The worker key that keeps the rollback (else the next apply undoes it)"
    )


# --- the registry -----------------------------------------------------------------------------

DOCUMENTS: dict[str, type[BaseModel]] = {
    "validate": ValidateDocument,
    "plan": PlanDocument,
    "drift": DriftDocument,
    "apply": ApplyDocument,
    "export": ExportDocument,
    "rollback": RollbackDocument,
}


def output_schema(command: str) -> dict[str, Any]:
    """The JSON Schema of what `reconciler COMMAND --format json` prints: its document or
    the error document."""
    output: Any = DOCUMENTS[command] | ErrorDocument
    schema = TypeAdapter(output).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"reconciler {command} --format json, version {DOCUMENT_VERSION}",
        **schema,
    }


def dumps(document: BaseModel | dict[str, Any]) -> str:
    """One document as printed: indented, keys in model order, ending with a newline."""
    data = document.model_dump(mode="json") if isinstance(document, BaseModel) else document
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- builders: what the commands print --------------------------------------------------------


def error_document(command: str, error: BaseException, exit_code: int) -> ErrorDocument:
    problems = error.problems if isinstance(error, ManifestError) else []
    return ErrorDocument(
        command=command,
        error=ErrorDetail(
            message=error_sentence(error),
            exit_code=exit_code,
            problems=[ProblemItem.of_problem(p) for p in problems],
        ),
    )


def validate_document(
    manifests: ManifestSet | None, problems: Sequence[Problem], files: Sequence[Path]
) -> ValidateDocument:
    """`manifests` when they loaded (and resolved, with --resolve), else the problems."""
    if manifests is not None and not problems:
        state = manifests.state
        return ValidateDocument(
            valid=True,
            problems=[],
            warnings=[ProblemItem.of_problem(w) for w in manifests.warnings],
            counts=Counts(
                stores=len(state.stores),
                secrets=len(state.secrets),
                workers=len(state.workers),
                files=len(manifests.files),
            ),
            files=[str(f) for f in manifests.files],
            message=valid_summary(manifests),
        )
    return ValidateDocument(
        valid=False,
        problems=[ProblemItem.of_problem(p) for p in problems],
        warnings=[ProblemItem.of_problem(w) for w in (manifests.warnings if manifests else [])],
        counts=None,
        files=[str(f) for f in files],
        message=error_sentence(ManifestError(list(problems))),
    )


def plan_document(plan: Plan) -> PlanDocument:
    return PlanDocument.model_validate(plan.to_dict())


def outcome_item(outcome: Outcome, stores: list[str] | None = None) -> OutcomeItem:
    action = outcome.action
    return OutcomeItem(
        action=action.action,
        kind=action.kind,
        name=action.name,
        store=action.store,
        worker=action.worker,
        status=outcome.status,
        note=outcome.note,
        error=error_sentence(outcome.error, stores) if outcome.status == "failed" else None,
        secret_absent=outcome.secret_absent,
    )


def apply_document(
    plan: Plan,
    report: ApplyReport | None,
    *,
    secret_update: str,
    interrupted: bool = False,
    stores: list[str] | None = None,
    message: str = "",
) -> ApplyDocument:
    """The plan apply made and what became of each action; `report` None: nothing was run
    (no changes, or conflicts: `message` says which)."""
    outcomes = report.outcomes if report is not None else []
    lines = report_lines(report, interrupted=interrupted) if report is not None else [message]
    return ApplyDocument(
        ok=(report is None and not plan.conflicts) or (report is not None and report.ok),
        interrupted=interrupted,
        secret_update="patch" if secret_update == "patch" else "replace",
        plan=plan_document(plan),
        outcomes=[outcome_item(o, stores) for o in outcomes],
        summary=ApplySummary(
            done=sum(o.status == "done" for o in outcomes),
            failed=sum(o.status == "failed" for o in outcomes),
            not_started=sum(o.status == "not_started" for o in outcomes),
        ),
        message="\n".join(lines),
    )


def export_document(
    result: Export, directory: Path, written: Sequence[Path], next_command: str
) -> ExportDocument:
    return ExportDocument(
        account_id=result.account_id,
        directory=str(directory),
        files=[str(p) for p in written],
        env_vars=[
            EnvVarItem(name=v.name, store=v.store, secret=v.secret, worker=v.worker)
            for v in result.env_vars
        ],
        warnings=list(result.warnings),
        next_command=next_command,
    )


SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_path(command: str) -> Path:
    return SCHEMA_DIR / f"{command}.schema.json"


def schema_text(command: str) -> str:
    return json.dumps(output_schema(command), indent=2, sort_keys=True) + "\n"


def write_schemas() -> list[Path]:
    """Regenerate the shipped schema files from the models (after changing a document)."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for command in DOCUMENTS:
        path = schema_path(command)
        path.write_text(schema_text(command), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas():
        print(path)
