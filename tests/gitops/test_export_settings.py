"""Export writes every settings key it reads, so an exported account plans with no change."""

from __future__ import annotations

from pathlib import Path

import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN

from .conftest import Cli

ACCOUNT = DEFAULT_ACCOUNT_ID
CODE = b"export default { fetch() { return new Response('hi'); } };\n"


def upload(cf: Cloudflare, name: str, **metadata: object) -> None:
    cf.workers.scripts.update(
        name,
        account_id=ACCOUNT,
        metadata={"main_module": "index.js", "compatibility_date": "2025-01-01", **metadata},  # type: ignore[arg-type]
        files=[("index.js", CODE, "application/javascript+module")],
    )


def test_exported_settings_plan_as_adoptions_with_no_change(served_cli: Cli) -> None:
    cf = Cloudflare(base_url=served_cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    upload(cf, "plain")
    upload(
        cf,
        "tuned",
        observability={
            "enabled": True,
            "head_sampling_rate": 0.2,
            "logs": {"enabled": True, "invocation_logs": False, "destinations": ["sink"]},
        },
        logpush=True,
        tail_consumers=[{"service": "plain"}],
        placement={"mode": "targeted", "region": "aws:us-east-1"},
        limits={"cpu_ms": 70},
    )
    cf.close()
    result = served_cli("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(Path("exported/reconciler.yaml").read_text())
    workers = {w["name"]: w for w in doc["workers"]}
    tuned = workers["tuned"]
    assert tuned["observability"] == {
        "enabled": True,
        "head_sampling_rate": 0.2,
        "logs": {"invocation_logs": False, "destinations": ["sink"]},
    }
    assert tuned["logpush"] is True and tuned["tail_consumers"] == [{"service": "plain"}]
    assert tuned["placement"] == {"mode": "targeted", "region": "aws:us-east-1"}
    assert tuned["limits"] == {"cpu_ms": 70} and tuned["usage_model"] == "standard"
    # Every key is written, defaults too: the exported manifests own all of them.
    assert workers["plain"]["observability"] == {"enabled": False}
    assert workers["plain"]["tail_consumers"] == [] and workers["plain"]["placement"] == {}

    result, plan = served_cli.plan_file("plan", "exported")
    assert result.exit_code == 0, result.output
    assert {(a["action"], a["name"]) for a in plan["actions"]} == {
        ("adopt", "plain"),
        ("adopt", "tuned"),
    }
    assert all(a["changes"] == [] for a in plan["actions"]), plan["actions"]
    assert served_cli("apply", "exported", "--auto-approve").exit_code == 0
    again = served_cli("plan", "exported", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
