"""The bindings facet in the plan: one field per binding name, its whole definition.

Both sides are compared in the schema's normal form (`openapi.bindings.normal_form`:
defaults, empty values, renamed fields, whole floats); on the live side a field the server
fills in is left out unless the declared binding of that name sets it.
"""

from __future__ import annotations

from typing import Any

from reconciler.openapi.bindings import normal_form, undeclared_computed
from reconciler.plan.facets.base import PlanFacet
from reconciler.state import Binding, Worker


class BindingsPlan(PlanFacet):
    name = "bindings"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        wanted = {b.name: b for b in desired.bindings}
        return {
            f"bindings.{b.name}": binding_view(b, wanted.get(b.name))
            for b in sorted(worker.bindings, key=lambda b: b.name)
        }


def binding_view(binding: Binding, declared: Binding | None = None) -> dict[str, Any]:
    params = normal_form(binding.type, binding.params)
    if declared is not None and declared.type == binding.type:
        for key in undeclared_computed(binding.type, declared.params):
            params.pop(key, None)
    return dict(sorted({"name": binding.name, "type": binding.type, **params}.items()))


FACET = BindingsPlan()
