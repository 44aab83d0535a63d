"""The plan as `apply --secret-update patch` will carry it out, for showing before apply.

The plan itself is strategy-free (a saved plan is applied with either strategy); its
reasons say "deletes the secret and recreates it". Under `patch` apply tries a PATCH with
the value first, so the plan apply prints must say that, not the default.
"""

from __future__ import annotations

import dataclasses

from reconciler.plan.diff import (
    REASON_ADOPT_SECRET,
    REASON_FORCED,
    REASON_NO_FINGERPRINT,
    REASON_VALUE_CHANGED,
)
from reconciler.plan.model import Action, Plan

_FALLBACK = "; only if the API refuses the PATCH, it deletes the secret and recreates it (new id)"
PATCH_REASONS = {
    REASON_VALUE_CHANGED: "the value changed: apply PATCHes the new value in place (same id)"
    + _FALLBACK,
    REASON_NO_FINGERPRINT: (
        "no fingerprint was recorded, so the value cannot be verified: apply PATCHes the "
        "manifest's value and a fingerprint in place (same id)" + _FALLBACK
    ),
    REASON_FORCED: "--replace asked for a value rotation: apply PATCHes the value in place "
    "(same id)" + _FALLBACK,
    REASON_ADOPT_SECRET: (
        "exists without the reconciler marker: apply takes it over by PATCHing the manifest's "
        "value and our marker in place (same id)" + _FALLBACK
    ),
}


def _reworded(action: Action) -> Action:
    if action.kind != "secret" or action.action not in ("replace", "adopt"):
        return action
    for default, patched in PATCH_REASONS.items():
        if action.reason.startswith(default):
            return dataclasses.replace(action, reason=patched + action.reason[len(default) :])
    return action


def as_applied(plan: Plan, secret_update: str) -> Plan:
    """A copy of the plan whose reasons say how `secret_update` writes values."""
    if secret_update != "patch":
        return plan
    return dataclasses.replace(plan, actions=[_reworded(a) for a in plan.actions])
