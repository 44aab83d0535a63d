"""Worker settings end to end: apply, read back with the official SDK, drift, repair, ownership.

The emulator stores what the API stores and answers with the defaults filled in; the SDK
(cloudflare 5.9.0) is the judge of what the account holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from tests.e2e.conftest import Env

ACCT = DEFAULT_ACCOUNT_ID
WORKER = "payments-api"
ANCHOR = "    compatibility_flags: [nodejs_compat]\n"
SETTINGS = """    observability:
      enabled: true
      head_sampling_rate: 0.25
      logs: {invocation_logs: false}
      traces: {enabled: true, head_sampling_rate: 0.5}
    logpush: true
    tail_consumers: [{service: hello-classic}]
    placement: {mode: smart}
    limits: {cpu_ms: 50}
    usage_model: standard
"""


@pytest.fixture
def sdk(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloudflare]:
    for var in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    client = Cloudflare(base_url=env.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    yield client
    client.close()


def declare(env: Env, text: str = SETTINGS) -> None:
    env.edit("manifests/workers.yaml", ANCHOR, ANCHOR + text)


VALUES = {"PAY_API_KEY": "e2e-settings-secret-value"}


def apply(env: Env) -> None:
    result = env.run("apply", "--auto-approve", env=VALUES)
    assert result.exit_code == 0, result.output


def plan_exit(env: Env, *flags: str) -> tuple[int, str]:
    result = env.run("plan", "--detailed-exitcode", *flags, env=VALUES)
    return result.exit_code, result.output


def item(sdk: Cloudflare, name: str = WORKER) -> Any:
    return next(s for s in sdk.workers.scripts.list(account_id=ACCT) if s.id == name)


def test_declared_settings_apply_read_back_as_declared_and_the_next_plan_is_empty(
    env: Env, sdk: Cloudflare
) -> None:
    declare(env)
    apply(env)
    assert plan_exit(env)[0] == 0
    listed = item(sdk)
    obs = listed.observability
    assert obs is not None and obs.enabled is True and obs.head_sampling_rate == 0.25
    assert obs.logs is not None and obs.logs.invocation_logs is False and obs.logs.enabled is True
    assert obs.traces is not None and obs.traces.enabled is True
    assert obs.traces.head_sampling_rate == 0.5
    assert listed.logpush is True and listed.usage_model == "standard"
    assert [t.service for t in listed.tail_consumers or []] == ["hello-classic"]
    assert listed.placement is not None and listed.placement.mode == "smart"  # type: ignore[union-attr]
    full = sdk.workers.scripts.script_and_version_settings.get(WORKER, account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms == 50


def test_tail_worker_is_created_before_the_worker_that_names_it(env: Env) -> None:
    """The emulator refuses a tail consumer that does not exist yet; `a-producer` sorts first."""
    env.edit(
        "manifests/workers.yaml",
        "workers:\n",
        "workers:\n  - name: a-producer\n    script: workers/payments-api.js\n"
        '    compatibility_date: "2025-01-01"\n    tail_consumers: [{service: z-tail}]\n'
        '  - name: z-tail\n    script: workers/payments-api.js\n    compatibility_date: "2025-01-01"\n',
    )
    apply(env)
    assert plan_exit(env)[0] == 0
    result = env.run("apply", "--auto-approve", "--prune")
    assert result.exit_code == 0


def test_out_of_band_observability_shows_as_drift_and_apply_repairs_it_without_an_upload(
    env: Env, sdk: Cloudflare
) -> None:
    declare(env)
    apply(env)
    sdk.workers.scripts.settings.edit(
        WORKER, account_id=ACCT, observability={"enabled": True, "head_sampling_rate": 1}
    )
    drift = env.run("drift")
    assert drift.exit_code == 2, drift.output
    assert "observability.head_sampling_rate" in drift.output
    env.clear_log()
    apply(env)
    path = f"/workers/scripts/{WORKER}"
    assert ("PATCH", f"{path}/script-settings") in env.writes()
    assert ("PUT", path) not in env.writes()
    assert item(sdk).observability.head_sampling_rate == 0.25  # type: ignore[union-attr]
    assert env.run("drift").exit_code == 0


def test_out_of_band_limits_are_repaired_with_a_settings_patch(env: Env, sdk: Cloudflare) -> None:
    declare(env)
    apply(env)
    sdk.workers.scripts.script_and_version_settings.edit(
        WORKER, account_id=ACCT, settings={"limits": {"cpu_ms": 10}}
    )
    code, output = plan_exit(env)
    assert code == 2 and "limits" in output
    env.clear_log()
    apply(env)
    path = f"/workers/scripts/{WORKER}"
    assert env.writes() == [("PATCH", f"{path}/settings")]
    full = sdk.workers.scripts.script_and_version_settings.get(WORKER, account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms == 50
    assert plan_exit(env)[0] == 0


def test_a_version_settings_patch_keeps_the_worker_secrets_record(env: Env) -> None:
    """`PATCH …/settings` makes a version and annotations are not inherited: without the
    fingerprint record on it the next plan could not vouch for the secret and would write it."""
    declare(env)
    env.edit(
        "manifests/workers.yaml",
        "      - {type: json, name: CONFIG",
        "      - {type: secret_text, name: API_KEY, value_from: {env: PAY_API_KEY}}\n"
        "      - {type: json, name: CONFIG",
    )
    apply(env)
    env.edit("manifests/workers.yaml", "limits: {cpu_ms: 50}", "limits: {cpu_ms: 60}")
    env.clear_log()
    apply(env)
    assert env.writes() == [("PATCH", f"/workers/scripts/{WORKER}/settings")]
    code, output = plan_exit(env)
    assert code == 0, output


def test_a_key_left_out_is_left_as_it_is_live_even_through_an_upload(
    env: Env, sdk: Cloudflare
) -> None:
    apply(env)
    sdk.workers.scripts.settings.edit(WORKER, account_id=ACCT, observability={"enabled": True})
    sdk.workers.scripts.script_and_version_settings.edit(
        WORKER,
        account_id=ACCT,
        settings={"limits": {"cpu_ms": 20}, "placement": {"region": "aws:us-east-1"}},
    )
    assert plan_exit(env)[0] == 0  # not managed: not compared
    env.edit("manifests/workers/payments-api.js", "export default", "// changed\nexport default")
    apply(env)  # uploads the new code
    listed = item(sdk)
    assert listed.observability.enabled is True  # type: ignore[union-attr]
    full = sdk.workers.scripts.script_and_version_settings.get(WORKER, account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms == 20
    assert full.placement.region == "aws:us-east-1"  # type: ignore[union-attr]


def test_an_empty_key_removes_what_it_owns(env: Env, sdk: Cloudflare) -> None:
    declare(env)
    apply(env)
    env.edit("manifests/workers.yaml", SETTINGS, "    tail_consumers: []\n    limits: {}\n")
    code, output = plan_exit(env)
    assert code == 2 and "tail_consumers" in output and "limits" in output
    apply(env)
    assert item(sdk).tail_consumers == []
    full = sdk.workers.scripts.script_and_version_settings.get(WORKER, account_id=ACCT)
    assert full.limits is not None and full.limits.cpu_ms is None
    assert item(sdk).logpush is True  # no longer declared: left as it was
    assert plan_exit(env)[0] == 0


def test_settings_cost_no_read_declared_or_not(env: Env) -> None:
    """A cold plan reads the same calls whether the manifests set every settings key or none:
    the list item and the settings read the bindings need already carry them."""

    def cold_plan_calls() -> int:
        env.clear_log()
        assert plan_exit(env, "--no-cache")[0] == 0
        return len(env.inspect("requests"))

    apply(env)
    without = cold_plan_calls()
    declare(env)
    apply(env)
    assert cold_plan_calls() == without


def test_a_tail_worker_that_will_not_exist_is_a_conflict_before_anything_is_applied(
    env: Env,
) -> None:
    declare(env, "    tail_consumers: [{service: nobody}]\n")
    env.clear_log()
    code, output = plan_exit(env)
    assert code == 3, output
    assert "tail_consumer_missing" in output or "Tail Worker" in output
    assert "'nobody'" in output and "declared at" in output and "workers.yaml:" in output
    result = env.run("apply", "--auto-approve", env=VALUES)
    assert result.exit_code == 3, result.output
    assert env.writes() == []
