"""Gradual deployments in the emulator: two-version splits, 10215 for secret changes while the
newest version does not serve all traffic, 10220 for a deployment past a secret change (unless
`force`), annotation limits, and `inherit` as the version request named it."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.conftest import MODULE_JS, A, Api

W = f"{A}/workers/scripts"


def _version(api: Api, name: str, code: bytes, bindings: list[dict[str, Any]]) -> str:
    md = {"main_module": "index.js", "bindings": bindings}
    files = [("index.js", ("index.js", code, "application/javascript+module")),
             ("metadata", ("metadata", json.dumps(md).encode(), "application/json"))]  # fmt: skip
    r = api.req("POST", f"{W}/{name}/versions?bindings_inherit=strict", files=files)
    assert r.status_code == 200, r.text
    vid: str = r.json()["result"]["id"]
    return vid


def _deploy(api: Api, name: str, split: list[tuple[str, int]], force: bool = False) -> Any:
    body = {"strategy": "percentage",
            "versions": [{"version_id": v, "percentage": p} for v, p in split]}  # fmt: skip
    return api.req("POST", f"{W}/{name}/deployments" + ("?force=true" if force else ""), json=body)


def _put_secret(api: Api, name: str, value: str) -> Any:
    return api.req(
        "PUT", f"{W}/hello/secrets", json={"name": name, "type": "secret_text", "text": value}
    )


def test_split_then_secret_change_is_10215_until_fully_deployed(api: Api) -> None:
    api.upload_module("hello")
    assert _put_secret(api, "TOKEN", "one").status_code == 200
    v1 = api.req("GET", f"{W}/hello/versions").json()["result"]["items"][0]["id"]
    v2 = _version(api, "hello", MODULE_JS + b"//2\n", [{"type": "inherit", "name": "TOKEN"}])
    r = _deploy(api, "hello", [(v1, 90), (v2, 10)])
    assert r.status_code == 200, r.text
    deps = api.req("GET", f"{W}/hello/deployments").json()["result"]["deployments"]
    assert deps[0]["versions"] == [
        {"version_id": v1, "percentage": 90},
        {"version_id": v2, "percentage": 10},
    ]
    r = _put_secret(api, "TOKEN", "two")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == 10215
    assert _deploy(api, "hello", [(v2, 100)]).status_code == 200
    assert _put_secret(api, "TOKEN", "two").status_code == 200
    # the version carried the secret over by inheritance: the request named no value
    latest = next(s for s in api.state()["scripts"] if s["id"] == "hello")["latest_version"]
    assert latest["number"] == 4  # upload, secret, version, secret
    v2_sent = api.req("GET", f"{W}/hello/versions").json()["result"]["items"][1]
    assert v2_sent["id"] == v2


def test_rollback_past_a_secret_change_needs_force(api: Api) -> None:
    api.upload_module("hello")
    v1 = api.req("GET", f"{W}/hello/versions").json()["result"]["items"][0]["id"]
    assert _put_secret(api, "TOKEN", "one").status_code == 200
    r = _deploy(api, "hello", [(v1, 100)])
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["code"] == 10220 and err["message"].endswith(
        "The following secrets have changed: TOKEN"
    )
    assert _deploy(api, "hello", [(v1, 100)], force=True).status_code == 200


def test_deployment_shape_checks(api: Api) -> None:
    api.upload_module("hello")
    v1 = api.req("GET", f"{W}/hello/versions").json()["result"]["items"][0]["id"]
    assert _deploy(api, "hello", [(v1, 50), (v1, 50)]).status_code == 400
    assert _deploy(api, "hello", [(v1, 90)]).status_code == 400
    body = {"strategy": "percentage", "versions": [{"version_id": v1, "percentage": 100}],
            "annotations": {"workers/tag": "x" * 101}}  # fmt: skip
    assert api.req("POST", f"{W}/hello/deployments", json=body).status_code == 400


def test_inspection_shows_inherit_as_sent(api: Api) -> None:
    api.upload_module("hello")
    assert _put_secret(api, "TOKEN", "one").status_code == 200
    _version(api, "hello", MODULE_JS + b"//2\n", [{"type": "inherit", "name": "TOKEN"}])
    latest = next(s for s in api.state()["scripts"] if s["id"] == "hello")["latest_version"]
    assert latest["sent_bindings"] == [{"name": "TOKEN", "type": "inherit"}]
