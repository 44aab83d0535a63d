"""What the tools return: typed results, so each tool publishes an output schema.

Built only from plans, reports, problems and names: none of them holds a secret value.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from reconciler.apply import Outcome
from reconciler.documents import ProblemItem


class ValidateResult(BaseModel):
    valid: bool
    problems: list[ProblemItem]
    warnings: list[ProblemItem] = Field(
        description="Not errors, but likely to fail later (an unset env value, say)"
    )
    summary: str = Field(description="What `reconciler validate` prints")


class PlanResult(BaseModel):
    plan_id: str = Field(description="Pass to apply to carry out exactly this plan")
    plan: dict[str, Any] = Field(description="The plan JSON, version 1 (as `plan --format json`)")
    text: str = Field(description="The plan as `reconciler plan` prints it; show this to the user")
    has_changes: bool
    has_conflicts: bool = Field(description="A plan with conflicts is never applied")
    exit_code: int = Field(
        description="`plan --detailed-exitcode`: 0 no changes, 2 changes, 3 conflicts"
    )


class DriftResult(BaseModel):
    in_sync: bool
    report: dict[str, Any] = Field(description="The drift as plan JSON, version 1")
    text: str = Field(description="The drift as `reconciler drift` prints it")
    exit_code: int = Field(description="`reconciler drift`: 0 in sync, 2 drift, 3 conflicts")


class ExplainResult(BaseModel):
    sentence: str = Field(description="What failed, why, and what to do")


class EnvVarItem(BaseModel):
    name: str
    store: str
    secret: str


class ExportResult(BaseModel):
    account_id: str
    directory: str = Field(description="Relative to the workspace")
    files: list[str] = Field(description="Files written, relative to the workspace")
    env_vars: list[EnvVarItem] = Field(
        description="Set these (one secret value each) before planning the exported manifests"
    )
    warnings: list[str]


class ActionOutcome(BaseModel):
    action: str
    kind: str
    name: str
    store: str | None
    error: str | None = Field(default=None, description="Why it failed (failed actions only)")
    secret_absent: bool = Field(
        default=False, description="Deleted for replacement and not recreated: absent now"
    )


class ApplyResult(BaseModel):
    applied: bool = Field(description="False when the plan had no changes")
    ok: bool
    done: list[ActionOutcome]
    failed: list[ActionOutcome]
    not_started: list[ActionOutcome]
    absent_secrets: list[str]
    text: str


def outcome_item(outcome: Outcome, error: str | None) -> ActionOutcome:
    action = outcome.action
    return ActionOutcome(
        action=action.action,
        kind=action.kind,
        name=action.name,
        store=action.store,
        error=error,
        secret_absent=outcome.secret_absent,
    )
