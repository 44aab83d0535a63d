"""A pruned store is force-deleted only when what is left in it is ours."""

from __future__ import annotations

import asyncio

import httpx

from reconciler.apply import Applier, ApplyReport
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.reader import read_live
from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.markers import format_comment
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.state import State

A = f"/accounts/{DEFAULT_ACCOUNT_ID}/secrets_store"


def test_a_secret_added_after_the_read_keeps_the_store() -> None:
    transport = httpx.ASGITransport(app=create_app())
    config = ClientConfig(
        token=DEFAULT_TOKEN, base_url="http://127.0.0.1/client/v4", transport=transport
    )

    async def run() -> tuple[ApplyReport, list[str], list[str]]:
        async with CloudflareClient(config) as client:
            store = await client.create_store(DEFAULT_ACCOUNT_ID, "old")
            await client.create_secret(
                DEFAULT_ACCOUNT_ID,
                store.id,
                name="OURS",
                value="v",
                scopes=["workers"],
                comment=format_comment("", None),
            )
            live = await read_live(client, DEFAULT_ACCOUNT_ID)
            plan = compute_plan(
                State(), live, options=PlanOptions(prune=True), fingerprint_key=None
            )
            assert [(a.action, a.kind) for a in plan.actions] == [
                ("delete", "secret"),
                ("delete", "store"),
            ]
            # Someone adds their own secret after the plan read the account.
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://127.0.0.1/client/v4",
                headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            ) as api:
                answer = await api.post(
                    f"{A}/stores/{store.id}/secrets",
                    json=[{"name": "THEIRS", "value": "x", "scopes": ["workers"]}],
                )
                answer.raise_for_status()
            report = await Applier(client, DEFAULT_ACCOUNT_ID, State(), live).run(plan)
            stores = [s.name for s in await client.list_stores(DEFAULT_ACCOUNT_ID)]
            left = [s.name for s in await client.list_secrets(DEFAULT_ACCOUNT_ID, store.id)]
            return report, stores, left

    report, stores, left = asyncio.run(run())
    assert [o.status for o in report.outcomes] == ["done", "failed"]
    failure = str(report.outcomes[1].error)
    assert (
        "store 'old' was not deleted: it now holds secrets reconciler does not manage (THEIRS)"
        in failure
    )
    assert stores == ["old"]
    assert left == ["THEIRS"]
