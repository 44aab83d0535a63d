"""Durable Object migrations in the plan and the upload: only the steps after the live tag,
shown as such; a live tag the manifest's steps do not contain is a conflict."""

from __future__ import annotations

from dataclasses import replace

from reconciler.cloudflare.upload import build_upload
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import Plan, PlanOptions
from reconciler.state import Migration, Worker

from .conftest import KEY, live_state, state, worker

STEPS = (
    Migration("v1", {"new_sqlite_classes": ["Room"]}),
    Migration("v2", {"renamed_classes": [{"from": "Room", "to": "Chamber"}]}),
    Migration("v3", {"deleted_classes": ["Lobby"]}),
)


def plan_of(desired: Worker, live: Worker | None) -> Plan:
    return compute_plan(
        state(workers=[desired]),
        live_state(workers=[live] if live else []),
        options=PlanOptions(),
        fingerprint_key=KEY,
    )


def with_steps(steps: tuple[Migration, ...] | None = STEPS) -> Worker:
    return replace(worker("rooms"), migrations=steps)


def ran(tag: str | None) -> Worker:
    return replace(worker("rooms"), migration_tag=tag)


def test_a_new_worker_sends_every_step() -> None:
    (action,) = plan_of(with_steps(), None).actions
    assert [c.field for c in action.changes if c.field.startswith("migrations.")] == [
        "migrations.v1",
        "migrations.v2",
        "migrations.v3",
    ]


def test_only_the_steps_after_the_live_tag_are_planned() -> None:
    (action,) = plan_of(with_steps(), ran("v1")).actions
    assert action.action == "update"
    assert [(c.field, c.before, c.after) for c in action.changes] == [
        (
            "migrations.v2",
            None,
            {"tag": "v2", "renamed_classes": [{"from": "Room", "to": "Chamber"}]},
        ),
        ("migrations.v3", None, {"tag": "v3", "deleted_classes": ["Lobby"]}),
    ]


def test_all_steps_ran_is_no_change() -> None:
    plan = plan_of(with_steps(), ran("v3"))
    assert plan.actions == [] and plan.conflicts == []


def test_left_out_is_not_managed() -> None:
    plan = plan_of(with_steps(None), ran("v9"))
    assert plan.actions == [] and plan.conflicts == []


def test_a_live_tag_the_steps_do_not_contain_is_a_conflict() -> None:
    plan = plan_of(with_steps(), ran("v7"))
    (conflict,) = plan.conflicts
    assert conflict.kind == "migration_tag"
    assert "up to tag 'v7'" in conflict.message and "(they list v1, v2, v3)" in conflict.message


def test_upload_sends_the_pending_steps_with_the_live_tag() -> None:
    desired = with_steps()
    upload = build_upload(desired, {}, tags=[], live=ran("v1"))
    assert upload.metadata["migrations"] == {
        "old_tag": "v1",
        "new_tag": "v3",
        "steps": [
            {"renamed_classes": [{"from": "Room", "to": "Chamber"}]},
            {"deleted_classes": ["Lobby"]},
        ],
    }
    first = build_upload(desired, {}, tags=[], live=None)
    assert "old_tag" not in first.metadata["migrations"]
    assert len(first.metadata["migrations"]["steps"]) == 3
    assert "migrations" not in build_upload(desired, {}, tags=[], live=ran("v3")).metadata
    assert "migrations" not in build_upload(with_steps(None), {}, tags=[], live=ran("v1")).metadata
