"""Forged plan files (issue 11): `apply --plan` never runs a file's actions.

Each case edits a genuine plan file the way an attacker who can write the CI artifact
would, applies it, and checks through the emulator's request log that nothing was
written and that the message names the first difference from a fresh plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Env

Doc = dict[str, Any]


def _setup(env: Env) -> None:
    """The quick start applied, plus an unmanaged secret and an unmanaged worker."""
    assert env.run("apply", "--auto-approve").exit_code == 0
    store_id = env.inspect("state")["stores"][0]["id"]
    env.seed_secret(store_id, "HAND_MADE")
    env.seed_worker("hand-made")


def _save(env: Env, *flags: str, expect: int = 0) -> Doc:
    saved = env.run("plan", "--out", "plan.json", *flags)
    assert saved.exit_code == expect, saved.output
    doc: Doc = json.loads((env.root / "plan.json").read_text())
    return doc


def _apply_forged(env: Env, doc: Doc) -> str:
    (env.root / "plan.json").write_text(json.dumps(doc))
    env.clear_log()
    result = env.run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert env.writes() == [], "a refused plan changes nothing"
    assert "nothing was changed" in result.output
    return result.output


def _delete(kind: str, name: str, store: str | None = None) -> dict[str, Any]:
    return {"action": "delete", "kind": kind, "name": name, "store": store, "changes": []}


def _rotate(env: Env) -> None:
    (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_ROTATED\n")


def _replace_index(doc: Doc) -> int:
    return next(i for i, a in enumerate(doc["actions"]) if a["action"] == "replace")


DELETE_UNMANAGED: list[tuple[str, Callable[[Doc], None], str]] = [
    (
        "unmanaged worker",
        lambda d: d["actions"].append(_delete("worker", "hand-made")),
        "at action 1: file says delete worker hand-made, fresh plan says no action",
    ),
    (
        "unmanaged secret",
        lambda d: d["actions"].append(_delete("secret", "HAND_MADE", "prod-secrets")),
        "at action 1: file says delete secret prod-secrets/HAND_MADE, fresh plan says no action",
    ),
    (
        "store",
        lambda d: d["actions"].append(_delete("store", "prod-secrets")),
        "at action 1: file says delete store prod-secrets, fresh plan says no action",
    ),
]


@pytest.mark.parametrize(("what", "forge", "says"), DELETE_UNMANAGED, ids=lambda v: str(v)[:20])
def test_a_forged_delete_of_an_unmanaged_resource_is_refused(
    env: Env, what: str, forge: Callable[[Doc], None], says: str
) -> None:
    _setup(env)
    doc = _save(env)
    assert doc["actions"] == [], f"the genuine plan is empty ({what})"
    forge(doc)
    output = _apply_forged(env, doc)
    assert f"Error: the plan file differs from a fresh plan {says};" in output


def test_all_three_forged_deletes_at_once_name_the_first(env: Env) -> None:
    _setup(env)
    doc = _save(env)
    for _, forge, _ in DELETE_UNMANAGED:
        forge(doc)
    output = _apply_forged(env, doc)
    assert "at action 1: file says delete worker hand-made, fresh plan says no action" in output
    names = {(s["name"]) for s in env.inspect("state")["secrets"]}
    assert names == {"HAND_MADE", "STRIPE_KEY", "WEBHOOK_SIGNING_KEY"}
    assert {w["id"] for w in env.inspect("state")["scripts"]} == {
        "hand-made",
        "hello-classic",
        "payments-api",
    }


def test_a_replace_turned_into_a_delete_without_prune_is_refused(env: Env) -> None:
    _setup(env)
    _rotate(env)
    doc = _save(env)
    index = _replace_index(doc)
    doc["actions"][index]["action"] = "delete"
    output = _apply_forged(env, doc)
    assert (
        f"at action {index + 1}: file says delete secret prod-secrets/STRIPE_KEY, "
        "fresh plan says replace secret prod-secrets/STRIPE_KEY;"
    ) in output


def test_a_retargeted_replace_is_refused(env: Env) -> None:
    _setup(env)
    _rotate(env)
    doc = _save(env)
    index = _replace_index(doc)
    doc["actions"][index]["name"] = "WEBHOOK_SIGNING_KEY"
    output = _apply_forged(env, doc)
    assert (
        f"at action {index + 1}: file says replace secret prod-secrets/WEBHOOK_SIGNING_KEY, "
        "fresh plan says replace secret prod-secrets/STRIPE_KEY;"
    ) in output


def test_options_prune_set_in_the_file_is_refused(env: Env) -> None:
    _setup(env)
    # hello-classic leaves the manifests: a managed leftover that only --prune deletes.
    workers = (env.root / "manifests/workers.yaml").read_text()
    (env.root / "manifests/workers.yaml").write_text(
        "workers:\n" + workers[workers.index("  - name: payments-api") :]
    )
    doc = _save(env)
    assert doc["actions"] == [] and doc["options"]["prune"] is False
    doc["options"]["prune"] = True
    output = _apply_forged(env, doc)
    assert (
        "at action 1: file says no action, fresh plan says delete worker hello-classic;"
    ) in output
    assert "hello-classic" in {w["id"] for w in env.inspect("state")["scripts"]}


def test_emptied_actions_are_refused(env: Env) -> None:
    """The real change must not be skipped silently either."""
    _setup(env)
    _rotate(env)
    doc = _save(env)
    assert doc["actions"]
    doc["actions"] = []
    output = _apply_forged(env, doc)
    assert "at action 1: file says no action, fresh plan says replace secret" in output


def test_a_removed_safety_threshold_conflict_is_refused(env: Env) -> None:
    many = "secrets:\n" + "".join(
        f"  - name: EXTRA_{i}\n    store: prod-secrets\n"
        f"    value_from: {{file: dev-secrets/stripe-key.txt}}\n    scopes: [workers]\n"
        for i in range(11)
    )
    (env.root / "manifests/many.yaml").write_text(many)
    _setup(env)
    # Another fingerprint key: every value looks changed, 13 of 16 resources replaced.
    other_key = {"RECONCILER_FINGERPRINT_KEY": "another-key"}
    saved = env.run("plan", "--out", "plan.json", env=other_key)
    assert saved.exit_code == 3, saved.output
    doc = json.loads((env.root / "plan.json").read_text())
    assert [c["kind"] for c in doc["conflicts"]] == ["safety_threshold"]
    doc["conflicts"] = []
    (env.root / "plan.json").write_text(json.dumps(doc))
    env.clear_log()
    result = env.run("apply", "--plan", "plan.json", "--auto-approve", env=other_key)
    assert result.exit_code == 1, result.output
    assert (
        "the plan file differs from a fresh plan at conflict 1: file says no conflict, "
        "fresh plan says a safety_threshold conflict;"
    ) in result.output
    assert env.writes() == []


def test_a_forged_create_of_an_undeclared_secret_is_refused(env: Env) -> None:
    _setup(env)
    doc = _save(env)
    doc["actions"].append(
        {
            "action": "create",
            "kind": "secret",
            "name": "PLANTED",
            "store": "prod-secrets",
            "changes": [{"field": "value", "before": None, "after": "(sensitive)"}],
        }
    )
    output = _apply_forged(env, doc)
    assert "internal error" not in output
    assert (
        "at action 1: file says create secret prod-secrets/PLANTED, fresh plan says no action;"
    ) in output
    assert "PLANTED" not in {s["name"] for s in env.inspect("state")["secrets"]}


def test_a_forged_field_change_is_refused(env: Env) -> None:
    """Same action, other values: a worker update whose reviewed change was edited."""
    _setup(env)
    env.edit("manifests/workers.yaml", "hello from reconciler", "hello again")
    doc = _save(env)
    [action] = doc["actions"]
    assert action["action"] == "update"
    for change in action["changes"]:
        change["after"] = {"type": "plain_text", "name": "GREETING", "text": "forged"}
    output = _apply_forged(env, doc)
    assert (
        "at action 1 (update worker hello-classic): the file's change of bindings.GREETING "
        "differs from the fresh plan's;"
    ) in output


def test_an_unedited_plan_applies_the_fresh_plan(env: Env) -> None:
    """The control: the same file, unedited, applies; reasons and warnings are not compared."""
    _setup(env)
    _rotate(env)
    doc = _save(env)
    doc["warnings"].append("an edited explanation")
    doc["actions"][_replace_index(doc)]["reason"] = "edited reason"
    (env.root / "plan.json").write_text(json.dumps(doc))
    env.clear_log()
    assert env.run("plan").exit_code == 0
    plan_reads = [r["path"] for r in env.inspect("requests") if r["method"] == "GET"]
    env.clear_log()
    result = env.run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "edited reason" not in result.output, "what is shown and run is the fresh plan"
    assert [m for m, _ in env.writes()] == ["DELETE", "POST"]
    apply_reads = [r["path"] for r in env.inspect("requests") if r["method"] == "GET"]
    assert sorted(apply_reads) == sorted(plan_reads), "the fresh plan is the read apply does"


def test_a_forged_replace_option_naming_no_declared_secret_is_refused(env: Env) -> None:
    _setup(env)
    doc = _save(env)
    doc["options"]["replace"] = ["HAND_MADE"]
    output = _apply_forged(env, doc)
    assert (
        "Error: the plan file's options cannot be planned (--replace HAND_MADE matches no "
        "declared secret"
    ) in output
    paths = [r["path"] for r in env.inspect("requests")]
    assert paths == ["/client/v4/accounts"], "refused before reading the account's state"


@pytest.mark.parametrize(
    ("forge", "says"),
    [
        (lambda t: t.replace('"version": 1', '"version": 1, "x": NaN', 1), "NaN is not a number"),
        (lambda t: t.replace('"version": 1', '"version": 1' + "0" * 5000, 1), "more than 4300"),
        (lambda t: t.replace('"version": 1', '"version": 1, "version": 1', 1), "appears twice"),
    ],
    ids=["nan", "long-integer", "duplicate-key"],
)
def test_json_a_plan_never_holds_is_refused_in_one_sentence(
    env: Env, forge: Callable[[str], str], says: str
) -> None:
    _setup(env)
    _rotate(env)
    _save(env, "--detailed-exitcode", expect=2)
    path = env.root / "plan.json"
    path.write_text(forge(path.read_text()))
    env.clear_log()
    result = env.run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert says in result.output and "Traceback" not in result.output
    assert env.writes() == []
