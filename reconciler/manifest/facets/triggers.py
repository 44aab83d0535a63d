"""The triggers facet of a manifest: `crons`, `routes`, `domains`, `workers_dev` and
`preview_urls`, each None when left out (not managed). A worker listing the same cron,
route or hostname twice is a problem at the second one; two workers declaring one route or
hostname is a conflict the plan reports (it needs the zone ids the account gives)."""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.state import DomainSpec, RouteSpec, WorkerParts


class TriggersManifest(ManifestFacet):
    name = "triggers"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        parts: WorkerParts = {"workers_dev": spec.workers_dev, "preview_urls": spec.preview_urls}
        if spec.crons is not None:
            seen: dict[object, Location] = {}
            for j, cron in enumerate(spec.crons):
                check.unique(seen, cron, doc.at("workers", index, "crons", j), f"cron {cron!r}")
            parts["crons"] = tuple(dict.fromkeys(spec.crons))
        if spec.routes is not None:
            seen = {}
            routes = []
            for j, r in enumerate(spec.routes):
                where = doc.at("workers", index, "routes", j)
                if check.unique(
                    seen, (r.zone or r.zone_id, r.pattern), where, f"route {r.pattern!r}"
                ):
                    routes.append(RouteSpec(r.pattern, r.zone, r.zone_id, where))
            parts["routes"] = tuple(routes)
        if spec.domains is not None:
            seen = {}
            domains = []
            for j, d in enumerate(spec.domains):
                where = doc.at("workers", index, "domains", j)
                if check.unique(seen, d.hostname, where, f"custom domain {d.hostname}"):
                    domains.append(DomainSpec(d.hostname, d.zone, d.zone_id, where))
            parts["domains"] = tuple(domains)
        return parts


FACET = TriggersManifest()
