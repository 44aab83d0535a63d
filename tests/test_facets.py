"""The Worker facet registry: every layer lists the facets of `reconciler.facets`, in order."""

from __future__ import annotations

import dataclasses
import typing

from reconciler.apply_steps import STEPS
from reconciler.cloudflare.facets import FACETS as CLOUDFLARE
from reconciler.export_facets import FACETS as EXPORT
from reconciler.facets import WORKER_FACETS
from reconciler.manifest.facets import FACETS as MANIFEST
from reconciler.plan.facets import FACETS as PLAN
from reconciler.plan.model import RESOURCE_KINDS
from reconciler.state import Worker, WorkerParts


def test_every_layer_lists_every_facet_in_the_registry_order() -> None:
    for layer in (MANIFEST, CLOUDFLARE, PLAN, EXPORT):
        assert tuple(f.name for f in layer) == WORKER_FACETS


def test_apply_steps_belong_to_facets_and_own_a_kind_each() -> None:
    facets = [s.facet for s in STEPS]
    assert all(f in WORKER_FACETS for f in facets)
    assert facets == sorted(facets, key=WORKER_FACETS.index)
    kinds = [s.kind for s in STEPS if s.kind is not None]
    assert len(set(kinds)) == len(kinds)
    assert set(kinds) <= set(RESOURCE_KINDS)


def test_worker_parts_name_worker_fields_only() -> None:
    fields = {f.name for f in dataclasses.fields(Worker)}
    assert set(typing.get_type_hints(WorkerParts)) <= fields
