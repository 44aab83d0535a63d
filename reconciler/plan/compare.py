"""Field-level comparison: each resource as a flat view, deepdiff to find what differs.

Views hold only what we own and can compare: scopes as a sorted list (a set on
both sides), worker bindings one field per binding name, stores by name. Values in
views are JSON types, so a plan round-trips through its JSON file unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.empty import canonical
from reconciler.plan.model import Change
from reconciler.state import Secret, Worker

SECRET_BINDING = "secrets_store_secret"


def secret_view(secret: Secret) -> dict[str, Any]:
    return {"comment": secret.comment, "scopes": sorted(secret.scopes)}


def worker_view(worker: Worker, desired: Worker | None = None) -> dict[str, Any]:
    """The worker's own fields: every facet's view, in the registry's order.

    `desired` is the manifests' worker it is compared with (itself when None): a facet
    whose keys are managed only when set views only the keys the manifests set."""
    from reconciler.plan.facets import FACETS

    view: dict[str, Any] = {}
    for facet in FACETS:
        view.update(facet.view(worker, desired or worker))
    return view


def field_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """The fields that differ, in view order; `before=None` means the resource is new.

    Fields are compared in their canonical form (`reconciler.empty`): absent, null, "", []
    and {} are one value, however the API or the manifest spells it. Changes show the views'
    own values. A new resource lists only the fields it sets.
    """
    old = before or {}
    old_c, new_c = _canonical_view(old), _canonical_view(after)
    if before is not None and _canonical(old_c) == _canonical(new_c):
        return []  # the common no-change case, without DeepDiff's cost
    # Imported here: a no-change plan never needs it (about 20 ms of start-up).
    from deepdiff import DeepDiff

    # threshold 0: always diff key by key, even when the two views share few keys.
    diff = DeepDiff(old_c, new_c, ignore_order=False, threshold_to_diff_deeper=0)
    changed = set(diff.affected_root_keys)
    order = list(after) + [k for k in old if k not in after]
    return [Change(k, old.get(k), after.get(k)) for k in order if k in changed]


def _canonical_view(view: dict[str, Any]) -> dict[str, Any]:
    """Every field's canonical form; a field with an empty value is left out (it is absent)."""
    out = {k: canonical(v) for k, v in view.items()}
    return {k: v for k, v in out.items() if v is not None}


def _canonical(view: dict[str, Any]) -> str:
    """JSON text tells true from 1 and 1 from 1.0, which == does not."""
    return json.dumps(view, sort_keys=True, default=str)


def secret_bindings(worker: Worker) -> list[tuple[str, tuple[str, str]]]:
    """(binding name, (store, secret)) for each Secrets Store binding of a worker."""
    refs = []
    for binding in worker.bindings:
        if binding.type == SECRET_BINDING:
            refs.append(
                (
                    binding.name,
                    (str(binding.params.get("store")), str(binding.params.get("secret"))),
                )
            )
    return refs
