"""Triggers and reachability in apply: each action one API call (two for a workers.dev flag
set alone), after the worker's own upload and never causing one.

What a step changes it finds in the live state the plan was made from; `apply_guard` has
already checked the plan's rules for each action (`plan/facets/triggers.trigger_problem`).
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.apply_steps.base import ApplyStep
from reconciler.errors import ReconcilerError
from reconciler.plan.facets.triggers import live_routes, ours, zone_of
from reconciler.plan.model import Action
from reconciler.state import LiveDomain, LiveRoute, Worker


class _TriggerStep(ApplyStep):
    facet = "triggers"

    def _desired(self, action: Action) -> Worker:
        assert action.worker is not None
        return self.context.desired.workers[action.worker]

    def _zone_id(self, zone: str | None, zone_id: str | None) -> str:
        found = zone_id or self.context.live.zones.get(zone or "")
        if found is None:  # the plan made a zone_not_found conflict of it
            raise ReconcilerError(f"zone {zone or zone_id} is not a zone of this account")
        return found


class WorkerCronsStep(_TriggerStep):
    kind = "worker_crons"

    async def run(self, action: Action) -> None:
        want = self._desired(action)
        ctx = self.context
        await ctx.client.put_schedules(ctx.account, want.name, list(want.crons or ()))


class WorkerSubdomainStep(_TriggerStep):
    kind = "worker_subdomain"

    async def run(self, action: Action) -> None:
        want = self._desired(action)
        ctx = self.context
        enabled, previews = want.workers_dev, want.preview_urls
        if enabled is None or previews is None:
            # The other flag is not managed: send it as it is now.
            now = await ctx.client.get_subdomain(ctx.account, want.name)
            enabled = now.enabled if enabled is None else enabled
            previews = now.previews_enabled if previews is None else previews
        await ctx.client.set_subdomain(
            ctx.account, want.name, enabled=enabled, previews_enabled=previews
        )


class WorkerRouteStep(_TriggerStep):
    kind = "worker_route"

    async def run(self, action: Action) -> None:
        ctx = self.context
        worker = self._desired(action).name
        if action.action == "create":
            spec = next(r for r in self._desired(action).routes or () if r.pattern == action.name)
            zone_id = self._zone_id(spec.zone, spec.zone_id)
            await ctx.client.create_route(zone_id, action.name, worker)
        elif action.action == "delete":
            route = self._held(action, lambda r: r.script == worker)
            await ctx.client.delete_route(route.zone_id, route.id)
        else:  # adopt: point the route another worker we own holds at this one
            route = self._held(
                action,
                lambda r: r.script != worker and ours(r.script, ctx.desired, ctx.live),
            )
            await ctx.client.update_route(route.zone_id, route.id, route.pattern, worker)

    def _held(self, action: Action, by: Callable[[LiveRoute], bool]) -> LiveRoute:
        found = [r for r in live_routes(self.context.live, action.name) if by(r)]
        if action.action == "adopt":
            spec = next(r for r in self._desired(action).routes or () if r.pattern == action.name)
            zone_id = zone_of(spec.zone, spec.zone_id, self.context.live)
            found = [r for r in found if r.zone_id == zone_id]
        if not found:
            raise ReconcilerError(f"route {action.name} is not in the account as the plan read it")
        return found[0]


class WorkerDomainStep(_TriggerStep):
    kind = "worker_domain"

    async def run(self, action: Action) -> None:
        ctx = self.context
        worker = self._desired(action).name
        if action.action == "delete":
            held = self._held(action.name)
            await ctx.client.detach_domain(ctx.account, held.id)
            return
        spec = next(d for d in self._desired(action).domains or () if d.hostname == action.name)
        zone_id = self._zone_id(spec.zone, spec.zone_id)
        # adopt: the hostname is attached to another worker we own; the API moves it only
        # when told to (override_existing_origin).
        await ctx.client.attach_domain(
            ctx.account, action.name, worker, zone_id, take_over=action.action == "adopt"
        )

    def _held(self, hostname: str) -> LiveDomain:
        found = next((d for d in self.context.live.domains or () if d.hostname == hostname), None)
        if found is None:
            raise ReconcilerError(f"custom domain {hostname} is not in the account as read")
        return found
