"""The script secrets facet in the plan: one `worker_secret` action per value to write.

A value is written when it is missing, changed, unverifiable or forced. The live
fingerprint comes from the record our deployed version carries; a version someone else
made (wrangler secret put, deploy, dashboard) has none. Values are read here only to
compare fingerprints; changes show them as "(sensitive)".
"""

from __future__ import annotations

from reconciler.markers import secrets_record_fits
from reconciler.plan.context import REASON_PRUNE, Planning
from reconciler.plan.facets.base import PlanFacet
from reconciler.plan.fingerprint import worker_secret_fingerprint
from reconciler.plan.model import SENSITIVE, Action, ActionType, Change, ValuePin
from reconciler.state import Worker, WorkerSecret
from reconciler.values import ValueSource

REASON_WORKER_SECRET_CHANGED = "the value changed: apply writes the new value"
REASON_WORKER_SECRET_UNRECORDED = (
    "the deployed version records no fingerprint of ours for it (it was changed outside "
    "reconciler since the last apply, for example by `wrangler secret put`, or never recorded), "
    "so the value cannot be verified: apply writes the manifest's value"
)
REASON_WORKER_SECRET_ADOPT = "the worker is being adopted: apply writes the manifest's value"
REASON_WORKER_SECRET_FORCED = "--replace asked for a value rotation: apply writes the value again"


class SecretsPlan(PlanFacet):
    name = "secrets"

    def replace_targets(self, desired: Worker) -> list[str]:
        return [s.name for s in desired.secrets]

    def unverified(self, planning: Planning) -> bool:
        live = planning.live.workers
        return any(
            w.secrets and w.name in live and live[w.name].managed
            for w in planning.desired.workers.values()
        )

    def values(self, planning: Planning) -> list[ValueSource]:
        return [
            s.value_from
            for w in planning.desired.workers.values()
            for s in w.secrets
            if s.value_from is not None and _needs_value(planning, w, s)
        ]

    def plan(self, planning: Planning) -> None:
        for name in sorted(planning.desired.workers):
            want = planning.desired.workers[name]
            have = planning.live.workers.get(name)
            if have is not None and want.rollout is not None and want.rollout.version:
                if not want.secrets:
                    continue
                planning.warnings.append(
                    f"worker '{name}' is pinned to version {want.rollout.version!r}: its script "
                    "secrets are neither compared nor written while it is (a secret change "
                    "makes a new version, refused while the newest one does not serve all traffic)"
                )
                continue
            live = {s.name: s for s in have.secrets} if have is not None else {}
            comparable = _record_fits(planning, want)
            for secret in want.secrets:
                _plan_secret(planning, want, have, live.get(secret.name), secret, comparable)
            undeclared = sorted(set(live) - {s.name for s in want.secrets})
            if have is None or not undeclared:
                continue
            if have.managed and planning.options.prune:
                planning.actions += [
                    Action("delete", "worker_secret", n, reason=REASON_PRUNE, worker=name)
                    for n in undeclared
                ]
                continue
            names = ", ".join(undeclared)
            planning.warnings.append(
                f"worker '{name}' has script secret(s) no manifest declares: {names}; "
                + (
                    "--prune deletes them"
                    if have.managed
                    else "they are kept (the worker is not managed yet)"
                )
            )


def _needs_value(planning: Planning, want: Worker, secret: WorkerSecret) -> bool:
    """Whether `plan` reads this value (the same cases as `_plan_secret`)."""
    have = planning.live.workers.get(want.name)
    if have is None or not have.managed or planning.key is not None:
        return True
    forced = planning.options.replace
    return (
        secret.name in forced
        or f"{want.name}/{secret.name}" in forced
        or not any(s.name == secret.name for s in have.secrets)
    )


def _record_fits(planning: Planning, worker: Worker) -> bool:
    if planning.key is None or secrets_record_fits([s.name for s in worker.secrets]):
        return True
    planning.warnings.append(
        f"worker '{worker.name}' declares {len(worker.secrets)} script secrets, more than "
        "the fingerprint record in a version annotation holds: value changes of its secrets "
        "cannot be detected (rotate them with --replace)"
    )
    return False


def _plan_secret(
    planning: Planning,
    want: Worker,
    have: Worker | None,
    current: WorkerSecret | None,
    secret: WorkerSecret,
    comparable: bool,
) -> None:
    label = f"{want.name}/{secret.name}"

    def read() -> str | None:
        return planning.read_value(
            secret.value_from,
            f"worker '{want.name}' secret '{secret.name}'",
            ValuePin("worker_secret", secret.name, worker=want.name),
        )

    def act(action: ActionType, before: str | None, reason: str = "") -> None:
        changes = [Change("value", before, SENSITIVE)]
        planning.actions.append(
            Action(action, "worker_secret", secret.name, None, changes, reason, want.name)
        )

    if current is None or have is None:
        read()
        act("create", None)
        return
    reason: str | None = None
    if not have.managed:
        read()
        act("adopt", SENSITIVE, REASON_WORKER_SECRET_ADOPT)
        return
    if secret.name in planning.options.replace or label in planning.options.replace:
        read()
        reason = REASON_WORKER_SECRET_FORCED
    elif planning.key is not None and comparable:
        value = read()
        if value is not None and current.fingerprint is None:
            reason = REASON_WORKER_SECRET_UNRECORDED
        elif value is not None:
            planning.fingerprints_compared += 1
            fp = worker_secret_fingerprint(planning.key, want.name, secret.name, value)
            if fp != current.fingerprint:
                planning.fingerprints_differing += 1
                reason = REASON_WORKER_SECRET_CHANGED
    if reason is None:
        planning.no_op += 1
    else:
        act("replace", SENSITIVE, reason)


FACET = SecretsPlan()
