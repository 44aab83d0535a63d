"""Conformance: the official Python SDK (cloudflare 5.9.0) against the served emulator."""

from __future__ import annotations

from collections.abc import Iterator

import cloudflare
import httpx
import pytest
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer
from tests.binding_samples import sample_bindings
from tests.emulator.conftest import MODULE_JS, make_config
from tests.sdk_helpers import migration_tag, read_bindings

ACCOUNTS = [f"{i:032x}" for i in range(1, 13)]  # 12 accounts: three pages of 5


@pytest.fixture
def cf(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Cloudflare, EmulatorServer]]:
    for var in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_TOKEN",
                "CLOUDFLARE_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    cfg = make_config(
        accounts=[{"id": DEFAULT_ACCOUNT_ID, "name": "Main", "max_stores": 1}]
        + [{"id": a, "name": f"Acct {a[-2:]}"} for a in ACCOUNTS],
        behaviour={"patch_secret": "reject_value"},  # the observed PATCH, which a test checks
    )
    with EmulatorServer(config=cfg) as srv:
        client = Cloudflare(base_url=srv.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
        yield client, srv
        client.close()


def test_accounts_list_pages_to_the_end(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, srv = cf
    ids = [a.id for a in client.accounts.list(per_page=5)]
    assert ids == [DEFAULT_ACCOUNT_ID, *ACCOUNTS]
    pages = [e["query"] for e in httpx.get(srv.root_url + "/__emulator/requests").json()]
    assert pages[-1] == "per_page=5&page=4"  # the empty page that ends the iteration


def test_scripts_upload_list_content_delete(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf
    util = b"export const x = 1;\n"
    res = client.workers.scripts.update(
        "hello",
        account_id=DEFAULT_ACCOUNT_ID,
        metadata={
            "main_module": "index.js",
            "compatibility_date": "2025-01-01",
            "bindings": [{"type": "plain_text", "name": "GREETING", "text": "hi"}],
        },
        files=[
            ("index.js", MODULE_JS, "application/javascript+module"),
            ("util.js", util, "application/javascript+module"),
        ],
    )
    assert res.id == "hello" and res.startup_time_ms == 0 and res.etag
    listed = list(client.workers.scripts.list(account_id=DEFAULT_ACCOUNT_ID))
    assert [s.id for s in listed] == ["hello"] and listed[0].has_modules is True
    got = client.workers.scripts.content.get("hello", account_id=DEFAULT_ACCOUNT_ID)
    assert got.text().startswith("--")  # several modules: multipart, main first
    assert got.text().index("index.js") < got.text().index("util.js")
    client.workers.scripts.delete("hello", account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(cloudflare.NotFoundError) as err:
        client.workers.scripts.get("hello", account_id=DEFAULT_ACCOUNT_ID)
    assert err.value.body["errors"][0]["code"] == 10007  # type: ignore[index]


def test_stores_and_secrets(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf
    acct = DEFAULT_ACCOUNT_ID
    store = client.secrets_store.stores.create(account_id=acct, name="my-store")
    assert store is not None and len(store.id) == 32
    with pytest.raises(cloudflare.BadRequestError) as err:
        client.secrets_store.stores.create(account_id=acct, name="second")
    assert err.value.body["errors"][0]["code"] == 1003  # type: ignore[index]
    assert [s.name for s in client.secrets_store.stores.list(account_id=acct)] == ["my-store"]
    secrets = client.secrets_store.stores.secrets
    created = list(
        secrets.create(
            store.id,
            account_id=acct,
            body=[{"name": "API_KEY", "value": "s3cr3t", "scopes": ["workers"], "comment": "c1"}],
        )
    )
    assert [(s.name, s.comment) for s in created] == [("API_KEY", "c1")]
    sid = created[0].id
    assert [s.id for s in secrets.list(store.id, account_id=acct)] == [sid]
    got = secrets.get(sid, account_id=acct, store_id=store.id)
    assert got is not None and got.scopes == ["workers"]
    # Observed behaviour: PATCH with a value is refused (1001); without one it works.
    with pytest.raises(cloudflare.BadRequestError):
        secrets.edit(sid, account_id=acct, store_id=store.id, comment="c2", value="n3w")
    edited = secrets.edit(sid, account_id=acct, store_id=store.id, scopes=["workers", "dex"])
    assert edited is not None and edited.scopes == ["dex", "workers"]
    quota = client.secrets_store.quota.get(account_id=acct)
    assert quota is not None and quota.secrets is not None
    assert (quota.secrets.quota, quota.secrets.usage) == (100, 1)
    secrets.delete(sid, account_id=acct, store_id=store.id)
    assert list(secrets.list(store.id, account_id=acct)) == []
    client.secrets_store.stores.delete(store.id, account_id=acct)
    assert list(client.secrets_store.stores.list(account_id=acct)) == []


def test_every_binding_type_round_trips_through_the_sdk(
    cf: tuple[Cloudflare, EmulatorServer],
) -> None:
    """The emulator accepts every declarable type and GET …/settings returns it as sent,
    secret_text without its text; the SDK parses each into its own model."""
    client, srv = cf
    sent = [*sample_bindings(), {"type": "secret_text", "name": "TOKEN", "text": "s3cr3t"}]
    client.workers.scripts.update(
        "every",
        account_id=DEFAULT_ACCOUNT_ID,
        metadata={"main_module": "index.js", "bindings": sent},  # type: ignore[typeddict-item]
        files=[("index.js", MODULE_JS, "application/javascript+module")],
    )
    got = read_bindings(client, DEFAULT_ACCOUNT_ID, "every")
    assert got.pop("TOKEN") == {"name": "TOKEN", "type": "secret_text"}
    do = got["DURABLE_OBJECT_NAMESPACE"]
    assert len(do.pop("namespace_id")) == 32  # filled in by the server, as the API does
    assert got == {b["name"]: b for b in sample_bindings()}
    assert (
        "s3cr3t"
        not in httpx.get(
            srv.base_url + f"/accounts/{DEFAULT_ACCOUNT_ID}/workers/scripts/every/settings",
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        ).text
    )


def test_migration_tag_precondition(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf

    def upload(migrations: dict[str, object]) -> object:
        return client.workers.scripts.update(
            "rooms",
            account_id=DEFAULT_ACCOUNT_ID,
            metadata={"main_module": "index.js", "migrations": migrations},  # type: ignore[typeddict-item]
            files=[("index.js", MODULE_JS, "application/javascript+module")],
        )

    res = upload({"new_tag": "v1", "steps": [{"new_sqlite_classes": ["Room"]}]})
    assert res.migration_tag == "v1"  # type: ignore[attr-defined]
    assert migration_tag(client, DEFAULT_ACCOUNT_ID, "rooms") == "v1"
    with pytest.raises(cloudflare.BadRequestError) as info:
        upload({"old_tag": "v0", "new_tag": "v2", "steps": [{"new_classes": ["Lobby"]}]})
    assert info.value.body["errors"][0] == {  # type: ignore[index]
        "code": 10079,
        "message": "Migration tag precondition failed; current tag is v1",
    }
    upload({"old_tag": "v1", "new_tag": "v2", "deleted_classes": ["Room"]})  # one step form
    assert migration_tag(client, DEFAULT_ACCOUNT_ID, "rooms") == "v2"
