"""Worker settings in apply, when nothing else of the worker changes: no upload.

A worker uploaded anyway carries its settings in the upload (`cloudflare/facets/settings.py`).
An update whose every change is a setting is carried out in place instead: observability,
logpush and tail consumers with one `PATCH …/script-settings` (no new version); placement,
limits and usage model with one `PATCH …/settings`, a version with the same code and
bindings that also carries the worker secrets' fingerprint record (annotations are not
inherited across settings updates, and without the record the next plan would rewrite every
secret). A worker whose secrets the plan writes is uploaded as before (they ride in it).
"""

from __future__ import annotations

from typing import Any

from reconciler.apply_steps.base import ApplyContext, ApplyStep
from reconciler.apply_steps.secrets import secrets_record
from reconciler.markers import SECRETS_ANNOTATION
from reconciler.plan.model import Action, Plan
from reconciler.settings_forms import KEYS, SCRIPT_KEYS, VERSION_KEYS, written


def setting_of(field: str) -> str | None:
    """The settings key a plan change's field belongs to (`observability.logs.enabled`)."""
    key = field.split(".", 1)[0]
    return key if key in KEYS else None


class SettingsStep(ApplyStep):
    facet = "settings"

    def __init__(self, context: ApplyContext, plan: Plan) -> None:
        super().__init__(context, plan)
        # Workers whose script secrets this plan writes: those ride in the upload.
        self._riding = {
            a.worker for a in plan.actions if a.kind == "worker_secret" and a.action != "delete"
        }

    async def update(self, action: Action) -> bool:
        keys = {setting_of(c.field) for c in action.changes}
        if not action.changes or None in keys or action.name in self._riding:
            return False
        ctx = self.context
        if ctx.desired.workers[action.name].rollout is not None and keys & set(VERSION_KEYS):
            return False  # a new version, rolled out as the manifest says (apply_steps/deployment)
        declared = ctx.desired.workers[action.name].settings
        script: dict[str, Any] = {k: written(k, declared[k]) for k in SCRIPT_KEYS if k in keys}
        version: dict[str, Any] = {k: written(k, declared[k]) for k in VERSION_KEYS if k in keys}
        ctx.forget_cached(action.name)
        if script:
            await ctx.client.patch_script_settings(ctx.account, action.name, script)
        if version:
            record = secrets_record(ctx, action.name, {})
            if record is not None:
                version["annotations"] = {SECRETS_ANNOTATION: record}
            await ctx.client.patch_version_settings(ctx.account, action.name, version)
        return True
