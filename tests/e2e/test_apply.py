"""apply through the CLI against the served emulator: the request log is the judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.emulator.config import EmulatorConfig
from reconciler.markers import WORKER_TAG
from tests.e2e.conftest import Env, start_env


def _secret_ids(env: Env) -> dict[str, str]:
    return {s["name"]: s["id"] for s in env.inspect("state")["secrets"]}


def test_quick_start_from_empty_then_no_changes(env: Env) -> None:
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply complete: 5 changes made." in result.output
    state = env.inspect("state")
    assert [s["name"] for s in state["stores"]] == ["prod-secrets"]
    assert sorted(s["name"] for s in state["secrets"]) == ["STRIPE_KEY", "WEBHOOK_SIGNING_KEY"]
    assert all("[reconciler fp=" in s["comment"] for s in state["secrets"])
    assert all(WORKER_TAG in w["tags"] for w in state["scripts"])

    env.clear_log()
    plan = env.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output
    # Apply remembered what it uploaded and tagged it with the upload's etag: the plan reads
    # no code. Writing that tag moved modified_on, so each uploaded worker's settings are
    # read once (the cache cannot prove them), and after that nothing one by one.
    paths = [r["path"] for r in env.inspect("requests")]
    assert not [p for p in paths if p.endswith("/content/v2")], paths
    assert sorted(p.rsplit("/", 2)[-2] for p in paths if p.endswith("/settings")) == [
        "hello-classic",
        "payments-api",
    ]
    assert all(any(t.startswith("reconciler-code-") for t in w["tags"]) for w in state["scripts"])
    env.clear_log()
    assert env.run("plan", "--detailed-exitcode").exit_code == 0
    paths = [r["path"] for r in env.inspect("requests")]
    assert not [p for p in paths if p.endswith(("/settings", "/content/v2"))], paths

    env.clear_log()
    again = env.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert env.writes() == []


def test_worker_formats_upload_with_the_right_part(env: Env) -> None:
    assert env.run("apply", "--auto-approve").exit_code == 0
    scripts = {s["id"]: s for s in env.inspect("state")["scripts"]}
    classic = scripts["hello-classic"]["modules"]
    module = scripts["payments-api"]["modules"]
    assert [(m["name"], m["content_type"]) for m in classic] == [
        ("script", "application/javascript")
    ]
    assert [(m["name"], m["content_type"]) for m in module] == [
        ("payments-api.js", "application/javascript+module")
    ]
    assert scripts["hello-classic"]["has_modules"] is False
    assert scripts["payments-api"]["has_modules"] is True


def test_value_change_is_delete_then_post_and_nothing_else(env: Env) -> None:
    assert env.run("apply", "--auto-approve").exit_code == 0
    old_id = _secret_ids(env)["STRIPE_KEY"]
    (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_ROTATED_value\n")

    plan = env.run("plan")
    assert "-/+ secret prod-secrets/STRIPE_KEY" in plan.output, plan.output
    assert "ROTATED" not in plan.output

    env.clear_log()
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    store_id = env.inspect("state")["stores"][0]["id"]
    assert env.writes() == [
        ("DELETE", f"/secrets_store/stores/{store_id}/secrets/{old_id}"),
        ("POST", f"/secrets_store/stores/{store_id}/secrets"),
    ]
    assert _secret_ids(env)["STRIPE_KEY"] != old_id
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_comment_and_scopes_change_uses_patch(env: Env) -> None:
    assert env.run("apply", "--auto-approve").exit_code == 0
    secret_id = _secret_ids(env)["WEBHOOK_SIGNING_KEY"]
    env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v2)")
    env.edit("manifests/secrets.yaml", "scopes: [workers, ai_gateway]", "scopes: [workers]")
    env.clear_log()
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    store_id = env.inspect("state")["stores"][0]["id"]
    assert env.writes() == [("PATCH", f"/secrets_store/stores/{store_id}/secrets/{secret_id}")]
    secret = next(s for s in env.inspect("state")["secrets"] if s["id"] == secret_id)
    assert secret["scopes"] == ["workers"]
    assert secret["comment"].startswith("Signs webhooks (v2) [reconciler fp=")
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_store_limit_conflict_changes_nothing(env: Env) -> None:
    env.edit(
        "manifests/secrets.yaml",
        "  - name: prod-secrets\n",
        "  - name: prod-secrets\n  - name: staging-secrets\n",
    )
    plan = env.run("plan")
    assert plan.exit_code == 3, plan.output
    assert "store" in plan.output and "limit" in plan.output
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 3, result.output
    assert env.writes() == []
    assert env.inspect("state")["stores"] == []


def test_saved_plan_applies_and_a_stale_one_is_refused(env: Env) -> None:
    saved = env.run("plan", "--out", "plan.json")
    assert saved.exit_code == 0, saved.output
    doc = json.loads((env.root / "plan.json").read_text())
    assert doc["summary"]["create"] == 5
    assert "sk_test" not in (env.root / "plan.json").read_text()
    assert env.run("apply", "--plan", "plan.json", "--auto-approve").exit_code == 0

    # The account changes out of band after the plan: refused, nothing written.
    env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v3)")
    assert env.run("plan", "--out", "plan.json").exit_code == 0
    with env.api() as api:
        store_id = env.inspect("state")["stores"][0]["id"]
        api.post(
            f"/secrets_store/stores/{store_id}/secrets",
            json=[{"name": "OUT_OF_BAND", "value": "x", "scopes": ["workers"]}],
        ).raise_for_status()
    env.clear_log()
    stale = env.run("apply", "--plan", "plan.json", "--auto-approve")
    assert stale.exit_code == 1
    assert "the account changed since the plan was made" in stale.output
    assert env.writes() == []

    # The manifests change after the plan: refused too.
    assert env.run("plan", "--out", "plan.json").exit_code == 0
    env.edit("manifests/secrets.yaml", "Signs webhooks (v3)", "Signs webhooks (v4)")
    stale = env.run("apply", "--plan", "plan.json", "--auto-approve")
    assert stale.exit_code == 1
    assert "the manifests changed since the plan was made" in stale.output
    assert env.writes() == []


def test_prune_deletes_only_marked_resources(env: Env) -> None:
    assert env.run("apply", "--auto-approve").exit_code == 0
    store_id = env.inspect("state")["stores"][0]["id"]
    env.seed_secret(store_id, "HAND_MADE")
    env.seed_worker("hand-made")
    # Drop one secret and one worker from the manifests.
    env.edit(
        "manifests/secrets.yaml",
        "  - name: WEBHOOK_SIGNING_KEY\n    store: prod-secrets\n"
        "    value_from: {file: dev-secrets/webhook-signing-key.txt}\n"
        "    scopes: [workers, ai_gateway]\n    comment: Signs outgoing webhooks\n",
        "",
    )
    workers = (env.root / "manifests/workers.yaml").read_text()
    (env.root / "manifests/workers.yaml").write_text(
        "workers:\n" + workers[workers.index("  - name: payments-api") :]
    )

    without = env.run("plan", "--detailed-exitcode")
    assert without.exit_code == 0, without.output
    assert "--prune" in without.output

    plan = env.run("plan", "--prune", "--format", "json")
    assert plan.exit_code == 0, plan.output
    doc = json.loads(plan.output)
    assert sorted((a["action"], a["kind"], a["name"]) for a in doc["actions"]) == [
        ("delete", "secret", "WEBHOOK_SIGNING_KEY"),
        ("delete", "worker", "hello-classic"),
    ]
    assert sorted((u["kind"], u["name"]) for u in doc["unmanaged"]) == [
        ("secret", "HAND_MADE"),
        ("worker", "hand-made"),
    ]
    env.clear_log()
    assert env.run("apply", "--prune", "--auto-approve").exit_code == 0
    state = env.inspect("state")
    assert sorted(s["name"] for s in state["secrets"]) == ["HAND_MADE", "STRIPE_KEY"]
    assert sorted(s["id"] for s in state["scripts"]) == ["hand-made", "payments-api"]
    assert [m for m, _ in env.writes()] == ["DELETE", "DELETE"]


def test_apply_without_a_terminal_needs_auto_approve(env: Env) -> None:
    result = env.run("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.output
    assert env.writes() == []


def test_partial_failure_reports_done_failed_and_not_started(env: Env) -> None:
    # Forcing classic on an ES module makes the API refuse it (10021), in the workers group.
    env.edit(
        "manifests/workers.yaml",
        "script: workers/payments-api.js",
        "script: workers/payments-api.js\n    format: classic",
    )
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "done    create secret prod-secrets/STRIPE_KEY" in result.output
    assert "failed  create worker payments-api" in result.output
    assert "Unexpected token 'export'" in result.output
    assert "apply stopped:" in result.output
    assert "it converges from where it stopped" in result.output
    # Fix the manifest and rerun: it converges.
    env.edit("manifests/workers.yaml", "\n    format: classic", "")
    rerun = env.run("apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_renaming_the_only_store_makes_room_first(env: Env) -> None:
    assert env.run("apply", "--auto-approve").exit_code == 0
    for name in ("manifests/secrets.yaml", "manifests/workers.yaml"):
        path = env.root / name
        path.write_text(path.read_text().replace("prod-secrets", "main-secrets"))
    plan = env.run("plan", "--prune", "--format", "json")
    assert plan.exit_code == 0, plan.output
    order = [(a["action"], a["kind"]) for a in json.loads(plan.output)["actions"]]
    assert order.index(("delete", "store")) < order.index(("create", "store"))
    result = env.run("apply", "--prune", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in env.inspect("state")["stores"]] == ["main-secrets"]
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def _store_and_ids(env: Env) -> tuple[str, dict[str, str]]:
    return env.inspect("state")["stores"][0]["id"], _secret_ids(env)


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        # The observed API: PATCH with a value answers 1001, so apply falls back.
        ("reject_value", ["PATCH", "DELETE", "POST"]),
        # The newer schema: PATCH with a value works, nothing else is sent.
        ("accept", ["PATCH"]),
    ],
)
def test_secret_update_patch_tries_patch_first(
    behaviour: str, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig.model_validate({"behaviour": {"patch_secret": behaviour}})
    for env in start_env(config, tmp_path, monkeypatch):
        assert env.run("apply", "--auto-approve").exit_code == 0
        (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_PATCHED\n")
        env.clear_log()
        result = env.run("apply", "--auto-approve", "--secret-update", "patch")
        assert result.exit_code == 0, result.output
        assert [m for m, _ in env.writes()] == expected
        assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_comment_patch_refused_with_1001_falls_back_to_recreate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig.model_validate({"behaviour": {"patch_secret": "reject_all"}})
    for env in start_env(config, tmp_path, monkeypatch):
        assert env.run("apply", "--auto-approve").exit_code == 0
        store_id, ids = _store_and_ids(env)
        env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v2)")
        env.clear_log()
        result = env.run("apply", "--auto-approve")
        assert result.exit_code == 0, result.output
        secret_path = f"/secrets_store/stores/{store_id}/secrets"
        assert env.writes() == [
            ("PATCH", f"{secret_path}/{ids['WEBHOOK_SIGNING_KEY']}"),
            ("DELETE", f"{secret_path}/{ids['WEBHOOK_SIGNING_KEY']}"),
            ("POST", secret_path),
        ]
        assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_verbose_logs_each_call_without_token_or_values(env: Env) -> None:
    result = env.run("apply", "--auto-approve", "-v")
    assert result.exit_code == 0, result.output
    assert "INFO reconciler.cloudflare: GET /accounts -> 200" in result.output
    assert "/workers/scripts/payments-api -> 200" in result.output
    assert "local-dev-token" not in result.output
    assert "sk_test_FAKE" not in result.output


def test_comment_update_keeps_the_recorded_fingerprint(env: Env) -> None:
    """An update never writes a value, so it must not stamp a new value's fingerprint."""
    assert env.run("apply", "--auto-approve").exit_code == 0
    env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v2)")
    (env.root / "manifests/dev-secrets/webhook-signing-key.txt").write_text("whsec_NEW\n")
    # Without the key the value change is invisible: the plan only updates the comment.
    no_key = {"RECONCILER_FINGERPRINT_KEY": None}
    applied = env.run("apply", "--auto-approve", env=no_key)
    assert applied.exit_code == 0, applied.output
    assert "done    update secret prod-secrets/WEBHOOK_SIGNING_KEY" in applied.output
    replan = env.run("plan", "--format", "json")
    actions = [(a["action"], a["name"]) for a in json.loads(replan.output)["actions"]]
    assert actions == [("replace", "WEBHOOK_SIGNING_KEY")], "the new value is still to be written"


def test_saved_plan_is_refused_when_a_value_changed_after_review(env: Env) -> None:
    """The reviewed plan only updated a comment and compared the value as unchanged."""
    assert env.run("apply", "--auto-approve").exit_code == 0
    env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v2)")
    assert env.run("plan", "--out", "plan.json").exit_code == 0
    (env.root / "manifests/dev-secrets/webhook-signing-key.txt").write_text("whsec_NEW\n")
    env.clear_log()
    refused = env.run("apply", "--plan", "plan.json")
    assert refused.exit_code == 1, refused.output
    assert (
        "Error: the value of secret prod-secrets/WEBHOOK_SIGNING_KEY is not the one the plan "
        "was made with"
    ) in refused.output
    assert "nothing was changed" in refused.output
    assert env.writes() == []


def test_saved_plan_refuses_plan_flags(env: Env) -> None:
    assert env.run("plan", "--out", "plan.json").exit_code == 0
    result = env.run("apply", "--plan", "plan.json", "--prune")
    assert result.exit_code == 1
    assert "--prune, --force and --replace belong to the saved plan" in result.output


def test_unwritable_plan_file_is_a_clear_error(env: Env) -> None:
    result = env.run("plan", "--out", "no/such/dir/plan.json")
    assert result.exit_code == 1
    assert "Error: cannot write plan file no/such/dir/plan.json" in result.output


def test_adopting_with_secret_update_patch(env: Env) -> None:
    with env.api() as api:
        store = api.post("/secrets_store/stores", json={"name": "prod-secrets"}).json()["result"]
    env.seed_secret(store["id"], "STRIPE_KEY", value="old")
    result = env.run("apply", "--auto-approve", "--secret-update", "patch")
    assert result.exit_code == 0, result.output
    assert "done    adopt secret prod-secrets/STRIPE_KEY" in result.output
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_plan_out_a_directory_is_one_sentence(env: Env) -> None:
    (env.root / "plans").mkdir()
    result = env.run("plan", "--out", "plans")
    assert result.exit_code == 1
    assert result.output.endswith(
        "Error: cannot write plan file plans: it is a directory; "
        "name a file, e.g. plans/plan.json\n"
    )
    assert "Traceback" not in result.output
