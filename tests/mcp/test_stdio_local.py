"""`reconciler mcp --local`, driven by the MCP SDK's stdio client: the agent's whole loop.

The server runs in a temporary workspace; the embedded emulator keeps its state beside the
manifests a tool call names (`manifests/.reconciler/`), as `reconciler plan --local` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.emulator.config import DEFAULT_TOKEN
from reconciler.manifest.models import manifest_json_schema
from tests.mcp.conftest import SECRETS, agent, assert_no_secrets, project, run

BROKEN = """\
stores:
  - name: prod-secrets
secrets:
  - name: API KEY
    store: prod-secrets
    value_from: {env: API_KEY}
    scopes: [workers]
workers:
  - name: Hello_World
    script: hello.js
"""

UNSET_ENV = """\
stores:
  - name: prod-secrets
secrets:
  - name: FROM_ENV
    store: prod-secrets
    value_from: {env: MCP_E2E_UNSET_VAR}
    scopes: [workers]
"""


def test_without_allow_apply_the_apply_tool_is_not_offered(tmp_path: Path) -> None:
    workspace = project(tmp_path / "ws")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    async def main() -> set[str]:
        # Started from another directory, as clients do: --workspace says where to work.
        async with agent(elsewhere, "--local", "--workspace", str(workspace)) as a:
            names = await a.tool_names()
            assert (await a.ok("validate"))["valid"] is True
            # Arguments of the wrong shape: a tool error naming the field, the server lives on.
            assert "paths" in await a.error("plan", paths=123)
            assert "prune" in await a.error("plan", prune={"x": 1})
            refused = await a.call("apply", plan_id="plan-0000000000000000")
            assert refused.is_error and refused.content[0].text == "Unknown tool: apply"
            return names

    assert run(main()) == {"validate", "plan", "drift", "explain_error", "export"}
    assert not (elsewhere / ".reconciler").exists()
    assert not (elsewhere / "manifests").exists()


def test_agent_loop_against_local(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "broken").mkdir()
    (root / "broken" / "bad.yaml").write_text(BROKEN)
    (root / "unset").mkdir()
    (root / "unset" / "env.yaml").write_text(UNSET_ENV)
    errlog = (tmp_path / "server.log").open("w+")

    async def main() -> list[str]:
        async with agent(root, "--local", "--allow-apply", "-vv", errlog=errlog) as a:
            listed = await a.session.list_tools()
            tools = {t.name: t for t in listed.tools}
            assert set(tools) == {"validate", "plan", "drift", "explain_error", "export", "apply"}
            assert tools["apply"].annotations is not None
            assert tools["apply"].annotations.destructive_hint is True
            assert tools["apply"].annotations.read_only_hint is False
            for name in ("validate", "plan", "drift", "explain_error"):
                annotations = tools[name].annotations
                assert annotations is not None and annotations.read_only_hint is True, name
            assert tools["apply"].input_schema["required"] == ["plan_id"]
            assert set(tools["plan"].input_schema["properties"]) == {
                "paths",
                "prune",
                "replace",
                "force",
            }
            assert tools["plan"].output_schema is not None

            # A broken manifest: structured problems, each with its spot.
            checked = await a.ok("validate", paths=["broken"])
            assert checked["valid"] is False
            by_line = {p["line"]: p for p in checked["problems"]}
            assert set(by_line) == {4, 9, 10}, checked["problems"]
            assert by_line[4]["file"] == "broken/bad.yaml" and by_line[4]["column"] > 0
            assert "contains a space" in by_line[4]["message"]
            assert "worker name" in by_line[9]["message"]
            assert by_line[10]["message"] == "script file hello.js does not exist"
            assert checked["summary"] == "3 problems in the manifests"
            # Planning it is a tool error listing the same problems, not a crash.
            missing = await a.ok("validate", paths=["nope"])
            assert [(p["file"], p["message"]) for p in missing["problems"]] == [
                ("nope", "no such file or directory")
            ]
            failed = await a.error("plan", paths=["broken"])
            assert "bad.yaml:4:" in failed and failed.endswith("3 problems in the manifests")

            assert (await a.ok("validate"))["valid"] is True
            unset = await a.ok("validate", paths=["unset"])
            assert unset["valid"] is True and unset["summary"].endswith("(1 warning above).")
            assert [(w["file"], w["line"]) for w in unset["warnings"]] == [("unset/env.yaml", 6)]
            assert "MCP_E2E_UNSET_VAR is not set" in unset["warnings"][0]["message"]

            first = await a.ok("plan")
            assert first["plan"]["version"] == 1
            assert first["plan"]["summary"]["create"] == 5
            assert first["has_changes"] and not first["has_conflicts"]
            assert first["exit_code"] == 2
            assert "+ store  prod-secrets" in first["text"]
            assert "value: (sensitive)" in first["text"]

            applied = await a.ok("apply", plan_id=first["plan_id"])
            assert applied["ok"] and applied["applied"]
            assert [(d["action"], d["kind"], d["name"]) for d in applied["done"]] == [
                ("create", "store", "prod-secrets"),
                ("create", "secret", "STRIPE_KEY"),
                ("create", "secret", "WEBHOOK_SIGNING_KEY"),
                ("create", "worker", "hello-classic"),
                ("create", "worker", "payments-api"),
            ]
            assert applied["failed"] == [] and applied["not_started"] == []
            assert applied["text"] == "Apply complete: 5 changes made."

            again = await a.ok("plan")
            assert again["has_changes"] is False and again["exit_code"] == 0
            assert "No changes." in again["text"]
            drift = await a.ok("drift")
            assert drift["in_sync"] is True and drift["exit_code"] == 0

            # The same plan_id again: the account moved on since it was shown.
            stale = await a.error("apply", plan_id=first["plan_id"])
            assert "the account changed since the plan was made" in stale
            unknown = await a.error("apply", plan_id="plan-0000000000000000")
            assert "no plan with id 'plan-0000000000000000'" in unknown

            explained = await a.ok("explain_error", code=1003, message="maximum_stores_exceeded")
            assert "Secrets Store limit" in explained["sentence"]

            exported = await a.ok("export", directory="exported")
            assert "exported/reconciler.yaml" in exported["files"]
            assert {v["name"] for v in exported["env_vars"]} == {
                "PROD_SECRETS_STRIPE_KEY",
                "PROD_SECRETS_WEBHOOK_SIGNING_KEY",
            }
            assert (root / "exported" / "reconciler.yaml").is_file()
            outside = await a.error("export", directory="../escaped")
            assert "leads outside the workspace" in outside
            assert not (tmp_path.parent / "escaped").exists()
            # A link planted inside the workspace is not written through (issue 21): here it
            # points at a manifest, which export --force would otherwise overwrite.
            (root / "linked").mkdir()
            victim = root / "manifests" / "secrets.yaml"
            before = victim.read_bytes()
            (root / "linked" / "reconciler.yaml").symlink_to(victim)
            linked = await a.error("export", directory="linked", force=True)
            assert "linked/reconciler.yaml is a symbolic link" in linked
            assert victim.read_bytes() == before
            assert "leads outside the workspace" in await a.error("validate", paths=["/etc"])

            schema = json.loads(await a.resource("reconciler://manifest-schema"))
            assert schema == manifest_json_schema()
            guide = await a.resource("reconciler://guide")
            assert "value_from" in guide and "account_id" in guide
            return a.seen

    seen = run(main())
    errlog.seek(0)
    logged = errlog.read()
    # -vv logs every API call, on stderr only; stdout was the protocol all along.
    assert "GET /accounts/" in logged and "/secrets_store/stores -> 200" in logged, logged[-2000:]
    assert_no_secrets([*seen, logged], *SECRETS, DEFAULT_TOKEN)
    key = (root / "manifests" / ".reconciler" / "local-fingerprint.key").read_text().strip()
    assert_no_secrets([*seen, logged], key)
