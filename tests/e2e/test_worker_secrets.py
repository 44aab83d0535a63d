"""Worker script secrets (secret_text) end to end: the request log and the emulator are the judge.

The plan sees a value change through the fingerprint record on the deployed version
(`workers/message` annotation); a version someone else made (wrangler secret put) has
none, so the plan cannot vouch for the values and writes them again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks._common import WRANGLER, run_wrangler
from reconciler.errors import UnsafePlanError
from reconciler.markers import SECRETS_ANNOTATION, parse_secrets_record
from reconciler.plan.model import Action, Plan
from tests.e2e.conftest import Env
from tests.e2e.test_apply_guard import _run_forged as run_forged
from tests.e2e.test_apply_guard import _setup as guard_setup

WORKER = "payments-api"
SECRETS_PATH = f"/workers/scripts/{WORKER}/secrets"
SETTINGS_PATH = f"/workers/scripts/{WORKER}/settings"
VALUES = {"PAY_API_KEY": "e2e-api-key-value-one", "PAY_DB_URL": "e2e-db-url-value-two"}
DECLARE = """      - {type: secrets_store_secret, name: STRIPE_KEY, store: prod-secrets, secret: STRIPE_KEY}
      - {type: secret_text, name: API_KEY, value_from: {env: PAY_API_KEY}}
      - {type: secret_text, name: DB_URL, value_from: {env: PAY_DB_URL}}
"""


def _declare(env: Env) -> None:
    env.edit(
        "manifests/workers.yaml",
        "      - {type: secrets_store_secret, name: STRIPE_KEY, store: prod-secrets, "
        "secret: STRIPE_KEY}\n",
        DECLARE,
    )


def _run(env: Env, *args: str, **values: str) -> tuple[int, str]:
    result = env.run(*args, env={**VALUES, **values})
    return result.exit_code, result.output


def _script(env: Env, name: str = WORKER) -> dict[str, object]:
    return next(s for s in env.inspect("state")["scripts"] if s["id"] == name)


def _secret_names(env: Env, name: str = WORKER) -> list[str]:
    bindings = _script(env, name)["settings"]["bindings"]  # type: ignore[index]
    return sorted(b["name"] for b in bindings if b["type"] == "secret_text")


def _record(env: Env) -> dict[str, str] | None:
    annotations = _script(env)["settings"]["annotations"]  # type: ignore[index]
    return parse_secrets_record(annotations.get(SECRETS_ANNOTATION))


def _put_by_hand(env: Env, name: str, value: str, script: str = WORKER) -> None:
    with env.api() as api:
        api.put(
            f"/workers/scripts/{script}/secrets",
            json={"name": name, "text": value, "type": "secret_text"},
        ).raise_for_status()


@pytest.fixture
def applied(env: Env) -> Env:
    """The quick start plus two declared secrets on payments-api, applied."""
    _declare(env)
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    return env


def test_declared_secrets_ride_in_the_first_upload_then_no_change(applied: Env) -> None:
    env = applied
    assert _secret_names(env) == ["API_KEY", "DB_URL"]
    # A new worker: the values went inside its upload, no separate secret writes.
    assert ("PUT", f"/workers/scripts/{WORKER}") in env.writes()
    assert not [w for w in env.writes() if w[1].startswith(SECRETS_PATH)]
    record = _record(env)
    assert record is not None and sorted(record) == ["API_KEY", "DB_URL"]

    env.clear_log()
    code, out = _run(env, "plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert env.writes() == []


def test_one_changed_value_writes_only_that_secret(applied: Env) -> None:
    env = applied
    code, out = _run(env, "plan", "--detailed-exitcode", PAY_API_KEY="e2e-api-key-rotated")
    assert code == 2, out
    assert f"worker_secret {WORKER}/API_KEY" in out
    assert "DB_URL" not in out
    assert "(sensitive)" in out
    assert "e2e-api-key-rotated" not in out and VALUES["PAY_API_KEY"] not in out

    code, out = _run(env, "plan", "--format", "json", PAY_API_KEY="e2e-api-key-rotated")
    doc = json.loads(out)
    (action,) = doc["actions"]
    assert action["kind"] == "worker_secret" and action["action"] == "replace"
    assert (action["worker"], action["name"]) == (WORKER, "API_KEY")
    assert action["changes"] == [
        {"field": "value", "before": "(sensitive)", "after": "(sensitive)"}
    ]

    before = _record(env)
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", PAY_API_KEY="e2e-api-key-rotated")
    assert code == 0, out
    # One secret write (its body names API_KEY), then the record on the version it made.
    assert env.writes() == [("PUT", SECRETS_PATH), ("PATCH", SETTINGS_PATH)]
    after = _record(env)
    assert before is not None and after is not None
    assert after["DB_URL"] == before["DB_URL"] and after["API_KEY"] != before["API_KEY"]

    env.clear_log()
    code, out = _run(env, "plan", "--detailed-exitcode", PAY_API_KEY="e2e-api-key-rotated")
    assert code == 0, out


def test_a_secret_changed_out_of_band_shows_as_drift(applied: Env) -> None:
    env = applied
    _put_by_hand(env, "API_KEY", "changed-by-hand")
    code, out = _run(env, "drift")
    assert code == 2, out
    assert f"worker_secret {WORKER}/API_KEY" in out
    assert "records no fingerprint" in out
    assert "changed-by-hand" not in out
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    code, out = _run(env, "drift")
    assert code == 0, out


def test_wrangler_secret_put_is_seen_as_drift(applied: Env, tmp_path: Path) -> None:
    if not WRANGLER.exists():
        if os.environ.get("CI"):
            pytest.fail(f"wrangler is not installed at {WRANGLER}")
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    env = applied
    work = tmp_path / "wrangler-cwd"
    work.mkdir()

    def wrangler(*args: str, stdin: str = "") -> str:
        proc = run_wrangler(list(args), cwd=work, base_url=env.server.base_url, stdin_text=stdin)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    wrangler("secret", "put", "API_KEY", "--name", WORKER, stdin="set-by-wrangler\n")
    listed = wrangler("secret", "list", "--name", WORKER)
    assert "API_KEY" in listed and "set-by-wrangler" not in listed
    code, out = _run(env, "drift")
    assert code == 2, out
    assert f"worker_secret {WORKER}/API_KEY" in out
    assert "set-by-wrangler" not in out
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    code, out = _run(env, "drift")
    assert code == 0, out
    # wrangler still manages the same worker's secrets afterwards.
    wrangler("secret", "delete", "DB_URL", "--name", WORKER)
    assert _secret_names(env) == ["API_KEY"]
    code, out = _run(env, "drift")
    assert code == 2 and f"worker_secret {WORKER}/DB_URL" in out, out


def test_an_undeclared_secret_is_listed_and_deleted_only_with_prune(applied: Env) -> None:
    env = applied
    _put_by_hand(env, "LEFTOVER", "old-value")
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert "LEFTOVER" in out and "--prune deletes them" in out
    # Not deleted; the declared values are rewritten (the hand-made version has no record).
    assert ("DELETE", f"{SECRETS_PATH}/LEFTOVER") not in env.writes()
    assert "LEFTOVER" in _secret_names(env)

    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", "--prune")
    assert code == 0, out
    assert env.writes() == [("DELETE", f"{SECRETS_PATH}/LEFTOVER"), ("PATCH", SETTINGS_PATH)]
    assert _secret_names(env) == ["API_KEY", "DB_URL"]
    code, out = _run(env, "plan", "--detailed-exitcode", "--prune")
    assert code == 0, out


def test_an_unmanaged_workers_secrets_are_never_touched(applied: Env) -> None:
    env = applied
    env.seed_worker("by-hand")
    _put_by_hand(env, "THEIRS", "their-value", script="by-hand")
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", "--prune")
    assert code == 0, out
    assert not [w for w in env.writes() if "by-hand" in w[1]]
    assert _secret_names(env, "by-hand") == ["THEIRS"]


def test_a_code_change_reuploads_and_keeps_the_secrets(applied: Env) -> None:
    env = applied
    env.edit("manifests/workers/payments-api.js", "stripe_configured", "stripe_ready")
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    # The upload, then the tag recording its etag (docs/cheap-reads.md).
    assert env.writes() == [
        ("PUT", f"/workers/scripts/{WORKER}"),
        ("PATCH", f"/workers/scripts/{WORKER}/script-settings"),
    ]
    assert _secret_names(env) == ["API_KEY", "DB_URL"]
    code, out = _run(env, "plan", "--detailed-exitcode")
    assert code == 0, out


def test_a_code_change_with_a_value_change_is_one_upload(applied: Env) -> None:
    env = applied
    env.edit("manifests/workers/payments-api.js", "stripe_configured", "stripe_ready")
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", PAY_DB_URL="e2e-db-url-rotated")
    assert code == 0, out
    # The upload, then the tag recording its etag (docs/cheap-reads.md).
    assert env.writes() == [
        ("PUT", f"/workers/scripts/{WORKER}"),
        ("PATCH", f"/workers/scripts/{WORKER}/script-settings"),
    ]
    code, out = _run(env, "plan", "--detailed-exitcode", PAY_DB_URL="e2e-db-url-rotated")
    assert code == 0, out


def test_removing_a_declaration_then_prune_deletes_it_before_nothing_else(applied: Env) -> None:
    env = applied
    env.edit(
        "manifests/workers.yaml",
        "      - {type: secret_text, name: DB_URL, value_from: {env: PAY_DB_URL}}\n",
        "",
    )
    code, out = _run(env, "plan", "--detailed-exitcode", "--prune")
    assert code == 2, out
    assert f"worker_secret {WORKER}/DB_URL" in out
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", "--prune")
    assert code == 0, out
    assert env.writes() == [("DELETE", f"{SECRETS_PATH}/DB_URL"), ("PATCH", SETTINGS_PATH)]
    assert _secret_names(env) == ["API_KEY"]
    code, out = _run(env, "plan", "--detailed-exitcode", "--prune")
    assert code == 0, out


def test_a_missing_value_source_is_a_conflict_naming_the_worker(env: Env) -> None:
    _declare(env)
    result = env.run("plan", env={"PAY_API_KEY": VALUES["PAY_API_KEY"], "PAY_DB_URL": None})
    assert result.exit_code == 3, result.output
    assert f"worker '{WORKER}' secret 'DB_URL'" in result.output


FORGED: list[tuple[str, Callable[[Plan], None], str]] = [
    (
        "delete an unmanaged worker's secret",
        lambda p: (
            setattr(p.options, "prune", True),
            p.actions.append(Action("delete", "worker_secret", "THEIRS", worker="hand-made")),
        ),
        "(delete worker_secret hand-made/THEIRS): it does not carry our tag on its worker",
    ),
    (
        "delete a worker secret without prune",
        lambda p: p.actions.append(Action("delete", "worker_secret", "THEIRS", worker=WORKER)),
        "the plan's options do not include prune",
    ),
    (
        "write an undeclared worker secret",
        lambda p: p.actions.append(
            Action("create", "worker_secret", "PLANTED", None, [], worker=WORKER)
        ),
        f"(create worker_secret {WORKER}/PLANTED): no manifest declares this worker_secret",
    ),
    (
        "a worker secret without its worker",
        lambda p: p.actions.append(Action("create", "worker_secret", "PLANTED")),
        "a worker_secret action must name its worker and no store",
    ),
]


@pytest.mark.parametrize(("what", "forge", "says"), FORGED, ids=[c[0] for c in FORGED])
def test_the_applier_guard_covers_worker_secret_actions(
    env: Env, what: str, forge: Callable[[Plan], None], says: str
) -> None:
    guard_setup(env)
    _put_by_hand(env, "THEIRS", "their-value", script="hand-made")
    error = run_forged(env, forge)
    assert isinstance(error, UnsafePlanError), (what, error)
    assert says in str(error)


def test_a_saved_plan_with_a_worker_secret_applies_and_a_stale_one_is_refused(
    applied: Env,
) -> None:
    env = applied
    rotated = {"PAY_API_KEY": "e2e-api-key-saved-plan"}
    code, out = _run(env, "plan", "--out", "plan.json", **rotated)
    assert code == 0, out
    saved = (env.root / "plan.json").read_text()
    assert '"worker_secret"' in saved and rotated["PAY_API_KEY"] not in saved
    code, out = _run(env, "apply", "--plan", "plan.json", "--auto-approve", **rotated)
    assert code == 0, out
    assert f"worker_secret {WORKER}/API_KEY" in out
    # The same file again: the account has moved on (the record changed), so it is refused.
    code, out = _run(env, "apply", "--plan", "plan.json", "--auto-approve", **rotated)
    assert code == 1 and "nothing was changed" in out, out


def test_a_worker_secret_from_a_command_source(env: Env) -> None:
    """Every value source store secrets have works for secret_text (here: a command)."""
    env.edit(
        "manifests/workers.yaml",
        "      - {type: secrets_store_secret, name: STRIPE_KEY, store: prod-secrets, "
        "secret: STRIPE_KEY}\n",
        "      - {type: secrets_store_secret, name: STRIPE_KEY, store: prod-secrets, "
        "secret: STRIPE_KEY}\n"
        "      - {type: secret_text, name: FROM_CMD, value_from: {command: [echo, cmd-value-9f]}}\n",
    )
    result = env.run("apply", "--auto-approve", "--allow-commands")
    assert result.exit_code == 0, result.output
    assert "cmd-value-9f" not in result.output
    assert _secret_names(env) == ["FROM_CMD"]
    again = env.run("plan", "--detailed-exitcode", "--allow-commands")
    assert again.exit_code == 0, again.output
