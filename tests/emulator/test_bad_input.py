"""Bad input: the real envelope with a specific code, never a 500, and nothing changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.conftest import MODULE_JS, A, Api, envelope_error

S = f"{A}/secrets_store/stores"
W = f"{A}/workers/scripts"
BIG = "x" * 65_537


def _multipart(parts: list[tuple[str, str | None, str | None, bytes]]) -> dict[str, Any]:
    boundary = "b0undary"
    out = b""
    for name, filename, ctype, data in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return {
        "content": out,
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


MD = json.dumps({"main_module": "index.js"}).encode()
MOD = ("index.js", "index.js", "application/javascript+module", MODULE_JS)

# (id, method, path template, request kwargs, expected status, expected code, message part)
CASES: list[tuple[str, str, str, dict[str, Any], int, int, str]] = [
    ("store malformed json", "POST", S, {"content": b"{nope", "headers": {
        "Content-Type": "application/json"}}, 400, 1001, "invalid_json_body"),
    ("store wrong content type", "POST", S, {"data": {"name": "x"}}, 415, 1001, "content_type"),
    ("store empty name", "POST", S, {"json": {"name": ""}}, 400, 1001, "store_name_empty"),
    ("store unknown field", "POST", S, {"json": {"name": "x", "color": "red"}}, 400, 1001,
     "unknown field"),
    ("secret oversized value", "POST", "{sid}/secrets",
     {"json": [{"name": "BIG", "value": BIG, "scopes": ["workers"]}]}, 400, 1001, "too_large"),
    ("secret invalid scope", "POST", "{sid}/secrets",
     {"json": [{"name": "K2", "value": "v", "scopes": ["moon"]}]}, 400, 1001,
     "secret_scope_invalid"),
    ("secret empty scopes", "POST", "{sid}/secrets",
     {"json": [{"name": "K2", "value": "v", "scopes": []}]}, 400, 1001, "secret_scopes_empty"),
    ("secret empty name", "POST", "{sid}/secrets",
     {"json": [{"name": "", "value": "v", "scopes": ["workers"]}]}, 400, 1001,
     "secret_name_empty"),
    ("secret name with space", "POST", "{sid}/secrets",
     {"json": [{"name": "A B", "value": "v", "scopes": ["workers"]}]}, 400, 1001, "spaces"),
    ("secret unknown field", "POST", "{sid}/secrets",
     {"json": [{"name": "K2", "value": "v", "scopes": ["workers"], "x": 1}]}, 400, 1001,
     "unknown field"),
    ("secret object body", "POST", "{sid}/secrets",
     {"json": {"name": "K2", "value": "v", "scopes": ["workers"]}}, 400, 1001,
     "invalid_json_body"),
    ("patch comment not a string", "PATCH", "{sid}/secrets/{secret}", {"json": {"comment": 5}},
     400, 1001, "comment"),
    ("unknown store", "GET", S + "/" + "0" * 32, {}, 404, 1001, "store_not_found"),
    ("unknown secret", "GET", "{sid}/secrets/" + "0" * 32, {}, 404, 1001, "secret_not_found"),
    ("unknown account", "GET", "/client/v4/accounts/" + "d" * 32 + "/secrets_store/stores", {},
     403, 10000, "Authentication error"),
    ("unknown route", "GET", "/client/v4/accounts/nothing/here/at/all", {}, 404, 7003, "route"),
    ("method not allowed", "POST", W, {}, 405, 7001, "not allowed"),
    ("options gets the envelope too", "OPTIONS", W, {}, 405, 7001, "not allowed"),
    ("bad page", "GET", S, {"params": {"page": "x"}}, 400, 1001, "page"),
    ("upload not multipart", "PUT", W + "/w", {"json": {"main_module": "index.js"}}, 415, 10001,
     "Content Type"),
    ("upload broken multipart", "PUT", W + "/w", {"content": b"garbage", "headers": {
        "Content-Type": "multipart/form-data; boundary=zz"}}, 400, 10006, "Unparseable"),
    ("upload missing metadata", "PUT", W + "/w", _multipart([MOD]), 400, 10021, "metadata"),
    ("upload missing module", "PUT", W + "/w", _multipart([("metadata", None, None, MD)]), 400,
     10021, "No such module"),
    ("upload metadata not json", "PUT", W + "/w",
     _multipart([("metadata", None, None, b"{"), MOD]), 400, 10006, "metadata"),
    ("upload unknown metadata field", "PUT", W + "/w", _multipart(
        [("metadata", None, None, b'{"main_module":"index.js","bogus":1}'), MOD]), 400, 10021,
     "bogus"),
    ("upload both formats", "PUT", W + "/w", _multipart(
        [("metadata", None, None, b'{"main_module":"index.js","body_part":"index.js"}'), MOD]),
     400, 10021, "exactly one"),
    ("upload bad binding", "PUT", W + "/w", _multipart(
        [("metadata", None, None, b'{"main_module":"index.js","bindings":[{"name":"X",'
          b'"type":"plain_text"}]}'), MOD]), 400, 10021, "missing required key 'text'"),
    ("upload bad script name", "PUT", W + "/Bad%20Name", _multipart(
        [("metadata", None, None, MD), MOD]), 400, 10004, "script name"),
    ("script settings malformed", "PATCH", W + "/existing/script-settings",
     {"content": b"{", "headers": {"Content-Type": "application/json"}}, 400, 10006, "JSON"),
    ("script settings unknown field", "PATCH", W + "/existing/script-settings",
     {"json": {"color": 1}}, 400, 10021, "color"),
    ("script not found", "GET", W + "/nope/settings", {}, 404, 10007, "does not exist"),
    ("bulk delete bad ids", "DELETE", "{sid}/secrets", {"json": {"ids": "x"}}, 400, 1001,
     "ids"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code", "text"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_bad_input_is_refused_cleanly(
    api: Api, method: str, path: str, kwargs: dict[str, Any], status: int, code: int, text: str
) -> None:
    sid = api.create_store()
    secret = api.create_secret(sid, "K")
    assert api.upload_module("existing").status_code == 200
    before = api.state()
    url = path.format(sid=f"{S}/{sid}", secret=secret["id"])
    r = api.req(method, url, **kwargs)
    assert r.status_code == status, r.text
    got_code, message = envelope_error(r)
    assert got_code == code and text in message, (got_code, message)
    assert api.state() == before
