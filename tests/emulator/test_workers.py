"""Workers scripts: uploads (module and classic), code download, settings, secrets, delete."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pytest

from tests.emulator.conftest import CLASSIC_JS, MODULE_JS, A, Api, envelope_error

W = f"{A}/workers/scripts"


def test_module_upload_list_and_raw_content(api: Api) -> None:
    r = api.upload_module("hello", compatibility_date="2025-01-01", tags=["team:a"])
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["id"] == "hello" and res["has_modules"] is True and res["handlers"] == ["fetch"]
    assert res["startup_time_ms"] == 0 and len(res["etag"]) == 64
    items = api.req("GET", W).json()["result"]
    assert [(i["id"], i["tags"], i["compatibility_date"]) for i in items] == [
        ("hello", ["team:a"], "2025-01-01")
    ]
    for path in (f"{W}/hello", f"{W}/hello/content/v2"):
        r = api.req("GET", path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/javascript")
        assert r.content == MODULE_JS


def test_multi_module_download_is_multipart_main_first(api: Api) -> None:
    util = b"export const x = 1;\n"
    md = {"main_module": "index.js"}
    # The metadata part first and the main module last: found by name, not by order.
    r = api.upload("multi", md, [("util.js", util, "application/javascript+module"),
                                 ("index.js", MODULE_JS, "application/javascript+module")])  # fmt: skip
    assert r.status_code == 200, r.text
    r = api.req("GET", f"{W}/multi/content/v2")
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/form-data")
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + r.content)
    parts = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
             for p in msg.iter_parts()]  # fmt: skip
    assert [p[0] for p in parts] == ["index.js", "util.js"]
    assert parts[0][2] == MODULE_JS and parts[1][2] == util


def test_classic_upload_and_esm_syntax_rejected(api: Api) -> None:
    md = {"body_part": "script"}
    r = api.upload("classic", md, [("script", CLASSIC_JS, "application/javascript")])
    assert r.status_code == 200, r.text
    assert r.json()["result"]["has_modules"] is False
    r = api.upload("bad", md, [("script", MODULE_JS, "application/javascript")])
    assert r.status_code == 400
    code, message = envelope_error(r)
    assert code == 10021 and "Uncaught SyntaxError: Unexpected token 'export'" in message
    assert [s["id"] for s in api.state()["scripts"]] == ["classic"]


def test_etag_is_content_hash_and_modified_on_moves(api: Api) -> None:
    first = api.upload_module("hello").json()["result"]
    second = api.upload_module("hello").json()["result"]
    assert second["etag"] == first["etag"]
    assert second["modified_on"] > first["modified_on"]
    assert second["created_on"] == first["created_on"]
    md = {"main_module": "index.js"}
    other = api.upload("hello", md, [("index.js", MODULE_JS + b"//x\n", "text/javascript+module")])
    assert other.json()["result"]["etag"] != first["etag"]
    r = api.req("PATCH", f"{W}/hello/script-settings", json={"tags": ["t1"]})
    assert r.status_code == 200 and r.json()["result"]["tags"] == ["t1"]
    listed = api.req("GET", W).json()["result"][0]
    assert (
        listed["tags"] == ["t1"] and listed["modified_on"] > other.json()["result"]["modified_on"]
    )
    assert [i["id"] for i in api.req("GET", W, params={"tags": "t1:yes"}).json()["result"]] == [
        "hello"
    ]
    assert api.req("GET", W, params={"tags": "t1:no"}).json()["result"] == []


def test_settings_bindings_secrets_persist_and_keep_bindings(api: Api) -> None:
    sid = api.create_store()
    api.create_secret(sid, "API_KEY")
    bindings = [
        {"type": "plain_text", "name": "GREETING", "text": "hi"},
        {"type": "secret_text", "name": "TOKEN", "text": "t0p-s3cret"},
        {"type": "secrets_store_secret", "name": "KEY", "store_id": sid, "secret_name": "API_KEY"},
    ]
    assert api.upload_module("w", bindings=bindings).status_code == 200
    got = api.req("GET", f"{W}/w/settings").json()["result"]["bindings"]
    assert {b["name"]: b for b in got} == {
        "GREETING": {"type": "plain_text", "name": "GREETING", "text": "hi"},
        "TOKEN": {"type": "secret_text", "name": "TOKEN"},
        "KEY": {"type": "secrets_store_secret", "name": "KEY", "store_id": sid,
                "secret_name": "API_KEY"},
    }  # fmt: skip
    assert "t0p-s3cret" not in api.c.get("/__emulator/state").text
    # Re-upload without bindings: the secret persists, plain vars go unless kept.
    assert api.upload_module("w").status_code == 200
    names = [b["name"] for b in api.req("GET", f"{W}/w/settings").json()["result"]["bindings"]]
    assert names == ["TOKEN"]
    api.upload_module("w", bindings=[{"type": "plain_text", "name": "V", "text": "1"}])
    api.upload_module("w", keep_bindings=["plain_text"])
    names = [b["name"] for b in api.req("GET", f"{W}/w/settings").json()["result"]["bindings"]]
    assert sorted(names) == ["TOKEN", "V"]


def test_store_secret_binding_must_exist(api: Api) -> None:
    sid = api.create_store()
    b = {"type": "secrets_store_secret", "name": "K", "store_id": sid, "secret_name": "NOPE"}
    r = api.upload_module("w", bindings=[b])
    assert r.status_code == 400
    code, message = envelope_error(r)
    assert code == 10021 and "NOPE" in message
    b["store_id"] = "e" * 32
    code, message = envelope_error(api.upload_module("w", bindings=[b]))
    assert code == 10021 and "e" * 32 in message
    assert api.state()["scripts"] == []


def test_script_secrets(api: Api) -> None:
    api.upload_module("w", bindings=[{"type": "plain_text", "name": "VAR", "text": "x"}])
    url = f"{W}/w/secrets"
    r = api.req("PUT", url, json={"name": "S1", "text": "abc", "type": "secret_text"})
    assert r.status_code == 200 and r.json()["result"] == {"name": "S1", "type": "secret_text"}
    assert api.req("GET", url).json()["result"] == [{"name": "S1", "type": "secret_text"}]
    assert api.req("GET", f"{url}/S1").json()["result"] == {"name": "S1", "type": "secret_text"}
    r = api.req("PUT", url, json={"name": "VAR", "text": "abc", "type": "secret_text"})
    assert r.status_code == 400 and envelope_error(r)[0] == 10053
    assert api.req("DELETE", f"{url}/S1").status_code == 200
    r = api.req("DELETE", f"{url}/S1")
    assert r.status_code == 404 and envelope_error(r)[0] == 10056
    r = api.req("PUT", f"{W}/none/secrets", json={"name": "S", "text": "x", "type": "secret_text"})
    assert r.status_code == 404 and envelope_error(r)[0] == 10007


def test_patch_settings_multipart(api: Api) -> None:
    api.upload_module("w", bindings=[{"type": "plain_text", "name": "A", "text": "1"}])
    files = {"settings": (None, b'{"bindings":[{"type":"plain_text","name":"B","text":"2"}],'
                                b'"compatibility_date":"2025-02-02"}', "application/json")}  # fmt: skip
    r = api.req("PATCH", f"{W}/w/settings", files=files)
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert [b["name"] for b in res["bindings"]] == ["B"]
    assert res["compatibility_date"] == "2025-02-02"


def test_delete_not_found_and_force(api: Api) -> None:
    api.upload_module("target")
    api.upload_module("user", bindings=[{"type": "service", "name": "T", "service": "target"}])
    r = api.req("DELETE", f"{W}/target")
    assert r.status_code == 400
    assert [s["id"] for s in api.state()["scripts"]] == ["target", "user"]
    assert api.req("DELETE", f"{W}/target", params={"force": "true"}).status_code == 200
    r = api.req("GET", f"{W}/target")
    assert r.status_code == 404 and envelope_error(r)[0] == 10007
    r = api.req("DELETE", f"{W}/target")
    assert r.status_code == 404 and envelope_error(r)[0] == 10007


def test_wrangler_flow_endpoints(api: Api) -> None:
    r = api.req("GET", f"{A}/workers/services/hello")
    assert r.status_code == 404 and envelope_error(r)[0] == 10090
    r = api.req("GET", f"{W}/hello/deployments")
    assert r.status_code == 404 and envelope_error(r)[0] == 10007
    api.upload_module("hello")
    svc = api.req("GET", f"{A}/workers/services/hello").json()["result"]
    assert svc["default_environment"]["script"]["id"] == "hello"
    md = {"main_module": "index.js"}
    files = [("index.js", ("index.js", MODULE_JS + b"//v2\n", "application/javascript+module")),
             ("metadata", (None, json.dumps(md).encode()))]  # fmt: skip
    r = api.req("POST", f"{W}/hello/versions", files=files)
    assert r.status_code == 200, r.text
    vid = r.json()["result"]["id"]
    assert api.req("GET", f"{W}/hello").content == MODULE_JS  # not deployed yet
    body = {"strategy": "percentage", "versions": [{"version_id": vid, "percentage": 100}]}
    assert api.req("POST", f"{W}/hello/deployments", content=json.dumps(body),
                   headers={"Content-Type": "text/plain;charset=UTF-8"}).status_code == 200  # fmt: skip
    assert api.req("GET", f"{W}/hello").content == MODULE_JS + b"//v2\n"
    deps = api.req("GET", f"{W}/hello/deployments").json()["result"]["deployments"]
    assert deps[0]["versions"][0]["version_id"] == vid and len(deps) == 2
    assert api.req("GET", f"{A}/workers/subdomain").json()["result"]["subdomain"]
    r = api.req("POST", f"{W}/hello/subdomain", json={"enabled": True})
    assert r.json()["result"] == {"enabled": True, "previews_enabled": True}


def test_annotations_are_per_version_and_a_secret_change_drops_them(api: Api) -> None:
    record = {"workers/message": "[reconciler secrets] S1=0123456789abcdef"}
    api.upload_module("w", annotations=record)
    settings = f"{W}/w/settings"
    assert api.req("GET", settings).json()["result"]["annotations"] == record
    url = f"{W}/w/secrets"
    assert api.req("PUT", url, json={"name": "S1", "text": "v", "type": "secret_text"}).is_success
    # The API marks the version a secret change made; the previous annotations stay behind.
    got = api.req("GET", settings).json()["result"]["annotations"]
    assert got == {"workers/triggered_by": "secret"}
    # PATCH settings with only annotations: a new version, same code and secrets.
    files = {"settings": (None, json.dumps({"annotations": record}).encode(), "application/json")}
    assert api.req("PATCH", settings, files=files).status_code == 200
    res = api.req("GET", settings).json()["result"]
    assert res["annotations"] == record
    assert [b["name"] for b in res["bindings"]] == ["S1"]
    assert api.req("DELETE", f"{url}/S1").status_code == 200
    assert api.req("GET", settings).json()["result"]["annotations"] == {
        "workers/triggered_by": "secret"
    }
    too_long = {"annotations": {"workers/message": "x" * 1001}}
    files = {"settings": (None, json.dumps(too_long).encode(), "application/json")}
    r = api.req("PATCH", settings, files=files)
    assert r.status_code == 400 and envelope_error(r)[0] == 10021


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize(
    ("filename", "ctype"),
    [(None, None), (None, "application/json"), ("metadata", "application/json"), ("blob", None)],
)
def test_metadata_part_is_found_by_field_name(
    api: Api, position: int, filename: str | None, ctype: str | None
) -> None:
    """The TypeScript SDK sends filename="metadata" with application/json; curl -F may too."""
    md = json.dumps({"main_module": "index.js"}).encode()
    meta = ("metadata", (filename, md, ctype) if ctype else (filename, md))
    files: list[tuple[str, Any]] = [
        ("files", ("index.js", MODULE_JS, "application/javascript+module")),
        ("files", ("util.js", b"export const x = 1;\n", "application/javascript+module")),
    ]
    files.insert(position, meta)
    r = api.req("PUT", f"{W}/anywhere", files=files)
    assert r.status_code == 200, r.text
    (script,) = api.state()["scripts"]
    assert [m["name"] for m in script["modules"]] == ["index.js", "util.js"]


def test_two_metadata_parts_are_refused(api: Api) -> None:
    md = json.dumps({"main_module": "index.js"}).encode()
    files = [("metadata", ("metadata", md, "application/json")), ("metadata", (None, md)),
             ("files", ("index.js", MODULE_JS, "application/javascript+module"))]  # fmt: skip
    r = api.req("PUT", f"{W}/twice", files=files)
    assert r.status_code == 400 and envelope_error(r)[0] == 10021


@pytest.mark.parametrize("filename", [None, "settings", "blob"])
def test_settings_part_is_found_by_field_name(api: Api, filename: str | None) -> None:
    api.upload_module("hello")
    body = json.dumps({"compatibility_date": "2025-02-02"}).encode()
    files = [("settings", (filename, body, "application/json"))]
    r = api.req("PATCH", f"{W}/hello/settings", files=files)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["compatibility_date"] == "2025-02-02"
