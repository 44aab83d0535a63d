"""Code is read again at upload (the plan holds only its hash): an edit made after the plan
was computed, while apply waits at its prompt, is refused for that worker and never sent."""

from __future__ import annotations

from typing import Any

import pytest

import reconciler.workflow as workflow
from tests.e2e.conftest import Env


def test_a_script_edited_after_the_plan_is_not_uploaded(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute = workflow.compute_plan

    def plan_then_edit(*args: Any, **kwargs: Any) -> Any:
        plan = compute(*args, **kwargs)
        env.edit("manifests/workers/payments-api.js", "export default", "export default /* x */")
        return plan

    monkeypatch.setattr(workflow, "compute_plan", plan_then_edit)
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "failed  create worker payments-api" in result.output
    assert (
        "script file workers/payments-api.js changed after the plan read it, so its upload "
        "would not be what the plan shows; nothing of it was uploaded: run plan (and apply) again"
    ) in result.output
    assert "Traceback" not in result.output
    writes = env.writes()
    assert ("PUT", "/workers/scripts/payments-api") not in writes
    assert ("PUT", "/workers/scripts/hello-classic") in writes
    # A fresh plan sees the edited file and uploads it.
    monkeypatch.setattr(workflow, "compute_plan", compute)
    rerun = env.run("apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert env.run("plan", "--detailed-exitcode").exit_code == 0
