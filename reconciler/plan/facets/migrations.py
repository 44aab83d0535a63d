"""The migrations facet in the plan: one field per declared step, present on the live side
for the steps that already ran (up to its `migration_tag`), so the plan shows exactly the
steps apply will send. A live tag the steps do not contain is a conflict.

A manifest without `migrations` does not manage them: no field on either side.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.context import Planning
from reconciler.plan.facets.base import PlanFacet
from reconciler.plan.model import Conflict
from reconciler.state import Worker


class MigrationsPlan(PlanFacet):
    name = "migrations"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        if desired.migrations is None:
            return {}
        if worker is desired:
            return {f"migrations.{m.tag}": m.to_dict() for m in desired.migrations}
        tags = [m.tag for m in desired.migrations]
        live = worker.migration_tag
        if live is None:
            return {}
        if live not in tags:
            return {f"migrations.{live}": {"tag": live}}
        ran = desired.migrations[: tags.index(live) + 1]
        return {f"migrations.{m.tag}": m.to_dict() for m in ran}

    def plan(self, planning: Planning) -> None:
        for name, want in sorted(planning.desired.workers.items()):
            have = planning.live.workers.get(name)
            if want.migrations is None or have is None or have.migration_tag is None:
                continue
            tags = [m.tag for m in want.migrations]
            if have.migration_tag not in tags:
                listed = ", ".join(tags) if tags else "none"
                where = f" (declared at {want.location})" if want.location else ""
                planning.missing.append(
                    Conflict(
                        "migration_tag",
                        f"worker {name!r}{where} has run Durable Object migrations up to tag "
                        f"{have.migration_tag!r}, which its manifest's `migrations` do not list "
                        f"(they list {listed}); list every step that ran, oldest first, and add "
                        "new steps after them",
                    )
                )


FACET = MigrationsPlan()
