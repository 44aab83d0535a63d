"""The deployment facet in the plan: the split of traffic the `rollout` key asks for.

Its changes are `worker_deployment` actions of their own, planned after the workers' own
actions because the split depends on whether the worker is uploaded: an upload makes the
version the manifest describes (shown as the next number), else that version is the newest
one tagged with the manifest's version digest (`state.version_digest`), else the one that
serves now. `percentage: P` gives it P % and the version serving the largest other share
100 - P %; 100 leaves it alone, 0 takes it out of the deployment (an upload is then not
deployed); `version` pins one version to all traffic. A worker left without `rollout` is
deployed whole by its upload, and its deployment is not read.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.context import Planning
from reconciler.plan.facets.base import PlanFacet
from reconciler.plan.model import Action, Change, Conflict
from reconciler.settings_forms import SCRIPT_KEYS
from reconciler.state import LiveDeployment, State, Worker, rollout_tag

# The version an upload of this plan makes (its id is known only after the upload).
NEW = ""
Split = tuple[tuple[str, float], ...]


def uploads(action: Action) -> bool:
    """Whether a worker action makes a new version: anything but script settings alone."""
    if action.kind != "worker" or action.action not in ("update", "adopt"):
        return False
    return action.action == "adopt" or any(
        c.field.split(".", 1)[0] not in SCRIPT_KEYS for c in action.changes
    )


def migrates(action: Action) -> bool:
    """Whether a worker action runs Durable Object migrations: the Versions API takes none, so
    that upload is deployed whole (`PUT …/scripts/{name}`), whatever `rollout` says."""
    return action.kind == "worker" and any(
        c.field.startswith("migrations.") for c in action.changes
    )


def pinned(pin: str, deployment: LiveDeployment) -> str | None:
    """The id of the version a pin names (its id, number or `vN`), if the account holds it."""
    wanted = pin[1:] if pin[:1] in "vV" and pin[1:].isdigit() else pin
    return next((v.id for v in deployment.versions if wanted in (v.id, str(v.number))), None)


def target_split(want: Worker, deployment: LiveDeployment, uploading: bool) -> Split | None:
    """The split the manifest asks for (None: its pinned version is not in the account)."""
    rollout = want.rollout
    assert rollout is not None
    live = deployment.split
    if rollout.version is not None:
        vid = pinned(rollout.version, deployment)
        return None if vid is None else ((vid, 100.0),)
    tag = rollout_tag(want)
    tagged = next((v.id for v in deployment.versions if v.tag == tag), None)
    serving = max(live, key=lambda s: s[1])[0] if live else None
    target = NEW if uploading else tagged or serving
    if target is None:
        return live
    others = [s for s in live if s[0] != target]
    stable = max(others, key=lambda s: s[1])[0] if others else None
    share = float(rollout.percentage)
    if share == 100:
        return ((target, 100.0),)
    if stable is None:
        return ((target, 100.0),) if target == NEW and not live else live
    if share == 0:
        return ((stable, 100.0),) if any(s[0] == target for s in live) else live
    return ((stable, 100.0 - share), (target, share))


def same(a: Split, b: Split) -> bool:
    return sorted(a) == sorted(b)


def show(split: Split, deployment: LiveDeployment) -> str:
    """`v41 90% / v42 10%` (a version not listed: its id's start; the upload: next number)."""
    if not split:
        return "(none)"
    newest = max((v.number for v in deployment.versions), default=0)

    def name(vid: str) -> str:
        if vid == NEW:
            return f"v{newest + 1}"
        number = deployment.number(vid)
        return f"v{number}" if number is not None else vid[:8]

    return " / ".join(f"{name(v)} {p:g}%" for v, p in split)


def deployment_change(
    want: Worker, have: Worker, uploading: bool, *, deployed_whole: bool = False
) -> Change | Conflict | None:
    """The change of one worker's deployment, None when it is as declared. `deployed_whole`:
    the worker's upload (it runs migrations) is deployed to all traffic first, so a pin is
    deployed again after it."""
    assert have.deployment is not None and want.rollout is not None
    after = target_split(want, have.deployment, uploading)
    if after is None:
        return Conflict(
            "version_not_found",
            f"worker '{want.name}' pins rollout version {want.rollout.version!r}, which the "
            "account does not hold (only its newest 100 versions can be deployed): name a "
            "version that `wrangler versions list` shows, by its id or number",
        )
    before = ((NEW, 100.0),) if deployed_whole else have.deployment.split
    if same(before, after):
        return None
    return Change("deployment", show(before, have.deployment), show(after, have.deployment))


class DeploymentPlan(PlanFacet):
    name = "deployment"

    def plan(self, planning: Planning) -> None:
        for name in sorted(planning.desired.workers):
            want = planning.desired.workers[name]
            have = planning.live.workers.get(name)
            if want.rollout is None or have is None or have.deployment is None:
                continue
            own = [a for a in planning.actions if a.kind == "worker" and a.name == name]
            whole = any(migrates(a) for a in own)
            if whole and want.rollout.version is None:
                planning.warnings.append(
                    f"worker '{name}' runs Durable Object migrations: it is deployed to all "
                    "traffic at once (versions take no migrations); its rollout applies from "
                    "its next change"
                )
                continue
            uploading = any(uploads(a) for a in own)
            change = deployment_change(want, have, uploading, deployed_whole=whole)
            if isinstance(change, Conflict):
                planning.missing.append(change)
            elif change is not None:
                planning.actions.append(
                    Action("update", "worker_deployment", name, changes=[change], worker=name)
                )


def deployment_problem(action: Action, desired: State, live: State) -> str | None:
    """Why apply must refuse this worker_deployment action (None: it may run)."""
    want = desired.workers.get(action.name)
    if action.action != "update" or action.worker != action.name:
        return "a worker_deployment action is an update named after its worker"
    if want is None or want.rollout is None:
        return "no manifest sets rollout for this worker"
    have = live.workers.get(action.name)
    if have is None or have.deployment is None:
        return "the worker's deployment was not read"
    return None


def uploading_workers(actions: Sequence[Action]) -> set[str]:
    return {a.name for a in actions if uploads(a)}


FACET = DeploymentPlan()
