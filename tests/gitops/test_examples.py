"""Each example directory plans and applies cleanly against the emulator, as its README says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig

from .conftest import EXAMPLES, Cli, accounts_config


def _account(manifest: Path) -> str:
    """The account_id of a manifest file, or of a directory's reconciler.yaml."""
    doc = yaml.safe_load(
        (manifest if manifest.is_file() else manifest / "reconciler.yaml").read_text()
    )
    account: str = doc["account_id"]
    return account


def _apply_then_in_sync(cli: Cli, path: Path, env: dict[str, str]) -> Any:
    """Plan (creates only), apply, then plan and drift report nothing: returns the first plan."""
    result, plan = cli.plan_file("plan", str(path), env=env)
    assert result.exit_code == 0, result.output
    assert plan["conflicts"] == []
    assert plan["actions"]
    assert {a["action"] for a in plan["actions"]} == {"create"}
    applied = cli("apply", str(path), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete" in applied.output
    again = cli("plan", str(path), "--detailed-exitcode", env=env)
    assert again.exit_code == 0, again.output
    drift = cli("drift", str(path), "--fail-on", "unmanaged", env=env)
    assert drift.exit_code == 0, drift.output
    return plan


def test_multi_env_staging_and_prod_go_to_their_own_accounts(
    make_cli: Callable[[EmulatorConfig | None], Cli],
) -> None:
    staging, prod = EXAMPLES / "multi-env/staging.yaml", EXAMPLES / "multi-env/prod.yaml"
    assert _account(staging) != _account(prod)
    cli = make_cli(accounts_config(_account(staging), _account(prod)))
    env = {
        "STAGING_UPSTREAM_TOKEN": "staging-token-value",
        "PROD_UPSTREAM_TOKEN": "prod-token-value",
    }

    plan = _apply_then_in_sync(cli, staging, env)
    assert plan["account_id"] == _account(staging)
    # Staging changed nothing in prod: prod still plans its own creates.
    _, prod_plan = cli.plan_file("plan", str(prod), env=env)
    assert prod_plan["account_id"] == _account(prod)
    assert {(a["action"], a["kind"], a["name"]) for a in prod_plan["actions"]} == {
        ("create", "store", "prod-secrets"),
        ("create", "secret", "UPSTREAM_TOKEN"),
        ("create", "worker", "orders-api"),
    }
    _apply_then_in_sync(cli, prod, env)


def test_multi_module_worker_uploads_every_module_under_its_import_name(served_cli: Cli) -> None:
    example = EXAMPLES / "multi-module"
    plan = _apply_then_in_sync(served_cli, example, {})
    assert [(a["action"], a["kind"], a["name"]) for a in plan["actions"]] == [
        ("create", "worker", "catalog-api")
    ]
    # What the account holds, read back by the official SDK: each module under the name
    # the imports use (relative to src/, where the main module lives).
    cf = Cloudflare(base_url=served_cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    body = cf.workers.scripts.content.get("catalog-api", account_id=DEFAULT_ACCOUNT_ID).read()
    for name in ("index.js", "router.js", "lib/responses.js", "lib/products.js"):
        assert f'filename="{name}"'.encode() in body
        assert (example / "src" / name).read_bytes() in body
    # And export gives the same files back.
    assert served_cli("export", "--out", "exported").exit_code == 0
    for name in ("index.js", "router.js", "lib/responses.js", "lib/products.js"):
        exported = Path("exported/workers/catalog-api") / name
        assert exported.read_bytes() == (example / "src" / name).read_bytes()


def _secret_id(cli: Cli, store: str, name: str) -> str:
    cf = Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    (store_obj,) = [
        s for s in cf.secrets_store.stores.list(account_id=DEFAULT_ACCOUNT_ID) if s.name == store
    ]
    secrets = cf.secrets_store.stores.secrets.list(store_obj.id, account_id=DEFAULT_ACCOUNT_ID)
    (secret,) = [s for s in secrets if s.name == name]
    return secret.id


def test_secret_rotation_replaces_the_secret_when_its_value_changes(served_cli: Cli) -> None:
    example = EXAMPLES / "secret-rotation"
    _apply_then_in_sync(served_cli, example, {"PARTNER_API_KEY": "partner-key-v1"})
    first_id = _secret_id(served_cli, "rotation-demo", "PARTNER_API_KEY")

    rotated = {"PARTNER_API_KEY": "partner-key-v2"}
    result, plan = served_cli.plan_file("plan", str(example), "--detailed-exitcode", env=rotated)
    assert result.exit_code == 2, result.output
    assert [(a["action"], a["kind"], a["name"]) for a in plan["actions"]] == [
        ("replace", "secret", "PARTNER_API_KEY")
    ]
    assert "value changed" in plan["actions"][0]["reason"]
    assert "partner-proxy" in plan["actions"][0]["reason"]  # the unavailability window is named
    assert "partner-key" not in result.output
    drift = served_cli("drift", str(example), env=rotated)
    assert drift.exit_code == 2

    assert served_cli("apply", str(example), "--auto-approve", env=rotated).exit_code == 0
    second_id = _secret_id(served_cli, "rotation-demo", "PARTNER_API_KEY")
    assert second_id != first_id  # delete-then-recreate: a new id
    assert served_cli("plan", str(example), "--detailed-exitcode", env=rotated).exit_code == 0

    # --replace rotates on demand, even when the value did not change (or without a key).
    result, plan = served_cli.plan_file(
        "plan", str(example), "--replace", "PARTNER_API_KEY", env=rotated
    )
    assert [a["action"] for a in plan["actions"]] == ["replace"]
    assert (
        served_cli(
            "apply", str(example), "--replace", "PARTNER_API_KEY", "--auto-approve", env=rotated
        ).exit_code
        == 0
    )
    assert _secret_id(served_cli, "rotation-demo", "PARTNER_API_KEY") != second_id


def test_every_example_has_a_readme_and_validates(served_cli: Cli) -> None:
    examples = ("multi-env/staging.yaml", "multi-env/prod.yaml", "multi-module", "secret-rotation")
    for example in examples:
        result = served_cli("validate", str(EXAMPLES / example))
        assert result.exit_code == 0, result.output
    for readme in ("multi-env", "multi-module", "secret-rotation", "github-actions", "gitlab-ci"):
        assert (EXAMPLES / readme / "README.md").is_file(), readme
