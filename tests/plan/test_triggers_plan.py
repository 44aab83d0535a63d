"""Triggers and reachability in the plan, from states alone: what each key plans, the
forms that compare equal, and who may take a route or hostname from whom."""

from __future__ import annotations

from reconciler.plan.facets.triggers import plan_triggers
from reconciler.plan.model import Action
from reconciler.state import DomainSpec, LiveDomain, LiveRoute, RouteSpec, State, Worker

ZONE = "a" * 32
ZONE2 = "b" * 32


def _w(name: str, *, managed: bool = True, **fields: object) -> Worker:
    return Worker(name=name, format="module", script_digest="sha256:x", managed=managed,
                  **fields)  # type: ignore[arg-type]  # fmt: skip


def _states(
    desired: list[Worker], live: list[Worker], **live_fields: object
) -> tuple[State, State]:
    d = State(workers={w.name: w for w in desired})
    lv = State(workers={w.name: w for w in live}, zones={"example.com": ZONE})
    for k, v in live_fields.items():
        setattr(lv, k, v)
    return d, lv


def _brief(actions: list[Action]) -> list[tuple[str, str, str, str | None]]:
    return [(a.action, a.kind, a.name, a.worker) for a in actions]


def test_left_out_keys_plan_nothing_and_read_nothing() -> None:
    d, lv = _states([_w("api")], [_w("api", crons=("* * * * *",), workers_dev=True)])
    out = plan_triggers(d, lv)
    assert out.actions == [] and out.conflicts == [] and out.no_op == 0


def test_crons_compare_as_a_set_and_empty_removes_all() -> None:
    same = plan_triggers(*_states(
        [_w("api", crons=("0 3 * * 1", "*/5 * * * *"))],
        [_w("api", crons=("*/5 * * * *", "0 3 * * 1"))],
    ))  # fmt: skip
    assert same.actions == [] and same.no_op == 1
    cleared = plan_triggers(*_states([_w("api", crons=())], [_w("api", crons=("* * * * *",))]))
    ((action),) = cleared.actions
    assert _brief([action]) == [("update", "worker_crons", "api", "api")]
    assert (action.changes[0].before, action.changes[0].after) == (["* * * * *"], [])
    nothing = plan_triggers(*_states([_w("api", crons=())], [_w("api", crons=())]))
    assert nothing.actions == []
    new_worker = plan_triggers(*_states([_w("api", crons=())], []))
    assert new_worker.actions == []  # a new worker has no crons: [] is already true


def test_subdomain_changes_only_the_declared_flag() -> None:
    out = plan_triggers(*_states(
        [_w("api", workers_dev=True)], [_w("api", workers_dev=False, preview_urls=True)]
    ))  # fmt: skip
    (action,) = out.actions
    assert [(c.field, c.before, c.after) for c in action.changes] == [("workers_dev", False, True)]
    same = plan_triggers(*_states(
        [_w("api", workers_dev=False, preview_urls=True)],
        [_w("api", workers_dev=False, preview_urls=True)],
    ))  # fmt: skip
    assert same.actions == [] and same.no_op == 1


def _route(pattern: str, script: str | None, rid: str = "r1", zone: str = ZONE) -> LiveRoute:
    return LiveRoute(rid, zone, pattern, script)


def test_route_create_noop_and_delete_of_the_undeclared() -> None:
    spec = RouteSpec("api.example.com/*", zone="example.com")
    d, lv = _states(
        [_w("api", routes=(spec,))],
        [_w("api")],
        routes={
            ZONE: (_route("api.example.com/*", "api"), _route("old.example.com/*", "api", "r2"))
        },
    )
    out = plan_triggers(d, lv)
    assert _brief(out.actions) == [("delete", "worker_route", "old.example.com/*", "api")]
    assert out.no_op == 1
    d2, lv2 = _states([_w("api", routes=(spec,))], [_w("api")], routes={ZONE: ()})
    assert _brief(plan_triggers(d2, lv2).actions) == [
        ("create", "worker_route", "api.example.com/*", "api")
    ]


def test_a_route_of_an_unmanaged_worker_is_a_conflict_and_never_touched() -> None:
    spec = RouteSpec("api.example.com/*", zone="example.com")
    d, lv = _states(
        [_w("api", routes=(spec,))],
        [_w("api"), _w("legacy", managed=False)],
        routes={ZONE: (_route("api.example.com/*", "legacy"),)},
    )
    out = plan_triggers(d, lv)
    assert out.actions == []
    (conflict,) = out.conflicts
    assert conflict.kind == "route_conflict" and "'legacy'" in conflict.message


def test_a_route_of_a_managed_worker_moves_as_an_adopt() -> None:
    spec = RouteSpec("api.example.com/*", zone="example.com")
    d, lv = _states(
        [_w("api", routes=(spec,)), _w("old", routes=())],
        [_w("api"), _w("old")],
        routes={ZONE: (_route("api.example.com/*", "old"),)},
    )
    out = plan_triggers(d, lv)
    # moved once, by the worker that declares it, and not deleted from `old` (routes: [])
    assert _brief(out.actions) == [("adopt", "worker_route", "api.example.com/*", "api")]
    assert "'old'" in out.actions[0].reason


def test_routes_of_other_workers_are_never_deleted() -> None:
    d, lv = _states(
        [_w("api", routes=())],
        [_w("api"), _w("other", managed=False)],
        routes={ZONE: (_route("o.example.com/*", "other"), _route("x.example.com/*", None, "r3"))},
    )
    assert plan_triggers(d, lv).actions == []


def test_two_workers_declaring_one_route_and_an_unknown_zone_are_conflicts() -> None:
    spec = RouteSpec("api.example.com/*", zone="example.com")
    d, lv = _states(
        [_w("a", routes=(spec,)), _w("b", routes=(spec,)),
         _w("c", routes=(RouteSpec("x.example.net/*", zone="example.net"),))],
        [], routes={ZONE: ()},
    )  # fmt: skip
    lv.zones["example.net"] = None
    kinds = sorted(c.kind for c in plan_triggers(d, lv).conflicts)
    assert kinds == ["route_conflict", "zone_not_found"]


def test_domains_create_move_conflict_and_delete() -> None:
    spec = DomainSpec("api.example.com", zone="example.com")
    held = (
        LiveDomain("d1", "shop.example.com", ZONE, "example.com", "api"),
        LiveDomain("d2", "api.example.com", ZONE, "example.com", "old"),
    )
    d, lv = _states([_w("api", domains=(spec,))], [_w("api"), _w("old")], domains=held)
    out = plan_triggers(d, lv)
    assert _brief(out.actions) == [
        ("adopt", "worker_domain", "api.example.com", "api"),
        ("delete", "worker_domain", "shop.example.com", "api"),
    ]
    d2, lv2 = _states(
        [_w("api", domains=(spec,))], [_w("api"), _w("old", managed=False)], domains=held
    )
    out2 = plan_triggers(d2, lv2)
    assert [c.kind for c in out2.conflicts] == ["domain_conflict"]
    assert _brief(out2.actions) == [("delete", "worker_domain", "shop.example.com", "api")]
    d3, lv3 = _states([_w("api", domains=(spec,))], [], domains=())
    assert _brief(plan_triggers(d3, lv3).actions) == [
        ("create", "worker_domain", "api.example.com", "api")
    ]
