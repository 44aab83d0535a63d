"""A worker with every binding type, end to end against the served emulator.

Applied, it plans empty; the official SDK reads each binding back as declared; a binding
changed out of band with the SDK shows in `drift` (exit 2) and `apply` puts it back.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from tests.binding_samples import binding_name, sample_bindings
from tests.e2e.conftest import Env
from tests.sdk_helpers import migration_tag, read_bindings, sdk_client, set_bindings

WORKER = "everything"


def declare(env: Env, bindings: list[dict[str, Any]], **extra: Any) -> None:
    (env.root / "manifests" / "workers" / "everything.js").write_text(
        "export class Room {}\nexport class Checkout {}\n"
        "export default { fetch() { return new Response('ok') } }\n"
    )
    worker = {"name": WORKER, "script": "workers/everything.js", "bindings": bindings, **extra}
    (env.root / "manifests" / "everything.yaml").write_text(yaml.safe_dump({"workers": [worker]}))


def test_every_binding_type_applies_converges_and_reads_back(env: Env) -> None:
    declare(env, sample_bindings())
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    plan = env.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output

    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as client:
        got = read_bindings(client, DEFAULT_ACCOUNT_ID, WORKER)
    # the server fills in a Durable Object namespace's id; everything else is as declared
    assert got[binding_name("durable_object_namespace")].pop("namespace_id")
    assert got == {b["name"]: b for b in sample_bindings()}


def test_out_of_band_binding_change_is_drift_and_apply_repairs_it(env: Env) -> None:
    declare(env, sample_bindings())
    assert env.run("apply", "--auto-approve").exit_code == 0
    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as client:
        live = list(read_bindings(client, DEFAULT_ACCOUNT_ID, WORKER).values())
        edited = copy.deepcopy(live)
        r2 = next(b for b in edited if b["type"] == "r2_bucket")
        r2["bucket_name"] = "someone-elses-bucket"
        set_bindings(client, DEFAULT_ACCOUNT_ID, WORKER, edited)

    drift = env.run("drift")
    assert drift.exit_code == 2, drift.output
    assert "R2_BUCKET" in drift.output and "someone-elses-bucket" in drift.output

    assert env.run("apply", "--auto-approve").exit_code == 0
    assert env.run("drift").exit_code == 0
    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as client:
        again = read_bindings(client, DEFAULT_ACCOUNT_ID, WORKER)
    assert again[binding_name("r2_bucket")]["bucket_name"] == "uploads"


MIGRATIONS = [{"tag": "v1", "new_sqlite_classes": ["Room"]}]


def test_migrations_send_only_new_steps_and_a_foreign_tag_is_a_conflict(env: Env) -> None:
    declare(env, sample_bindings(), migrations=MIGRATIONS)
    assert env.run("apply", "--auto-approve").exit_code == 0
    assert env.run("plan", "--detailed-exitcode").exit_code == 0
    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as client:
        assert migration_tag(client, DEFAULT_ACCOUNT_ID, WORKER) == "v1"

    # a new step: the plan shows it alone; apply sends it from the live tag (the emulator
    # refuses a wrong old_tag with 10079, as the API does)
    steps = [*MIGRATIONS, {"tag": "v2", "renamed_classes": [{"from": "Room", "to": "Chamber"}]}]
    declare(env, sample_bindings(), migrations=steps)
    plan = env.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "migrations.v2" in plan.output and "migrations.v1" not in plan.output
    said = " ".join(plan.output.split())
    assert (
        'migrations.v2: tag=v2 renamed_classes=[{"from": "Room", "to": "Chamber"}]'
        in said
    )
    assert env.run("apply", "--auto-approve").exit_code == 0
    assert env.run("plan", "--detailed-exitcode").exit_code == 0

    # someone else runs a migration the manifest does not list: a conflict, nothing applied
    with sdk_client(env.server.base_url, DEFAULT_TOKEN) as client:
        client.workers.scripts.update(
            WORKER,
            account_id=DEFAULT_ACCOUNT_ID,
            metadata={  # type: ignore[typeddict-item]
                "main_module": "index.js",
                "migrations": {"old_tag": "v2", "new_tag": "v3", "deleted_classes": ["Chamber"]},
            },
            files=[("index.js", b"export default {}", "application/javascript+module")],
        )
        assert migration_tag(client, DEFAULT_ACCOUNT_ID, WORKER) == "v3"
    plan = env.run("plan")
    assert plan.exit_code == 3, plan.output
    said = " ".join(plan.output.split())  # the terminal text wraps
    assert (
        "x migration_tag: worker 'everything' (declared at manifests/everything.yaml:2:3) has "
        "run Durable Object migrations up to tag 'v3', which its manifest's `migrations` do "
        "not list (they list v1, v2)"
    ) in said
    env.clear_log()
    assert env.run("apply", "--auto-approve").exit_code == 3
    assert env.writes() == []


def test_migrations_left_out_are_not_managed(env: Env) -> None:
    declare(env, [], migrations=MIGRATIONS)
    assert env.run("apply", "--auto-approve").exit_code == 0
    declare(env, [])
    plan = env.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_export_of_every_binding_type_plans_empty(env: Env) -> None:
    declare(env, sample_bindings(), migrations=MIGRATIONS)
    assert env.run("apply", "--auto-approve").exit_code == 0
    exported = env.root / "exported"
    result = env.run("export", "--out", str(exported))
    assert result.exit_code == 0, result.output
    assert "has run Durable Object migrations up to tag 'v1'" in result.output
    secrets = env.root / "manifests" / "dev-secrets"
    values = {
        "PROD_SECRETS_STRIPE_KEY": (secrets / "stripe-key.txt").read_text().strip(),
        "PROD_SECRETS_WEBHOOK_SIGNING_KEY": (secrets / "webhook-signing-key.txt")
        .read_text()
        .strip(),
    }
    plan = env.run("plan", "--detailed-exitcode", str(exported), env=values)  # type: ignore[arg-type]
    assert plan.exit_code == 0, plan.output
