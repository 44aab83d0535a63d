"""A saved plan pins the values it writes and the values it compared (issue 21, part 2).

`plan --out` records, per value it resolved, a keyed pin (never the value); `apply --plan`
resolves the values again and refuses, writing nothing, when one differs, naming the
secret. Without a fingerprint key nothing can be pinned: the plan says so, and a saved
plan that writes values is refused with a sentence naming the key.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.fingerprint import fingerprint, worker_secret_fingerprint
from tests.e2e.conftest import FINGERPRINT_KEY, Env

STORE = "prod-secrets"
ROTATING = "ROT_STRIPE_KEY"
WORKER_SECRET = """\
      - {type: secret_text, name: API_TOKEN, value_from: {env: ROT_API_TOKEN}}
"""
VALUES = ("rot-3", "rot-4", "tok-1", "tok-2")


def _from_env(env: Env) -> None:
    """STRIPE_KEY from an environment variable, and payments-api with a secret_text."""
    env.edit("manifests/secrets.yaml", "{file: dev-secrets/stripe-key.txt}", f"{{env: {ROTATING}}}")
    env.edit(
        "manifests/workers.yaml",
        "      - {type: secrets_store_secret, name: STRIPE_KEY",
        WORKER_SECRET + "      - {type: secrets_store_secret, name: STRIPE_KEY",
    )


def _held(env: Env) -> str | None:
    """The fingerprint STRIPE_KEY's comment records: apply writes it from the value it sends."""
    [secret] = [s for s in env.inspect("state")["secrets"] if s["name"] == "STRIPE_KEY"]
    comment: str = secret["comment"] or ""
    return comment.rsplit("fp=", 1)[1].rstrip("]") if "fp=" in comment else None


def _assert_clean(output: str) -> None:
    for value in VALUES:
        assert value not in output, "a value reached the output"
    assert "Traceback" not in output and "internal error" not in output


def _applied(env: Env) -> None:
    _from_env(env)
    first = env.run("apply", "--auto-approve", env={ROTATING: "rot-2", "ROT_API_TOKEN": "tok-1"})
    assert first.exit_code == 0, first.output


def test_a_store_value_changed_after_the_plan_is_refused_naming_the_secret(env: Env) -> None:
    _applied(env)
    saved = env.run("plan", "--out", "plan.json", env={ROTATING: "rot-3", "ROT_API_TOKEN": "tok-1"})
    assert saved.exit_code == 0, saved.output
    raw = (env.root / "plan.json").read_text()
    doc = json.loads(raw)
    assert [(a["action"], a["name"]) for a in doc["actions"]] == [("replace", "STRIPE_KEY")]
    assert "rot-3" not in raw and "tok-1" not in raw
    env.clear_log()
    applied = env.run(
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
        env={ROTATING: "rot-4", "ROT_API_TOKEN": "tok-1"},
    )
    assert applied.exit_code == 1, applied.output
    assert env.writes() == [], "a refused plan changes nothing"
    assert _held(env) == fingerprint(FINGERPRINT_KEY.encode(), STORE, "STRIPE_KEY", "rot-2")
    assert applied.output.count("Error: ") == 1
    assert (
        f"Error: the value of secret {STORE}/STRIPE_KEY is not the one the plan was made with"
    ) in applied.output
    assert "nothing was changed" in applied.output
    _assert_clean(applied.output)
    # The control: the value the plan was made with applies, and that is what the account holds.
    same = env.run(
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
        env={ROTATING: "rot-3", "ROT_API_TOKEN": "tok-1"},
    )
    assert same.exit_code == 0, same.output
    assert _held(env) == fingerprint(FINGERPRINT_KEY.encode(), STORE, "STRIPE_KEY", "rot-3")


def test_a_worker_secret_value_changed_after_the_plan_is_refused(env: Env) -> None:
    _applied(env)
    values = {ROTATING: "rot-2", "ROT_API_TOKEN": "tok-2"}
    assert env.run("plan", "--out", "plan.json", env=values).exit_code == 0
    doc = json.loads((env.root / "plan.json").read_text())
    assert [(a["action"], a["kind"], a["name"]) for a in doc["actions"]] == [
        ("replace", "worker_secret", "API_TOKEN")
    ]
    env.clear_log()
    applied = env.run(
        "apply", "--plan", "plan.json", "--auto-approve", env={**values, "ROT_API_TOKEN": "tok-3"}
    )
    assert applied.exit_code == 1, applied.output
    assert env.writes() == []
    assert (
        "the value of worker payments-api's secret API_TOKEN is not the one the plan was made with"
    ) in applied.output
    _assert_clean(applied.output)
    fp = worker_secret_fingerprint(FINGERPRINT_KEY.encode(), "payments-api", "API_TOKEN", "tok-2")
    assert fp not in applied.output


def test_a_value_compared_as_unchanged_is_pinned_too(env: Env) -> None:
    """The plan only updates a comment; STRIPE_KEY's value it compared must still be the same."""
    _applied(env)
    env.edit("manifests/secrets.yaml", "Signs outgoing webhooks", "Signs webhooks (v2)")
    values = {ROTATING: "rot-2", "ROT_API_TOKEN": "tok-1"}
    assert env.run("plan", "--out", "plan.json", env=values).exit_code == 0
    env.clear_log()
    applied = env.run(
        "apply", "--plan", "plan.json", "--auto-approve", env={**values, ROTATING: "rot-4"}
    )
    assert applied.exit_code == 1, applied.output
    assert env.writes() == []
    assert f"the value of secret {STORE}/STRIPE_KEY is not the one" in applied.output
    _assert_clean(applied.output)


def test_without_a_key_a_plan_that_writes_values_cannot_be_applied_from_a_file(env: Env) -> None:
    _applied(env)
    no_key = {ROTATING: "rot-3", "ROT_API_TOKEN": "tok-1", "RECONCILER_FINGERPRINT_KEY": None}
    # Without the key the value change is invisible; --replace asks for the write.
    flags = ("--replace", "STRIPE_KEY")
    saved = env.run("plan", "--out", "plan.json", *flags, env=no_key)
    assert saved.exit_code == 0, saved.output
    assert "cannot be pinned" in saved.output and "RECONCILER_FINGERPRINT_KEY" in saved.output
    doc = json.loads((env.root / "plan.json").read_text())
    assert doc["value_pins"] is None
    env.clear_log()
    refused = env.run("apply", "--plan", "plan.json", "--auto-approve", env=no_key)
    assert refused.exit_code == 1, refused.output
    assert env.writes() == []
    assert "pins none of the values it writes" in refused.output
    assert "Set RECONCILER_FINGERPRINT_KEY, run `reconciler plan --out" in refused.output
    assert refused.output.count("Error: ") == 1
    # With the key at apply only, the file still pins nothing: refused, naming the key.
    with_key = {k: v for k, v in no_key.items() if k != "RECONCILER_FINGERPRINT_KEY"}
    refused = env.run("apply", "--plan", "plan.json", "--auto-approve", env=with_key)
    assert refused.exit_code == 1, refused.output
    assert "RECONCILER_FINGERPRINT_KEY" in refused.output
    assert env.writes() == []
    _assert_clean(refused.output)


def test_a_plan_made_with_the_key_is_refused_without_it(env: Env) -> None:
    _applied(env)
    values = {ROTATING: "rot-3", "ROT_API_TOKEN": "tok-1"}
    assert env.run("plan", "--out", "plan.json", env=values).exit_code == 0
    env.clear_log()
    refused = env.run(
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
        env={**values, "RECONCILER_FINGERPRINT_KEY": None},
    )
    assert refused.exit_code == 1, refused.output
    assert env.writes() == []
    assert "RECONCILER_FINGERPRINT_KEY is not set" in refused.output


def _rotate_pins(doc: dict[str, Any]) -> None:
    """Each entry gets the next entry's genuine pin."""
    entries = doc["value_pins"]["pins"]
    pins = [e["pin"] for e in entries]
    for entry, pin in zip(entries, pins[1:] + pins[:1], strict=True):
        entry["pin"] = pin


def test_forged_pins_are_refused(env: Env) -> None:
    """Pins are keyed: a file whose pins are dropped, copied or swapped is refused."""
    _applied(env)
    values = {ROTATING: "rot-3", "ROT_API_TOKEN": "tok-2"}
    assert env.run("plan", "--out", "plan.json", env=values).exit_code == 0
    doc = json.loads((env.root / "plan.json").read_text())
    pins = doc["value_pins"]["pins"]
    assert {(p["kind"], p["name"]) for p in pins} >= {
        ("secret", "STRIPE_KEY"),
        ("secret", "WEBHOOK_SIGNING_KEY"),
        ("worker_secret", "API_TOKEN"),
    }
    forgeries = [
        lambda d: d.update(value_pins=None),
        lambda d: d["value_pins"].update(pins=[]),
        lambda d: d["value_pins"].update(salt="0" * 32),
        _rotate_pins,
    ]
    for forge in forgeries:
        forged = json.loads(json.dumps(doc))
        forge(forged)
        (env.root / "plan.json").write_text(json.dumps(forged))
        env.clear_log()
        refused = env.run("apply", "--plan", "plan.json", "--auto-approve", env=values)
        assert refused.exit_code == 1, refused.output
        assert refused.output.count("Error: ") == 1, refused.output
        assert env.writes() == []
        _assert_clean(refused.output)
