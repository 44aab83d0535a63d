"""Contract: every operation of the OpenAPI subset, validated with openapi-core.

The emulator's responses (success and failure) are checked against the extract of
Cloudflare's official schema vendored in tests/emulator/data/ (source and date in the README
beside it). Placeholder components there (x-extract-missing) accept any value, so those parts
check less.

Two overrides of the subset, both where it is known to lag the live API (see `_patch`):
`workers_usage_model` is the 2024 fallback (`bundled|unbound`) while the current SDKs and
reference list `standard|bundled|unbound`; and `content/v2` declares its body under the
media type "string" (the SDK's `Accept: string`), so we add `application/javascript`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.response.exceptions import InvalidData
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.emulator.conftest import MODULE_JS, A, Api

SPEC_PATH = Path(__file__).resolve().parent / "data" / "cloudflare-openapi-subset.json"
SERVER = "https://api.cloudflare.com"


@dataclass
class _Request:
    """openapi-core's request protocol over an httpx request."""

    method: str
    path: str
    query: str
    content_type: str
    body: bytes
    host_url: str = SERVER
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class _Response:
    status_code: int
    content_type: str
    data: bytes | str
    headers: Headers


def _pair(r: httpx.Response) -> tuple[_Request, _Response]:
    req = r.request
    q = ImmutableMultiDict(list(httpx.QueryParams(req.url.query.decode()).multi_items()))
    request = _Request(
        method=req.method.lower(),
        path=req.url.path,
        query=req.url.query.decode(),
        content_type=req.headers.get("content-type", ""),
        body=b"",  # response validation does not read it
        parameters=RequestParameters(query=q, header=Headers(dict(req.headers))),
    )
    ctype = r.headers.get("content-type", "").split(";")[0]
    response = _Response(
        status_code=r.status_code,
        content_type=ctype,
        # openapi-core checks a `type: string` body only as str
        data=r.text if ctype == "application/javascript" else r.content,
        headers=Headers(dict(r.headers)),
    )
    return request, response


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    if not SPEC_PATH.exists():
        pytest.fail(f"the OpenAPI subset is missing at {SPEC_PATH}")
    spec = json.loads(SPEC_PATH.read_text())
    _patch(spec)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _patch(spec: dict[str, Any]) -> None:
    """The two documented overrides (module docstring); nothing else is relaxed."""
    usage = spec["components"]["schemas"]["workers_usage_model"]
    assert usage["pattern"] == "^(bundled|unbound)$"
    usage["pattern"] = "^(standard|bundled|unbound)$"
    path = "/accounts/{account_id}/workers/scripts/{script_name}/content/v2"
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    content["application/javascript"] = content["string"]


def _operations() -> set[tuple[str, str]]:
    spec = json.loads(SPEC_PATH.read_text())
    return {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m in ops
        if m in {"get", "put", "post", "patch", "delete"}
    }


def _template(path: str) -> str:
    """Map a concrete path back to the spec's template (for coverage accounting)."""
    parts = path.removeprefix("/client/v4").split("/")
    names = {2: "{account_id}", 5: "{store_id}", 7: "{secret_id}"}
    out = []
    for i, p in enumerate(parts):
        if i == 2 or (parts[3:4] == ["secrets_store"] and i in (5, 7)):
            out.append(names[i])
        elif parts[3:5] == ["workers", "scripts"] and i == 5:
            out.append("{script_name}")
        else:
            out.append(p)
    return "/client/v4" + "/".join(out)


def _exercise(api: Api) -> list[httpx.Response]:
    S = f"{A}/secrets_store"
    W = f"{A}/workers/scripts"
    out: list[httpx.Response] = []

    def call(method: str, path: str, **kw: Any) -> httpx.Response:
        r: httpx.Response = api.req(method, path, **kw)
        out.append(r)
        return r

    call("GET", "/client/v4/accounts")
    call("GET", "/client/v4/accounts", params={"page": 2})
    sid = call("POST", f"{S}/stores", json={"name": "main"}).json()["result"]["id"]
    call("POST", f"{S}/stores", json={"name": "second"})  # 4XX 1003
    call("GET", f"{S}/stores")
    call("GET", f"{S}/stores/{sid}")
    call("GET", f"{S}/quota")
    created = call(
        "POST",
        f"{S}/stores/{sid}/secrets",
        json=[
            {"name": "A", "value": "va", "scopes": ["workers"], "comment": "c"},
            {"name": "B", "value": "vb", "scopes": ["workers", "dex"]},
        ],
    ).json()["result"]
    a, b = created[0]["id"], created[1]["id"]
    call("GET", f"{S}/stores/{sid}/secrets", params={"search": "A", "order": "name"})
    call("GET", f"{S}/stores/{sid}/secrets/{a}")
    call("PATCH", f"{S}/stores/{sid}/secrets/{a}", json={"comment": "c2"})
    call("PATCH", f"{S}/stores/{sid}/secrets/{a}", json={"value": "x"})  # 4XX 1001
    call("POST", f"{S}/stores/{sid}/secrets/{a}/duplicate", json={"name": "A2", "scopes": ["dex"]})
    call("DELETE", f"{S}/stores/{sid}")  # 409 store_not_empty
    call("DELETE", f"{S}/stores/{sid}/secrets/{b}")
    call("DELETE", f"{S}/stores/{sid}/secrets", json={"ids": [a]})
    call("GET", f"{S}/stores/{sid}/secrets/{a}")  # 4XX not found

    files = [
        ("files", ("index.js", MODULE_JS, "application/javascript+module")),
        ("metadata", ("", json.dumps({"main_module": "index.js", "tags": ["x"]}).encode(),
                      "application/json")),
    ]  # fmt: skip
    call("PUT", f"{W}/hello", files=files)
    call("GET", W)
    call("GET", f"{W}/hello")
    call("GET", f"{W}/hello/content/v2")
    call("GET", f"{W}/hello/settings")
    settings = {"settings": (None, b'{"compatibility_date":"2025-03-03"}', "application/json")}
    call("PATCH", f"{W}/hello/settings", files=settings)
    call("GET", f"{W}/hello/script-settings")
    call("PATCH", f"{W}/hello/script-settings", json={"tags": ["a", "b"], "logpush": False})
    call("DELETE", f"{W}/hello")
    call("GET", f"{W}/hello")  # 4XX 10007
    call("DELETE", f"{S}/stores/{sid}", params={"force": "true"})
    return out


def test_every_operation_validates_against_the_schema(api: Api, openapi: OpenAPI) -> None:
    responses = _exercise(api)
    seen: set[tuple[str, str]] = set()
    problems: list[str] = []
    for r in responses:
        request, response = _pair(r)
        seen.add((request.method.upper(), _template(request.path)))
        try:
            openapi.validate_response(request, response)
        except Exception as exc:  # collect every mismatch, not only the first
            cause = exc.__cause__ or exc
            problems.append(f"{request.method.upper()} {request.path} -> {r.status_code}: "
                            f"{type(exc).__name__}: {cause}")  # fmt: skip
    assert problems == [], "\n".join(problems)
    spec_ops = {(m, "/client/v4" + p) for m, p in _operations()}
    assert spec_ops - seen == set()


def test_the_validator_catches_a_wrong_shape(api: Api, openapi: OpenAPI) -> None:
    """Guard against a vacuous contract test: a tampered response must fail validation."""
    api.upload_module("hello")
    r = api.req("GET", f"{A}/workers/scripts")
    request, response = _pair(r)
    tampered = json.loads(r.content)
    tampered["result"][0]["usage_model"] = "free-for-all"
    response.data = json.dumps(tampered).encode()
    with pytest.raises(InvalidData):
        openapi.validate_response(request, response)
