"""Gradual deployments end to end (issue 24): a version to a percentage of traffic, promoted and
pinned back by commits; the official SDK reads the deployments; secrets are inherited, never
sent with the code."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
from cloudflare import Cloudflare
from cloudflare.types.workers.scripts import DeploymentListResponse

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from tests.e2e.conftest import REPO, Env

A = DEFAULT_ACCOUNT_ID
WORKER = "payments-api"
ANCHOR = "    compatibility_flags: [nodejs_compat]\n"
CODE = "manifests/workers/payments-api.js"


def _sdk(env: Env) -> Cloudflare:
    return Cloudflare(base_url=env.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)


def _split(env: Env) -> dict[int, float]:
    """The latest deployment as the SDK reads it: version number -> percentage.

    SDK 5.9.0 types the list as a paged `items` list, but the API answers
    `{"deployments": [...]}` (cloudflare-api.md N10): the page keeps it as `result.deployments`,
    read with the SDK's own `DeploymentListResponse` model."""
    with _sdk(env) as cf:
        page = cf.workers.scripts.deployments.list(WORKER, account_id=A)
        raw = getattr(page.result, "deployments", None)
        deployments = DeploymentListResponse.model_validate({"deployments": raw}).deployments
        numbers = {v.id: v.number for v in cf.workers.scripts.versions.list(WORKER, account_id=A)}
    return {numbers[v.version_id]: v.percentage for v in deployments[0].versions}


def _run(env: Env, *args: str, **values: str) -> tuple[int, str]:
    result = env.run(*args, env=dict(values))
    return result.exit_code, result.output


def _rollout(env: Env, text: str) -> None:
    path = env.root / "manifests/workers.yaml"
    body = path.read_text()
    start = body.find("    rollout:")
    if start >= 0:
        end = body.index("\n", start) + 1
        body = body[:start] + body[end:]
    path.write_text(body.replace(ANCHOR, ANCHOR + f"    rollout: {text}\n"))


def _change_code(env: Env, marker: str) -> None:
    path = env.root / CODE
    path.write_text(path.read_text() + f"\n// {marker}\n")


def _writes(env: Env) -> list[tuple[str, str]]:
    return [(m, p.split("?")[0]) for m, p in env.writes() if WORKER in p]


def test_rollout_promote_and_pin_back(env: Env) -> None:
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert _split(env) == {1: 100}

    _change_code(env, "v2")
    _rollout(env, '{percentage: 10, message: "canary v2"}')
    code, out = _run(env, "plan")
    assert 'deployment: "v1 100%" -> "v1 90% / v2 10%"' in out, out
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert _writes(env) == [
        ("POST", f"/workers/scripts/{WORKER}/versions"),
        ("PATCH", f"/workers/scripts/{WORKER}/script-settings"),  # tags: a version has none
        ("POST", f"/workers/scripts/{WORKER}/deployments"),
    ]
    assert _split(env) == {1: 90, 2: 10}
    code, out = _run(env, "plan", "--detailed-exitcode")
    assert code == 0, out
    with _sdk(env) as cf:
        newest = cf.workers.scripts.versions.list(WORKER, account_id=A)
        tags = {v.number: (v.annotations or {}) for v in newest}
    assert tags[2].get("workers/message") == "canary v2"  # type: ignore[union-attr]
    assert str(tags[2].get("workers/tag", "")).startswith("reconciler ")  # type: ignore[union-attr]

    # promote: one deployment call, no upload
    _rollout(env, "{percentage: 100}")
    code, out = _run(env, "plan")
    assert 'deployment: "v1 90% / v2 10%" -> "v2 100%"' in out, out
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert _writes(env) == [("POST", f"/workers/scripts/{WORKER}/deployments")]
    assert _split(env) == {2: 100}
    assert _run(env, "plan", "--detailed-exitcode")[0] == 0

    # pin back to v1: a commit is the rollback
    _rollout(env, "{version: 1}")
    code, out = _run(env, "plan")
    assert 'deployment: "v2 100%" -> "v1 100%"' in out, out
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve")
    assert code == 0, out
    assert _writes(env) == [("POST", f"/workers/scripts/{WORKER}/deployments")]
    assert _split(env) == {1: 100}
    assert _run(env, "plan", "--detailed-exitcode")[0] == 0


def test_out_of_band_rollback_shows_in_drift(env: Env) -> None:
    _rollout(env, "{percentage: 100}")
    assert _run(env, "apply", "--auto-approve")[0] == 0
    _change_code(env, "v2")
    assert _run(env, "apply", "--auto-approve")[0] == 0
    assert _split(env) == {2: 100}
    with _sdk(env) as cf:
        v1 = next(
            v.id for v in cf.workers.scripts.versions.list(WORKER, account_id=A) if v.number == 1
        )
        cf.workers.scripts.deployments.create(
            WORKER, account_id=A, strategy="percentage",
            versions=[{"version_id": v1, "percentage": 100}],  # type: ignore[list-item]
        )  # fmt: skip
    code, out = _run(env, "drift")
    assert code == 2, out
    assert 'deployment: "v1 100%" -> "v2 100%"' in out, out


SECRETS = """      - {type: secret_text, name: API_KEY, value_from: {env: PAY_API_KEY}}
      - {type: secret_text, name: DB_URL, value_from: {env: PAY_DB_URL}}
"""
VALUES = {"PAY_API_KEY": "rollout-api-key-value", "PAY_DB_URL": "rollout-db-url-value"}
STRIPE = (
    "      - {type: secrets_store_secret, name: STRIPE_KEY, store: prod-secrets, "
    "secret: STRIPE_KEY}\n"
)


def _bodies(env: Env) -> list[dict[str, Any]]:
    return [r for r in env.inspect("requests") if r["method"] in ("POST", "PUT", "PATCH")]


def test_code_rollout_inherits_secrets_and_rotation_uploads_no_code(env: Env) -> None:
    env.edit("manifests/workers.yaml", STRIPE, STRIPE + SECRETS)
    _rollout(env, "{percentage: 100}")
    assert _run(env, "apply", "--auto-approve", **VALUES)[0] == 0
    assert _run(env, "plan", "--detailed-exitcode", **VALUES)[0] == 0

    _change_code(env, "v2")
    env.clear_log()
    code, out = _run(env, "apply", "--auto-approve", **VALUES)
    assert code == 0, out
    assert _writes(env) == [
        ("POST", f"/workers/scripts/{WORKER}/versions"),
        ("PATCH", f"/workers/scripts/{WORKER}/script-settings"),  # tags: a version has none
        ("POST", f"/workers/scripts/{WORKER}/deployments"),
    ]
    script = next(s for s in env.inspect("state")["scripts"] if s["id"] == WORKER)
    sent = {b["name"]: b["type"] for b in script["latest_version"]["sent_bindings"]}
    assert sent["API_KEY"] == "inherit" and sent["DB_URL"] == "inherit"
    assert _run(env, "plan", "--detailed-exitcode", **VALUES)[0] == 0

    env.clear_log()
    rotated = {**VALUES, "PAY_API_KEY": "rotated-api-key-value"}
    code, out = _run(env, "apply", "--auto-approve", **rotated)
    assert code == 0, out
    writes = _writes(env)
    assert ("PUT", f"/workers/scripts/{WORKER}/secrets") in writes
    assert not any(p.endswith(("/versions", f"/scripts/{WORKER}")) for _, p in writes), writes
    assert _run(env, "plan", "--detailed-exitcode", **rotated)[0] == 0


def test_rollback_command_pins_now_and_prints_the_manifest_change(env: Env) -> None:
    env.edit("manifests/workers.yaml", STRIPE, STRIPE + SECRETS)
    _rollout(env, "{percentage: 100}")
    assert _run(env, "apply", "--auto-approve", **VALUES)[0] == 0
    _change_code(env, "v2")
    assert _run(env, "apply", "--auto-approve", **VALUES)[0] == 0
    rotated = {**VALUES, "PAY_API_KEY": "rotated-api-key-value"}
    assert _run(env, "apply", "--auto-approve", **rotated)[0] == 0
    assert _split(env) == {4: 100}  # v2 code, v3 the secret change, v4 its fingerprint record

    env.clear_log()
    code, out = _run(env, "rollback", WORKER)
    assert code == 0, out
    # the default is the newest version with other code: v1, whose API_KEY predates the
    # rotation, so the API refuses it (10220) and it is sent again with force
    assert f"Rolled back worker {WORKER}: v4 100% -> v1 100%" in out, out
    assert "deployed with force" in out
    assert "    rollout: {version: 1}" in out
    assert [m for m, _ in _writes(env)] == ["POST", "POST"]
    assert _split(env) == {1: 100}

    code, out = _run(env, "rollback", WORKER, "--to", "4", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    schema = json.loads((REPO / "reconciler/schemas/rollback.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["number"] == 4 and doc["before"] == "v1 100%" and doc["after"] == "v4 100%"
    assert doc["manifest_change"] == "rollout: {version: 4}" and doc["forced"] is False
    assert _split(env) == {4: 100}

    code, out = _run(env, "rollback", WORKER, "--to", "99")
    assert code == 1 and "has no version '99'" in out, out


def test_a_migration_is_deployed_whole_then_the_rollout_goes_on(env: Env) -> None:
    """The Versions API takes no Durable Object migrations: that upload is a plain deploy."""
    _rollout(env, "{percentage: 10}")
    assert _run(env, "apply", "--auto-approve")[0] == 0
    env.edit("manifests/workers.yaml", ANCHOR, ANCHOR + MIGRATION)
    code, out = _run(env, "plan", "--detailed-exitcode")
    assert code == 2, out
    assert "runs Durable Object migrations" in " ".join(out.split()), out
    env.clear_log()
    assert _run(env, "apply", "--auto-approve")[0] == 0
    assert ("PUT", f"/workers/scripts/{WORKER}") in _writes(env)
    assert not any(p.endswith(("/versions", "/deployments")) for _, p in _writes(env))
    assert _run(env, "plan", "--detailed-exitcode")[0] == 0
    _change_code(env, "v3")
    assert _run(env, "apply", "--auto-approve")[0] == 0
    assert _split(env) == {2: 90, 3: 10}
    assert _run(env, "plan", "--detailed-exitcode")[0] == 0

    # pinned, a new migration step: the upload runs it, then the pin is deployed again
    _rollout(env, "{version: 2}")
    env.edit("manifests/workers.yaml", MIGRATION, MIGRATION.replace("]}]", "]}, " + STEP2 + "]"))
    code, out = _run(env, "plan")
    assert 'deployment: "v4 100%" -> "v2 100%"' in out, out
    assert _run(env, "apply", "--auto-approve")[0] == 0
    assert _split(env) == {2: 100}
    assert _run(env, "plan", "--detailed-exitcode")[0] == 0


STEP2 = "{tag: v2, new_classes: [Lobby]}"
MIGRATION = "    migrations: [{tag: v1, new_sqlite_classes: [Room]}]\n"


def test_a_secret_change_during_a_split_is_refused_with_the_fix(env: Env) -> None:
    env.edit("manifests/workers.yaml", STRIPE, STRIPE + SECRETS)
    assert _run(env, "apply", "--auto-approve", **VALUES)[0] == 0
    _change_code(env, "v2")
    _rollout(env, "{percentage: 10}")
    assert _run(env, "apply", "--auto-approve", **VALUES)[0] == 0
    assert _run(env, "plan", "--detailed-exitcode", **VALUES)[0] == 0  # secrets: the v2 record

    rotated = {**VALUES, "PAY_API_KEY": "rotated-during-split"}
    code, out = _run(env, "apply", "--auto-approve", **rotated)
    said = " ".join(out.split())
    assert code == 1 and "10215 latest version not deployed" in said, out
    assert "finish the rollout (`rollout: {percentage: 100}`)" in said
    assert "rotated-during-split" not in out


# The README's rollout walk-through: each block is the real output of the step it follows.
README_SECTION = re.compile(r"### Gradual deployments \(`rollout`\)\n(.*?)\n### ", re.S)
VARYING = re.compile(
    r"sha256:[0-9a-f]{12}…|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _blocks() -> list[str]:
    section = README_SECTION.search((REPO / "README.md").read_text())
    assert section is not None
    found: list[str] = []
    block: list[str] | None = None
    plain = False
    for line in section.group(1).split("\n"):
        fence = line.strip()
        if fence.startswith("```") and block is None:
            block, plain, indent = [], fence == "```", len(line) - len(line.lstrip())
        elif fence == "```" and block is not None:
            if plain:
                found.append(VARYING.sub("<id>", "\n".join(block)).strip())
            block = None
        elif block is not None:
            block.append(line[indent:])
    return found


def test_the_readme_walk_through_is_real_output(env: Env) -> None:
    assert _run(env, "apply", "--auto-approve")[0] == 0
    _change_code(env, "v2")
    shown: list[str] = []

    def step(rollout: str) -> None:
        _rollout(env, rollout)
        code, out = _run(env, "plan", "--detailed-exitcode")
        assert code == 2, out
        shown.append(VARYING.sub("<id>", out).strip())
        assert _run(env, "apply", "--auto-approve")[0] == 0
        assert _run(env, "plan", "--detailed-exitcode")[0] == 0

    step('{percentage: 10, message: "payments v2: canary"}')
    step('{percentage: 100, message: "payments v2"}')
    step('{version: 1, message: "roll back to v1: v2 broke refunds"}')
    step('{percentage: 100, message: "payments v2 again"}')
    code, out = _run(env, "rollback", WORKER, "--to", "1")
    assert code == 0, out
    shown.append("$ reconciler rollback payments-api --to 1\n" + VARYING.sub("<id>", out).strip())
    assert _blocks()[-5:] == shown
