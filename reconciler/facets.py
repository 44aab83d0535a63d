"""Worker facets: the one list of the parts a Worker is made of.

A Worker is a set of facets (code and modules, bindings, script secrets, triggers, settings,
deployment; to come: assets). A facet owns some `Worker` fields (`state.WorkerParts`) and
has one small module in each layer with work for it, named after the facet and listed in
that layer's `facets` package in the order of `WORKER_FACETS` (a test checks every layer
against this list, and the import-layer test keeps each part in its layer):

- `manifest/facets/<name>.py` (`ManifestFacet`): the keys of `WorkerSpec` it owns, turned
  into its `WorkerParts`, with every problem added to the checker at its location.
- `cloudflare/facets/<name>.py` (`CloudflareFacet`): `read`, its `WorkerParts` from the
  script's listing and settings; `upload`, its share of the upload's metadata.
- `plan/facets/<name>.py` (`PlanFacet`): `view`, its fields of the worker's own
  create/update/adopt action; `plan`, any actions of its own kind (`worker_secret`), plus
  the values it reads and the `--replace` targets it offers.
- `apply_steps/<name>.py` (`ApplyStep`, only for a facet with actions of its own kind): the
  API calls of one such action.
- `export_facets/<name>.py` (`ExportFacet`): its `WorkerSpec` keys for a live worker, with
  a warning for anything the manifest format cannot hold.

The emulator is its own tower (one module per endpoint), untouched by this list.
docs/facets.md walks through adding one; docs/layout.md shows the layers.
"""

from __future__ import annotations

from typing import Final

# The order is the order of every layer's list: views, upload metadata and export keys
# come out in this order.
WORKER_FACETS: Final = (
    "code",
    "bindings",
    "secrets",
    "migrations",
    "triggers",
    "settings",
    "assets",
    "deployment",
)
