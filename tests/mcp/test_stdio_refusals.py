"""Apply by plan_id refuses, and writes nothing, unless a fresh plan equals the shown one.

The server talks to a served emulator (`--api-base-url` and a token of its own), so the
test can change the account behind the agent's back and read the emulator's request log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, EmulatorConfig
from reconciler.emulator.server import EmulatorServer
from tests.mcp.conftest import (
    ENV_SECRET_VALUE,
    FINGERPRINT_KEY,
    SECRETS,
    STRIPE_VALUE,
    agent,
    assert_no_secrets,
    clear_log,
    project,
    run,
    writes,
)

TOKEN = "mcp-e2e-token-7c1d0b9e"
ROTATED = ("sk_test_ROTATED_once_9d1c", "sk_test_ROTATED_twice_4e2b")
SECOND_STORE = """\
stores:
  - name: second-store
secrets:
  - name: FROM_ENV
    store: second-store
    value_from: {env: MCP_E2E_SECRET}
    scopes: [workers]
"""


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig.model_validate(
        {"tokens": [{"token": TOKEN, "accounts": [DEFAULT_ACCOUNT_ID]}]}
    )
    with EmulatorServer(config=config) as srv:
        yield srv


def _env(server: EmulatorServer) -> dict[str, str]:
    return {
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "RECONCILER_FINGERPRINT_KEY": FINGERPRINT_KEY,
        "MCP_E2E_SECRET": ENV_SECRET_VALUE,
    }


def test_apply_refuses_stale_unknown_and_conflicting_plans(
    server: EmulatorServer, tmp_path: Path
) -> None:
    root = project(tmp_path)
    errlog = (tmp_path / "server.log").open("w+")
    api = httpx.Client(
        base_url=f"{server.base_url}/accounts/{DEFAULT_ACCOUNT_ID}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    flags = ("--api-base-url", server.base_url, "--allow-apply", "--no-cache", "-vv")

    async def main() -> list[str]:
        async with agent(root, *flags, env=_env(server), errlog=errlog) as a:
            applied = await a.ok("apply", plan_id=(await a.ok("plan"))["plan_id"])
            assert applied["ok"], applied

            # Stale: a change is shown, then the account changes out of band.
            edited = root / "manifests" / "secrets.yaml"
            edited.write_text(edited.read_text().replace("Signs outgoing", "Signs all outgoing"))
            shown = await a.ok("plan")
            assert shown["plan"]["summary"]["update"] == 1, shown["text"]
            stores = api.get("/secrets_store/stores").json()["result"]
            api.post(
                f"/secrets_store/stores/{stores[0]['id']}/secrets",
                json=[{"name": "BY_HAND", "value": "x", "scopes": ["workers"]}],
            ).raise_for_status()
            clear_log(server.root_url)
            refused = await a.error("apply", plan_id=shown["plan_id"])
            assert refused.startswith("the account changed since the plan was made"), refused
            assert "nothing was changed" in refused
            assert refused.endswith(
                "Here: call plan again, show the new plan, and apply its plan_id"
            )
            assert writes(server.root_url) == []

            # Unknown id: refused before anything is read.
            clear_log(server.root_url)
            unknown = await a.error("apply", plan_id="plan-feedfeedfeedfeed")
            assert "no plan with id" in unknown and "nothing was changed" in unknown
            assert writes(server.root_url) == []

            # Pinned values: a value rotated again after the plan was shown is refused.
            stripe = root / "manifests" / "dev-secrets" / "stripe-key.txt"
            stripe.write_text(ROTATED[0] + "\n")
            rotated = await a.ok("plan")
            pins = rotated["plan"]["value_pins"]["pins"]
            assert ("secret", "STRIPE_KEY") in {(p["kind"], p["name"]) for p in pins}
            stripe.write_text(ROTATED[1] + "\n")
            clear_log(server.root_url)
            pinned = await a.error("apply", plan_id=rotated["plan_id"])
            assert pinned.startswith(
                "the value of secret prod-secrets/STRIPE_KEY is not the one the plan was made with"
            ), pinned
            assert writes(server.root_url) == []
            stripe.write_text(STRIPE_VALUE + "\n")

            # Store limit: a second store on a one-store account is a conflict, never applied.
            (root / "manifests" / "second.yaml").write_text(SECOND_STORE)
            conflicted = await a.ok("plan")
            assert conflicted["has_conflicts"] and conflicted["exit_code"] == 3
            kinds = [c["kind"] for c in conflicted["plan"]["conflicts"]]
            assert kinds == ["store_limit"], conflicted["plan"]["conflicts"]
            clear_log(server.root_url)
            blocked = await a.error("apply", plan_id=conflicted["plan_id"])
            assert blocked.startswith("the plan has conflicts:"), blocked
            assert "store_limit" in blocked
            assert writes(server.root_url) == []
            names = [s["name"] for s in api.get("/secrets_store/stores").json()["result"]]
            assert names == ["prod-secrets"]
            return a.seen

    seen = run(main())
    errlog.seek(0)
    logged = errlog.read()
    # -vv: every API call is logged (to stderr), never a value or the token.
    assert "INFO reconciler.cloudflare: GET /accounts -> 200" in logged, logged[-2000:]
    assert_no_secrets([*seen, logged], *SECRETS, *ROTATED, TOKEN)


def test_api_failures_are_tool_errors_with_the_cli_sentence(
    server: EmulatorServer, tmp_path: Path
) -> None:
    """A token the API refuses: every account tool answers the CLI's sentence, the server lives on."""
    root = project(tmp_path)
    wrong = "mcp-e2e-wrong-token-3a9f51"
    errlog = (tmp_path / "server.log").open("w+")
    env = {**_env(server), "CLOUDFLARE_API_TOKEN": wrong}

    async def main() -> list[str]:
        flags = ("--api-base-url", server.base_url, "--allow-apply", "-vv")
        async with agent(root, *flags, env=env, errlog=errlog) as a:
            for tool in ("plan", "drift", "export"):
                refused = await a.error(tool)
                assert "(10000 authentication error, HTTP 401)" in refused, refused
                assert "set CLOUDFLARE_API_TOKEN to a valid token" in refused
            assert (await a.ok("validate"))["valid"] is True  # still serving
            return a.seen

    seen = run(main())
    assert writes(server.root_url) == []
    assert not (root / "exported").exists()
    errlog.seek(0)
    assert_no_secrets([*seen, errlog.read()], *SECRETS, TOKEN, wrong)


WORKER_SECRET_VALUE = "mcp-e2e-worker-secret-value-e41c"
WORKER_WITH_SECRET = """\
workers:
  - name: secret-holder
    script: holder.js
    compatibility_date: "2025-01-01"
    bindings:
      - {type: secret_text, name: API_KEY, value_from: {env: MCP_E2E_WORKER_SECRET}}
"""


def test_worker_secret_values_never_reach_a_result(server: EmulatorServer, tmp_path: Path) -> None:
    """Worker script secrets (secret_text) through plan, apply, plan, drift and export."""
    root = tmp_path / "ws"
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "holder.yaml").write_text(WORKER_WITH_SECRET)
    (root / "manifests" / "holder.js").write_text(
        "export default { fetch() { return new Response('ok'); } };\n"
    )
    errlog = (tmp_path / "server.log").open("w+")
    env = {**_env(server), "MCP_E2E_WORKER_SECRET": WORKER_SECRET_VALUE}

    async def main() -> list[str]:
        flags = ("--api-base-url", server.base_url, "--allow-apply", "--no-cache", "-vv")
        async with agent(root, *flags, env=env, errlog=errlog) as a:
            shown = await a.ok("plan")
            assert shown["plan"]["summary"]["create"] == 2, shown["text"]
            assert "+ worker_secret secret-holder/API_KEY" in shown["text"]
            assert (await a.ok("apply", plan_id=shown["plan_id"]))["ok"]
            again = await a.ok("plan")
            assert again["has_changes"] is False, again["text"]
            assert (await a.ok("drift"))["in_sync"] is True
            exported = await a.ok("export", directory="exported")
            assert "SECRET_HOLDER_API_KEY" in {v["name"] for v in exported["env_vars"]}
            return a.seen

    seen = run(main())
    errlog.seek(0)
    written = [p.read_text() for p in (root / "exported").rglob("*") if p.is_file()]
    assert_no_secrets([*seen, errlog.read(), *written], WORKER_SECRET_VALUE, TOKEN, *SECRETS)
