"""The settings facet in the plan: the keys the manifest sets, each in its compared form.

A key the manifest leaves out is not in the view on either side, so it never shows as a
change. A key it sets is compared in `settings_forms`' canonical form (every spelling of a
default equal to the default); observability one field per leaf
(`observability.logs.invocation_logs`), so a change shows only what differs.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.facets.base import PlanFacet
from reconciler.settings_forms import KEYS, canonical
from reconciler.state import Worker


class SettingsPlan(PlanFacet):
    name = "settings"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in KEYS:
            if key not in desired.settings:
                continue
            value = canonical(key, worker.settings.get(key), desired.settings[key])
            if key == "observability":
                out.update(_leaves(key, value))
            else:
                out[key] = value
        return out


def _leaves(prefix: str, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out.update(_leaves(f"{prefix}.{key}", item))
        else:
            out[f"{prefix}.{key}"] = item
    return out


FACET = SettingsPlan()
