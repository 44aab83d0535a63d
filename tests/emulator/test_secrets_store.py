"""Secrets Store behaviour, including the observed quirks (field notes 1-4)."""

from __future__ import annotations

from tests.emulator.conftest import A, Api, envelope_error, in_process, make_config

S = f"{A}/secrets_store"


def test_store_create_object_and_array_rejected(api: Api) -> None:
    r = api.req("POST", f"{S}/stores", json=[{"name": "x"}])
    assert r.status_code == 400
    assert envelope_error(r) == (1001, "invalid_json_body")
    assert api.state()["stores"] == []
    sid = api.create_store("main")
    assert len(sid) == 32 and int(sid, 16) >= 0
    r = api.req("GET", f"{S}/stores/{sid}")
    assert r.json()["result"]["name"] == "main"


def test_store_create_array_switch_accepts_old_sdk_shape() -> None:
    cfg = make_config(behaviour={"store_create_array": "accept"})
    with in_process(cfg) as c:
        r = Api(c).req("POST", f"{S}/stores", json=[{"name": "old"}])
        assert r.status_code == 200
        assert [s["name"] for s in r.json()["result"]] == ["old"]


def test_second_store_exceeds_limit(api: Api) -> None:
    api.create_store("one")
    r = api.req("POST", f"{S}/stores", json={"name": "two"})
    assert r.status_code == 400
    assert envelope_error(r) == (1003, "maximum_stores_exceeded")
    assert [s["name"] for s in api.state()["stores"]] == ["one"]


def test_store_limit_from_config_and_listing_paged() -> None:
    cfg = make_config(
        accounts=[{"id": "a" * 32, "max_stores": 3}],
        behaviour={"list_result_info": "with_total_pages"},  # the shape checked below
    )
    with in_process(cfg) as c:
        api = Api(c)
        for n in ("b", "a", "c"):
            assert api.req("POST", f"/client/v4/accounts/{'a' * 32}/secrets_store/stores",
                           json={"name": n}).status_code == 200  # fmt: skip
        base = f"/client/v4/accounts/{'a' * 32}/secrets_store/stores"
        r = api.req("GET", base, params={"order": "name", "per_page": 2})
        body = r.json()
        assert [s["name"] for s in body["result"]] == ["a", "b"]
        assert body["result_info"] == {
            "count": 2, "page": 1, "per_page": 2, "total_count": 3, "total_pages": 2,
        }  # fmt: skip
        r = api.req("GET", base, params={"order": "name", "per_page": 2, "page": 2})
        assert [s["name"] for s in r.json()["result"]] == ["c"]
        r = api.req("GET", base, params={"page": 9})
        assert r.status_code == 200 and r.json()["result"] == []


def test_secret_lifecycle_and_value_never_returned(api: Api) -> None:
    sid = api.create_store()
    created = api.create_secret(sid, "API_KEY", ["workers", "ai_gateway"], comment="c1")
    assert created["scopes"] == ["ai_gateway", "workers"]  # sorted, like the API
    pending = api.c.app.state.emulator.config.behaviour.pending_secrets  # CI varies it
    expected = "pending" if pending.reads or pending.seconds else "active"
    assert created["status"] == expected and created["comment"] == "c1"
    assert "value" not in created
    r = api.req("GET", f"{S}/stores/{sid}/secrets/{created['id']}")
    assert r.json()["result"]["name"] == "API_KEY"
    assert "v-API_KEY" not in api.c.get("/__emulator/state").text
    r = api.req("DELETE", f"{S}/stores/{sid}/secrets/{created['id']}")
    assert r.status_code == 202 and r.json()["result"] is None
    r = api.req("GET", f"{S}/stores/{sid}/secrets/{created['id']}")
    assert r.status_code == 404
    assert envelope_error(r) == (1001, "secret_not_found")


def test_secret_name_exists(api: Api) -> None:
    sid = api.create_store()
    api.create_secret(sid, "K")
    r = api.req("POST", f"{S}/stores/{sid}/secrets",
                json=[{"name": "K2", "value": "x", "scopes": ["workers"]},
                      {"name": "K", "value": "y", "scopes": ["workers"]}])  # fmt: skip
    assert r.status_code == 400
    assert envelope_error(r) == (1003, "secret_name_already_exists")
    # The whole request failed: K2 was not created either.
    assert [s["name"] for s in api.state()["secrets"]] == ["K"]


def test_patch_default_rejects_value_and_name_but_allows_comment() -> None:
    # Pinned (CI also runs with RECONCILER_EMULATOR_BEHAVIOUR setting other defaults).
    with in_process(make_config(behaviour={"patch_secret": "reject_value"})) as client:
        _patch_default(Api(client))


def _patch_default(api: Api) -> None:
    sid = api.create_store()
    sec = api.create_secret(sid, "K")
    url = f"{S}/stores/{sid}/secrets/{sec['id']}"
    for body in ({"value": "n3w"}, {"comment": "c", "value": "n3w"}, {"name": "K2"}):
        r = api.req("PATCH", url, json=body)
        assert r.status_code == 400
        assert envelope_error(r) == (1001, "invalid_json_body")
    r = api.req("PATCH", url, json={"comment": "c2", "scopes": ["workers", "dex"]})
    assert r.status_code == 200
    res = r.json()["result"]
    assert res["comment"] == "c2" and res["scopes"] == ["dex", "workers"]
    assert res["modified"] > sec["modified"] and res["id"] == sec["id"]


def test_patch_switches() -> None:
    for mode, status in (("reject_all", 400), ("accept", 200)):
        with in_process(make_config(behaviour={"patch_secret": mode})) as c:  # fmt: skip
            api = Api(c)
            sid = api.create_store()
            sec = api.create_secret(sid)
            url = f"{S}/stores/{sid}/secrets/{sec['id']}"
            assert api.req("PATCH", url, json={"value": "v2"}).status_code == status
            assert api.req("PATCH", url, json={"comment": "x"}).status_code == status


def test_store_delete_not_empty_and_force(api: Api) -> None:
    sid = api.create_store()
    api.create_secret(sid)
    r = api.req("DELETE", f"{S}/stores/{sid}")
    assert r.status_code == 409
    assert envelope_error(r)[1] == "store_not_empty"
    assert len(api.state()["secrets"]) == 1
    r = api.req("DELETE", f"{S}/stores/{sid}", params={"force": "true"})
    assert r.status_code == 200
    assert api.state()["stores"] == [] and api.state()["secrets"] == []
    r = api.req("GET", f"{S}/stores/{sid}")
    assert r.status_code == 404 and envelope_error(r) == (1001, "store_not_found")


def test_list_search_order_scopes_and_paging(api: Api) -> None:
    sid = api.create_store()
    api.create_secret(sid, "B_TOKEN", ["workers"], comment="payment")
    api.create_secret(sid, "A_KEY", ["ai_gateway"])
    api.create_secret(sid, "C_OTHER", ["workers"])
    url = f"{S}/stores/{sid}/secrets"
    names = lambda r: [s["name"] for s in r.json()["result"]]  # noqa: E731
    assert names(api.req("GET", url)) == ["B_TOKEN", "A_KEY", "C_OTHER"]
    assert names(api.req("GET", url, params={"order": "name"})) == ["A_KEY", "B_TOKEN", "C_OTHER"]
    r = api.req("GET", url, params={"order": "name", "direction": "desc"})
    assert names(r) == ["C_OTHER", "B_TOKEN", "A_KEY"]
    assert names(api.req("GET", url, params={"search": "pay"})) == ["B_TOKEN"]
    assert names(api.req("GET", url, params={"search": "a_k"})) == ["A_KEY"]
    assert names(api.req("GET", url, params={"scopes": "ai_gateway"})) == ["A_KEY"]
    assert names(api.req("GET", url, params={"per_page": 2, "page": 2})) == ["C_OTHER"]
    assert names(api.req("GET", url, params={"per_page": 2, "page": 3})) == []


def test_bulk_delete_all_or_nothing(api: Api) -> None:
    sid = api.create_store()
    a, b = api.create_secret(sid, "A"), api.create_secret(sid, "B")
    url = f"{S}/stores/{sid}/secrets"
    r = api.req("DELETE", url, json={"ids": [a["id"], "f" * 32]})
    assert r.status_code == 404
    assert len(api.state()["secrets"]) == 2
    r = api.req("DELETE", url)
    assert r.status_code == 400 and envelope_error(r)[0] == 1001
    r = api.req("DELETE", url, json={"ids": [a["id"], b["id"]]})
    assert r.status_code == 202
    assert api.state()["secrets"] == []


def test_duplicate_keeps_value_digest_and_checks_name(api: Api) -> None:
    sid = api.create_store()
    a = api.create_secret(sid, "A")
    url = f"{S}/stores/{sid}/secrets/{a['id']}/duplicate"
    r = api.req("POST", url, json={"name": "A_COPY", "scopes": ["dex"], "comment": "dup"})
    assert r.status_code == 200
    dup = r.json()["result"]
    assert dup["name"] == "A_COPY" and dup["id"] != a["id"] and dup["scopes"] == ["dex"]
    r = api.req("POST", url, json={"name": "A", "scopes": ["dex"]})
    assert envelope_error(r) == (1003, "secret_name_already_exists")


def test_quota_counts_secrets_and_limits_creation() -> None:
    cfg = make_config(accounts=[{"id": "b" * 32, "max_secrets": 2}])
    with in_process(cfg) as c:
        api = Api(c)
        base = f"/client/v4/accounts/{'b' * 32}/secrets_store"
        sid = api.req("POST", f"{base}/stores", json={"name": "s"}).json()["result"]["id"]
        body = [{"name": f"K{i}", "value": "x", "scopes": ["workers"]} for i in range(2)]
        assert api.req("POST", f"{base}/stores/{sid}/secrets", json=body).status_code == 200
        r = api.req("GET", f"{base}/quota")
        assert r.json()["result"] == {"secrets": {"quota": 2, "usage": 2}}
        r = api.req("POST", f"{base}/stores/{sid}/secrets",
                    json=[{"name": "K9", "value": "x", "scopes": ["workers"]}])  # fmt: skip
        assert r.status_code == 400 and envelope_error(r) == (1003, "maximum_secrets_exceeded")


def test_json_sent_as_text_plain_is_accepted(api: Api) -> None:
    """wrangler sends JSON bodies as text/plain;charset=UTF-8 (reference §8.2.4)."""
    r = api.req("POST", f"{S}/stores", content=b'{"name":"w"}',
                headers={"Content-Type": "text/plain;charset=UTF-8"})  # fmt: skip
    assert r.status_code == 200 and r.json()["result"]["name"] == "w"


def test_value_limit_counts_utf8_bytes(api: Api) -> None:
    sid = api.create_store()
    url = f"{S}/stores/{sid}/secrets"
    fits = [{"name": "FITS", "value": "é" * 32_768, "scopes": ["workers"]}]  # 65,536 bytes
    assert api.req("POST", url, json=fits).status_code == 200
    over = [{"name": "OVER", "value": "é" * 32_769, "scopes": ["workers"]}]  # 65,538 bytes
    r = api.req("POST", url, json=over)
    assert r.status_code == 400 and "too_large" in envelope_error(r)[1]
    assert [s["name"] for s in api.state()["secrets"]] == ["FITS"]
