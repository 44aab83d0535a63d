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
from tests.sdk_helpers import read_bindings, sdk_client, set_bindings

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
