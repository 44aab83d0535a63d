"""The plan and apply are right under each emulator switch a real account may show: lists
without `total_pages`, secrets that stay `pending` for a while, PATCH with a value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, EmulatorConfig
from tests.e2e.conftest import start_env

SWITCHES: list[dict[str, Any]] = [
    {"list_result_info": "count_only"},
    {"pending_secrets": {"reads": 1000}},
    {"pending_secrets": {"seconds": 3600}},
    {"patch_secret": "accept"},
    {
        "list_result_info": "count_only",
        "pending_secrets": {"reads": 1000},
        "patch_secret": "accept",
    },
]


@pytest.mark.parametrize("behaviour", SWITCHES, ids=lambda b: ",".join(b))
def test_apply_converges_and_replans_clean(
    behaviour: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig.model_validate({"behaviour": behaviour})
    for env in start_env(config, tmp_path, monkeypatch):
        first = env.run("apply", "--auto-approve")
        assert first.exit_code == 0, first.output
        secrets = env.inspect("state")["secrets"]
        assert secrets, "the example manifests declare secrets"
        if "pending_secrets" in behaviour:
            assert {s["status"] for s in secrets} == {"pending"}
        # A pending secret is not a missing one: nothing to create again, no duplicate.
        result = env.run("plan", "--detailed-exitcode")
        assert result.exit_code == 0, result.output
        assert env.run("drift").exit_code == 0
        env.clear_log()
        assert env.run("apply", "--auto-approve").exit_code == 0
        assert env.writes() == []
        names = [s["name"] for s in env.inspect("state")["secrets"]]
        assert sorted(names) == sorted({s["name"] for s in secrets})
        # A value change with --secret-update patch converges under either PATCH behaviour.
        (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_SWITCHED\n")
        result = env.run("apply", "--auto-approve", "--secret-update", "patch")
        assert result.exit_code == 0, result.output
        assert env.run("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("shape", ["with_total_pages", "count_only"])
def test_more_than_one_page_of_secrets_is_read_to_the_end(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 secrets outside the manifests, then a managed secret recreated after them (on the
    second page of 100): the replan sees it, so the list was read past its first page."""
    config = EmulatorConfig.model_validate(
        {
            "accounts": [{"id": DEFAULT_ACCOUNT_ID, "max_secrets": 200}],
            "behaviour": {"list_result_info": shape},
        }
    )
    for env in start_env(config, tmp_path, monkeypatch):
        assert env.run("apply", "--auto-approve").exit_code == 0
        store_id = env.inspect("state")["stores"][0]["id"]
        body = [{"name": f"HAND_{i:03}", "value": "x", "scopes": ["workers"]} for i in range(150)]
        with env.api() as api:
            api.post(f"/secrets_store/stores/{store_id}/secrets", json=body).raise_for_status()
        (env.root / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_PAGE_TWO\n")
        result = env.run("apply", "--auto-approve", "--secret-update", "replace")
        assert result.exit_code == 0, result.output
        env.clear_log()
        result = env.run("plan", "--detailed-exitcode")
        assert result.exit_code == 0, result.output
        pages = [
            r["query"] for r in env.inspect("requests")
            if r["path"].endswith(f"/stores/{store_id}/secrets") and r["method"] == "GET"
        ]  # fmt: skip
        assert any("page=2" in q for q in pages), pages
