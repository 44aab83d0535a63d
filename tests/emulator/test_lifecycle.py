"""What wrangler's versions, deployments, rollback and delete commands call, and that a
deleted worker is gone from every view."""

from __future__ import annotations

import json

from tests.emulator.conftest import MODULE_JS, A, Api, envelope_error

W = f"{A}/workers/scripts"


def _version(api: Api, name: str, code: bytes) -> str:
    md = {"main_module": "index.js"}
    files = [("index.js", ("index.js", code, "application/javascript+module")),
             ("metadata", ("metadata", json.dumps(md).encode(), "application/json"))]  # fmt: skip
    r = api.req("POST", f"{W}/{name}/versions", files=files)
    assert r.status_code == 200, r.text
    vid: str = r.json()["result"]["id"]
    return vid


def test_versions_list_newest_first_with_wranglers_fields(api: Api) -> None:
    api.upload_module("hello")
    v2 = _version(api, "hello", MODULE_JS + b"//2\n")
    r = api.req("GET", f"{W}/hello/versions?deployable=true")
    assert r.status_code == 200, r.text
    items = r.json()["result"]["items"]
    assert [i["number"] for i in items] == [2, 1] and items[0]["id"] == v2
    for item in items:
        assert set(item["metadata"]) >= {"created_on", "source", "author_email"}
        assert item["resources"]["script"]["handlers"] == ["fetch"]
        assert "usage_model" in item["resources"]["script_runtime"]
    got = api.req("GET", f"{W}/hello/versions/{v2}").json()["result"]
    assert got == items[0]


def test_references_incoming_and_outgoing(api: Api) -> None:
    api.upload_module("backend")
    svc = [{"type": "service", "name": "API", "service": "backend"}]
    assert api.upload_module("front", bindings=svc).status_code == 200
    refs = api.req("GET", f"{W}/backend/references").json()["result"]
    assert refs["services"]["incoming"] == [
        {"name": "API", "service": "front", "environment": "production"}
    ]
    assert refs["services"]["outgoing"] == [] and refs["durable_objects"] == []
    out = api.req("GET", f"{W}/front/references").json()["result"]["services"]["outgoing"]
    assert out == [{"name": "API", "service": "backend", "environment": "production"}]
    r = api.req("GET", f"{W}/nobody/references")
    assert r.status_code == 404 and envelope_error(r)[0] == 10007


def test_tails_by_consumer_and_kv_namespaces(api: Api) -> None:
    api.upload_module("tailer")
    api.upload_module("producer", tail_consumers=[{"service": "tailer"}])
    tails = api.req("GET", f"{A}/workers/tails/by-consumer/tailer").json()["result"]
    assert [(t["producer"], t["consumer"]["service"]) for t in tails] == [
        ({"script": "producer"}, "tailer")
    ]
    assert api.req("GET", f"{A}/workers/tails/by-consumer/producer").json()["result"] == []
    r = api.req("GET", f"{A}/storage/kv/namespaces?per_page=100&order=title&page=1")
    assert r.status_code == 200 and r.json()["result"] == []
    assert r.json()["result_info"]["total_count"] == 0


def test_services_delete_needs_force_when_bound_and_then_gone_everywhere(api: Api) -> None:
    api.upload_module("backend")
    vid = api.req("GET", f"{W}/backend/versions").json()["result"]["items"][0]["id"]
    api.upload_module("front", bindings=[{"type": "service", "name": "API", "service": "backend"}])
    r = api.req("DELETE", f"{A}/workers/services/backend?force=false")
    assert r.status_code == 400 and envelope_error(r)[0] == 10064
    r = api.req("DELETE", f"{A}/workers/services/backend?force=true")
    assert r.status_code == 200 and r.json()["result"] is None
    assert [s["id"] for s in api.req("GET", W).json()["result"]] == ["front"]
    assert [s["id"] for s in api.state()["scripts"]] == ["front"]
    for path in ("", "/content/v2", "/settings", "/script-settings", "/versions",
                 f"/versions/{vid}", "/deployments", "/references", "/secrets"):  # fmt: skip
        r = api.req("GET", f"{W}/backend{path}")
        assert r.status_code == 404 and envelope_error(r)[0] == 10007, path
    r = api.req("GET", f"{A}/workers/services/backend")
    assert r.status_code == 404 and envelope_error(r)[0] == 10090
    r = api.req("DELETE", f"{A}/workers/services/backend?force=true")
    assert r.status_code == 404 and envelope_error(r)[0] == 10090
    # The name is free again: a new worker starts at version 1 with one deployment.
    api.upload_module("backend")
    items = api.req("GET", f"{W}/backend/versions").json()["result"]["items"]
    assert [i["number"] for i in items] == [1]
    deps = api.req("GET", f"{W}/backend/deployments").json()["result"]["deployments"]
    assert len(deps) == 1


def test_rollback_is_a_deployment_of_an_older_version(api: Api) -> None:
    api.upload_module("hello")
    v1 = api.req("GET", f"{W}/hello/versions").json()["result"]["items"][0]["id"]
    api.upload(
        "hello", {"main_module": "index.js"},
        [("index.js", MODULE_JS + b"//2\n", "application/javascript+module")],
    )  # fmt: skip
    body = {"strategy": "percentage", "versions": [{"version_id": v1, "percentage": 100}],
            "annotations": {"workers/message": "Rollback"}}  # fmt: skip
    r = api.req("POST", f"{W}/hello/deployments?force=true", json=body)
    assert r.status_code == 200, r.text
    assert api.req("GET", f"{W}/hello").content == MODULE_JS
    deps = api.req("GET", f"{W}/hello/deployments").json()["result"]["deployments"]
    assert deps[0]["versions"] == [{"version_id": v1, "percentage": 100}]
    assert deps[0]["annotations"] == {"workers/message": "Rollback"} and len(deps) == 3
