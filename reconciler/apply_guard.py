"""The applier's own invariants, checked before its first API call, whatever plan it is handed.

The planner never makes a plan that breaks these, and a saved plan is recomputed before
it runs (reconciler/plan/saved.py); this is the second wall, so that a bug or a new
caller can never turn apply into a delete of someone else's resource.
"""

from __future__ import annotations

from reconciler.errors import UnsafePlanError
from reconciler.plan.facets.deployment import deployment_problem
from reconciler.plan.facets.triggers import TRIGGER_KINDS, trigger_problem
from reconciler.plan.model import Action, Plan
from reconciler.plan.ownership import store_managed
from reconciler.state import State


def refuse_unsafe(plan: Plan, desired: State, live: State) -> None:
    """Raise (PlanConflictError, UnsafePlanError) unless every action keeps the invariants."""
    plan.raise_if_conflicts()
    seen: set[tuple[str, str | None, str]] = set()
    for index, action in enumerate(plan.actions, start=1):
        problem = _problem(action, plan, desired, live)
        key = (action.kind, action.store or action.worker, action.name)
        if problem is None and key in seen:
            problem = "it acts on a resource an earlier action of the plan already acts on"
        seen.add(key)
        if problem is not None:
            raise UnsafePlanError(
                f"apply refused the plan before any change: action {index} "
                f"({action.action} {action.kind} {action.label}): {problem}"
            )


def _problem(action: Action, plan: Plan, desired: State, live: State) -> str | None:
    if action.kind in TRIGGER_KINDS:
        # Owned whole by the key that declares them: their deletes need no --prune.
        return trigger_problem(action, desired, live)
    if action.kind == "worker_deployment":
        return deployment_problem(action, desired, live)
    if action.kind == "secret" and action.store is None:
        return "a secret action names no store"
    if action.kind == "worker_secret" and (action.worker is None or action.store is not None):
        return "a worker_secret action must name its worker and no store"
    if action.kind != "worker_secret" and action.worker is not None:
        return f"a {action.kind} action names a worker"
    declared = _declared(action, desired)
    if action.action != "delete":
        if not declared:
            return f"no manifest declares this {action.kind}"
        return None
    if not plan.options.prune:
        return "the plan's options do not include prune, and only prune deletes"
    if declared:
        return f"the manifests declare this {action.kind}; a declared resource is never deleted"
    exists, managed = _ownership(action, live)
    if not exists:
        return f"the {action.kind} is not in the account"
    if not managed:
        what = "our tag" if action.kind == "worker" else "our marker"
        if action.kind == "worker_secret":
            what = "our tag on its worker"
        if action.kind == "store":
            what = "only secrets with our marker"
        return f"it does not carry {what}; reconciler deletes only its own resources"
    return None


def _declared(action: Action, desired: State) -> bool:
    if action.kind == "worker_secret":
        worker = desired.workers.get(action.worker or "")
        return worker is not None and any(s.name == action.name for s in worker.secrets)
    if action.kind == "secret":
        return (action.store or "", action.name) in desired.secrets
    if action.kind == "worker":
        return action.name in desired.workers
    return action.name in desired.stores or bool(desired.secrets_in(action.name))


def _ownership(action: Action, live: State) -> tuple[bool, bool]:
    """(exists in the account, carries our marker) as read before this apply.

    A worker's script secret is ours exactly when the worker is (its tag)."""
    if action.kind == "worker_secret":
        owner = live.workers.get(action.worker or "")
        exists = owner is not None and any(s.name == action.name for s in owner.secrets)
        return exists, exists and owner is not None and owner.managed
    if action.kind == "secret":
        secret = live.secrets.get((action.store or "", action.name))
        return secret is not None, secret is not None and secret.managed
    if action.kind == "worker":
        worker = live.workers.get(action.name)
        return worker is not None, worker is not None and worker.managed
    return action.name in live.stores, store_managed(live, action.name)
