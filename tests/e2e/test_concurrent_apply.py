"""Two applies at once (issue 11 item 7): the loser must not claim secrets are ABSENT when
the account holds them. A secret reported ABSENT is one this run deleted and could not
recreate, confirmed by a fresh read of the account."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconciler.apply import Applier, ApplyReport
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import Backoff, ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.manifest.merge import load_manifests
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from tests.e2e.conftest import FINGERPRINT_KEY, Env

KEY = FINGERPRINT_KEY.encode()
NAMES = [f"KEY_{i}" for i in range(10)]


def _many_secrets(root: Path) -> None:
    (root / "manifests/many.yaml").write_text(
        "secrets:\n"
        + "".join(
            f"  - name: {n}\n    store: prod-secrets\n"
            "    value_from: {file: dev-secrets/stripe-key.txt}\n    scopes: [workers]\n"
            for n in NAMES
        )
    )


async def _two_applies(env: Env) -> list[ApplyReport]:
    """Both read the same live state, then both replace the same 10 secrets at once."""
    manifests = load_manifests(["manifests"])
    options = PlanOptions(force=True, replace=NAMES)
    configs = [
        ClientConfig(
            token=DEFAULT_TOKEN,
            base_url=env.server.base_url,
            max_retries=1,
            backoff=Backoff(base_s=0.001),
        )
        for _ in range(2)
    ]
    async with CloudflareClient(configs[0]) as one, CloudflareClient(configs[1]) as two:
        runs = []
        for client in (one, two):
            live = await read_live(client, DEFAULT_ACCOUNT_ID)
            plan = compute_plan(manifests.state, live, options=options, fingerprint_key=KEY)
            assert [a.action for a in plan.actions] == ["replace"] * 10
            applier = Applier(
                client, DEFAULT_ACCOUNT_ID, manifests.state, live, KEY, recreate_pause_s=0.0
            )
            runs.append(applier.run(plan))
        return list(await asyncio.gather(*runs))


def test_the_loser_of_two_concurrent_applies_reports_no_false_absent(env: Env) -> None:
    _many_secrets(env.root)
    assert env.run("apply", "--auto-approve").exit_code == 0
    reports = asyncio.run(_two_applies(env))
    present = {s["name"] for s in env.inspect("state")["secrets"] if s["status"] != "deleted"}
    assert set(NAMES) <= present, "every secret exists after the race"
    claimed = [label for r in reports for label in r.absent_secrets]
    assert claimed == []
    failed = [o for r in reports for o in r.outcomes if o.status == "failed"]
    assert failed, "both runs created the same names: one of them lost at least once"
    for outcome in failed:
        assert "exists in the account now" in str(outcome.error), outcome.error
        assert "so it is not absent" in str(outcome.error)
    assert env.run("plan", "--detailed-exitcode").exit_code == 0, "the account converged"
