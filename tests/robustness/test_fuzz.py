"""Fuzzing: generated and mutated manifests never crash the loader (a ManifestError or a
result, nothing else); malformed requests never make the emulator answer 5xx (faults off).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator.app import create_app
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.errors import ManifestError
from reconciler.manifest.merge import load_manifests

REPO = Path(__file__).resolve().parents[2]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip

# --- manifests ----------------------------------------------------------------------------

KEYS = [
    "account_id", "stores", "secrets", "workers", "name", "store", "value_from", "file", "env",
    "scopes", "comment", "value", "script", "format", "compatibility_date",
    "compatibility_flags", "bindings", "type", "text", "json", "secret", "namespace_id",
    "modules",
]  # fmt: skip
WORDS = [
    "main", "KEY", "api", "workers", "ai_gateway", "plain_text", "json", "kv_namespace",
    "secrets_store_secret", "module", "classic", "auto", "2025-01-01", "value.txt",
    "worker.js", "../value.txt", "/etc/passwd", "values", "HOME", DEFAULT_ACCOUNT_ID,
    "", " ", "a b", "UPPER-worker", "-bad-", "x" * 70,
]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)
# Documents shaped like manifests, so the fuzzer gets past the top level often.
entry = st.dictionaries(st.sampled_from(KEYS), trees, max_size=7)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "account_id": scalars,
        "stores": st.lists(entry, max_size=3) | trees,
        "secrets": st.lists(entry, max_size=3) | trees,
        "workers": st.lists(entry, max_size=3) | trees,
    },
)


def load(text: str | bytes) -> None:
    """Load one manifest file beside a script and a value file; only ManifestError may escape."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "worker.js").write_text("export default {};\n")
        (root / "value.txt").write_text("fuzz-value\n")
        (root / "values").mkdir()
        path = root / "m.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_manifests([str(root)])
        except ManifestError as exc:
            assert exc.problems, "a ManifestError must name at least one problem"
            for problem in exc.problems:
                assert str(problem)


@FUZZ
@given(st.one_of(shaped, trees))
def test_generated_documents_never_crash_the_loader(doc: Any) -> None:
    load(yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(st.lists(shaped, min_size=1, max_size=3))
def test_generated_multi_document_files_never_crash_the_loader(docs: list[Any]) -> None:
    load(yaml.safe_dump_all(docs, allow_unicode=True))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_text_and_bytes_never_crash_the_loader(raw: str | bytes) -> None:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    load(raw)


SEED_MANIFESTS = [
    p.read_text(encoding="utf-8") for p in sorted((REPO / "manifests").glob("*.yaml"))
]
SEED_MANIFESTS.append(
    """stores: [{name: main}]
secrets:
  - {name: KEY, store: main, value_from: {file: value.txt}, scopes: [workers], comment: c}
workers:
  - name: api
    script: worker.js
    compatibility_date: "2025-01-01"
    bindings:
      - {type: secrets_store_secret, name: KEY, store: main, secret: KEY}
      - {type: json, name: CONF, json: {a: [1, 2]}}
"""
)
SNIPPETS = [
    ":", "- ", "  ", "\t", "{", "}", "[", "]", "&a", "*a", "!!python/object:os.system", "---",
    "...", "#", "'", '"', "? ", "|", ">", "<<: *a", "!!binary", "\n", "\x00", "\ufeff", "%YAML",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEED_MANIFESTS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "swap"]))
        if op == "insert":
            piece = draw(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=5)))
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif op == "duplicate":
            lines = text.splitlines(keepends=True)
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
        elif op == "truncate":
            text = text[:at]
        else:
            lines = text.splitlines(keepends=True)
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    return text


@FUZZ
@given(mutated())
def test_mutated_manifests_never_crash_the_loader(text: str) -> None:
    load(text)


def test_the_seed_manifest_itself_loads() -> None:
    """The mutation seed is valid, so mutations start from a loadable manifest."""
    load(SEED_MANIFESTS[-1])


# --- emulator -----------------------------------------------------------------------------

A = "/client/v4/accounts/{a}"
TEMPLATES = [
    "/client/v4", "/client/v4/accounts", "/client/v4/memberships", "/client/v4/user/tokens/verify",
    "/client/v4/user/tokens/{x}",
    f"{A}", f"{A}/secrets_store/quota", f"{A}/secrets_store/stores",
    f"{A}/secrets_store/stores/{{s}}", f"{A}/secrets_store/stores/{{s}}/secrets",
    f"{A}/secrets_store/stores/{{s}}/secrets/{{x}}",
    f"{A}/secrets_store/stores/{{s}}/secrets/{{x}}/duplicate",
    f"{A}/workers/scripts", f"{A}/workers/scripts/{{w}}", f"{A}/workers/scripts/{{w}}/content/v2",
    f"{A}/workers/scripts/{{w}}/content", f"{A}/workers/scripts/{{w}}/settings",
    f"{A}/workers/scripts/{{w}}/script-settings", f"{A}/workers/scripts/{{w}}/secrets",
    f"{A}/workers/scripts/{{w}}/secrets/{{x}}", f"{A}/workers/scripts/{{w}}/versions",
    f"{A}/workers/scripts/{{w}}/versions/{{x}}", f"{A}/workers/scripts/{{w}}/deployments",
    f"{A}/workers/scripts/{{w}}/subdomain", f"{A}/workers/services/{{w}}",
    f"{A}/workers/subdomain", f"{A}/workers/scripts-search",
]  # fmt: skip
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CONTENT_TYPES = [
    None, "application/json", "text/plain;charset=UTF-8", "multipart/form-data",
    "multipart/form-data; boundary=xyz", "multipart/form-data; boundary=", "application/javascript",
    "application/x-www-form-urlencoded", "application/json; charset=latin-1", "*/*", "\u00e9/\u00e9",
]  # fmt: skip
segment = st.one_of(
    st.sampled_from(["store", "secret", "worker", "api", "x" * 300, "..", "%2F", "%00", "-", ""]),
    st.text(max_size=20).map(lambda s: quote(s, safe="")),
)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
        st.text(max_size=20), st.sampled_from(["workers", "main", "KEY", "script", "index.js"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["name", "value", "scopes", "comment", "main_module", "body_part",
                             "bindings", "type", "text", "store_id", "secret_name", "id",
                             "versions", "percentage", "enabled", "tags"]) | st.text(max_size=6),
            inner, max_size=5,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = "fuzzboundary"
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["metadata", "index.js", "files", "script", "x"]))
        filename = draw(st.one_of(st.none(), st.sampled_from(["index.js", "", "a/../b.js"])))
        ctype = draw(st.one_of(st.none(), st.sampled_from(
            ["application/json", "application/javascript+module", "application/javascript",
             "application/wasm", "text/plain", "bogus"])))  # fmt: skip
        body = draw(st.one_of(json_values.map(json.dumps), st.text(max_size=40)))
        head = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            head += f'; filename="{filename}"'
        if ctype is not None:
            head += f"\r\nContent-Type: {ctype}"
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n{body}\r\n")
    tail = draw(st.sampled_from([f"--{boundary}--\r\n", "", f"--{boundary}"]))
    return ("".join(parts) + tail).encode(), f"multipart/form-data; boundary={boundary}"


bodies = st.one_of(
    st.just((b"", None)),
    st.binary(max_size=200).map(lambda b: (b, None)),
    json_values.map(lambda v: (json.dumps(v).encode(), None)),
    multipart_bodies(),
)


@st.composite
def requests(draw: st.DrawFn, known: dict[str, str]) -> dict[str, Any]:
    template = draw(st.sampled_from(TEMPLATES))
    fill = {
        "a": draw(st.one_of(st.just(DEFAULT_ACCOUNT_ID), segment)),
        "s": draw(st.one_of(st.just(known["store"]), segment)),
        "x": draw(st.one_of(st.just(known["secret"]), segment)),
        "w": draw(st.one_of(st.just(known["worker"]), segment)),
    }
    path = template.format(**fill)
    query = draw(
        st.dictionaries(
            st.sampled_from(["page", "per_page", "force", "tags", "name", "excludeScript",
                             "bindings_inherit", "order_by"]) | st.text(max_size=5),
            st.sampled_from(["1", "0", "-1", "abc", "99999999999999999999", "", "true", "5"]),
            max_size=3,
        )
    )  # fmt: skip
    body, body_type = draw(bodies)
    content_type = body_type or draw(st.sampled_from(CONTENT_TYPES))
    headers = {
        "Authorization": draw(
            st.sampled_from([f"Bearer {DEFAULT_TOKEN}"] * 4 + ["Bearer wrong", "", "Basic x"])
        )
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    return {
        "method": draw(st.sampled_from(METHODS)),
        "url": path,
        "params": query,
        "content": body,
        # Bytes, so a non-ASCII header reaches the server instead of failing in httpx.
        "headers": {k: v.encode("utf-8") for k, v in headers.items()},
    }


class InProcessEmulator:
    """The emulator app behind httpx.ASGITransport, with one live store, secret and worker."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app()), base_url="http://emulator.local"
        )
        self.known = self._seed()

    def send(self, **request: Any) -> httpx.Response:
        return self.runner.run(self.client.request(**request))

    def _seed(self) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        base = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}"
        store = self.send(
            method="POST", url=f"{base}/secrets_store/stores", json={"name": "main"}, headers=auth
        ).json()["result"]["id"]
        secret = self.send(
            method="POST",
            url=f"{base}/secrets_store/stores/{store}/secrets",
            json=[{"name": "KEY", "value": "fuzz", "scopes": ["workers"]}],
            headers=auth,
        ).json()["result"][0]["id"]
        upload = self.send(
            method="PUT",
            url=f"{base}/workers/scripts/api",
            files=[
                ("index.js", ("index.js", b"export default {};", "application/javascript+module")),
                ("metadata", (None, b'{"main_module": "index.js"}', "application/json")),
            ],
            headers=auth,
        )
        assert upload.status_code == 200, upload.text
        return {"store": store, "secret": secret, "worker": "api"}

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


def test_malformed_requests_never_get_a_5xx() -> None:
    emulator = InProcessEmulator()
    try:

        @settings(max_examples=400, deadline=None)
        @given(requests(emulator.known))
        def check(request: dict[str, Any]) -> None:
            response = emulator.send(**request)
            assert response.status_code < 500, (
                f"{request['method']} {request['url']} -> {response.status_code}: "
                f"{response.text[:300]}"
            )
            # JSON answers are v4 envelopes (script downloads are raw code; HEAD/OPTIONS get
            # Starlette's plain 405).
            json_answer = response.headers.get("content-type", "").startswith("application/json")
            if request["url"].startswith("/client/v4") and json_answer and response.content:
                body = response.json()
                assert body["success"] is (response.status_code < 400)

        check()
    finally:
        emulator.close()
