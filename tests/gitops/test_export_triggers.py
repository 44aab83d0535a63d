"""Export writes every worker's triggers (crons, routes in every zone, custom domains,
workers.dev flags) as the manifest spells them: the export plans with no trigger change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, EmulatorConfig

from .conftest import Cli

A = DEFAULT_ACCOUNT_ID
ZONE = "0123456789abcdef0123456789abcdef"
ZONE2 = "fedcba9876543210fedcba9876543210"
JS = b"export default { async fetch() { return new Response('x'); }, async scheduled() {} };\n"


def test_export_of_triggers_plans_without_changes(
    make_cli: Callable[[EmulatorConfig | None], Cli],
) -> None:
    cli = make_cli(
        EmulatorConfig.model_validate(
            {
                "zones": [
                    {"id": ZONE, "name": "example.com", "account": A},
                    {"id": ZONE2, "name": "example.org", "account": A},
                ]
            }
        )
    )
    cli.env["CLOUDFLARE_ACCOUNT_ID"] = A
    with Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0) as cf:
        for name in ("api", "quiet"):
            cf.workers.scripts.update(
                name,
                account_id=A,
                metadata={"main_module": "index.js", "compatibility_date": "2025-01-01"},
                files=[("index.js", JS, "application/javascript+module")],
            )
        cf.workers.scripts.schedules.update("api", account_id=A, body=[{"cron": "0 3 * * 1"}])
        cf.workers.routes.create(zone_id=ZONE, pattern="api.example.com/*", script="api")
        cf.workers.routes.create(zone_id=ZONE2, pattern="example.org/v1/*", script="api")
        cf.workers.domains.update(account_id=A, hostname="shop.example.com", service="api")
        cf.workers.scripts.subdomain.create("api", account_id=A, enabled=True,
                                            previews_enabled=False)  # fmt: skip

    result = cli("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(Path("exported/reconciler.yaml").read_text())
    api = next(w for w in doc["workers"] if w["name"] == "api")
    assert api["crons"] == ["0 3 * * 1"]
    assert api["routes"] == [
        {"pattern": "api.example.com/*", "zone": "example.com"},
        {"pattern": "example.org/v1/*", "zone": "example.org"},
    ]
    assert api["domains"] == [{"hostname": "shop.example.com", "zone": "example.com"}]
    assert (api["workers_dev"], api["preview_urls"]) == (True, False)
    quiet = next(w for w in doc["workers"] if w["name"] == "quiet")
    assert (quiet["crons"], quiet["routes"], quiet["domains"]) == ([], [], [])

    result, plan = cli.plan_file("plan", "exported")
    assert result.exit_code == 0, result.output
    assert plan["conflicts"] == []
    assert {(a["action"], a["kind"], a["name"]) for a in plan["actions"]} == {
        ("adopt", "worker", "api"),
        ("adopt", "worker", "quiet"),
    }
    assert cli("apply", "exported", "--auto-approve").exit_code == 0
    again = cli("plan", "exported", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
