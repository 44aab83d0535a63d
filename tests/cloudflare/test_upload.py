"""Worker upload encoding without a server: format detection and multipart shape."""

from __future__ import annotations

import json

import httpx
import pytest

from reconciler.cloudflare.upload import build_upload, detect_format
from reconciler.errors import ConfigError
from reconciler.markers import WORKER_TAG
from reconciler.state import Binding, Module, Worker, script_digest


@pytest.mark.parametrize(
    "source",
    [
        "export default { fetch() { return new Response('hi') } }",
        "const a = 1;\nexport { a as default };",
        "import { x } from './util.js';\naddEventListener('fetch', () => x)",
        "import x from './x.js'\n",
        "import * as ns from 'mod'",
        "import 'polyfill'",
        "  export const y = 2",
        "export async function f() {}",
        "/* header */ export default {}",
        "let a = 1; export default a",
        "const u = import.meta.url",
    ],
)
def test_module_syntax(source: str) -> None:
    assert detect_format(source) == "module"


@pytest.mark.parametrize(
    "source",
    [
        "addEventListener('fetch', e => e.respondWith(new Response('hi')))",
        "// export default {}\naddEventListener('fetch', h)",
        "/* import x from 'y'\n export default {} */\naddEventListener('fetch', h)",
        "const s = 'export default {}';",
        'const s = "import x from \\"y\\"";',
        "const t = `\nexport default {}\n`;",
        "const m = await import('./lazy.js')",
        "const m = import ('./lazy.js')",
        "const exported = 1; const importer = 2;",
        "obj.export = 1",
    ],
)
def test_classic_syntax(source: str) -> None:
    assert detect_format(source) == "classic"


@pytest.mark.parametrize(
    ("source", "blanked"),
    [
        ("a // c\nb", "a  \nb"),
        ("a /* x\ny */ b", "a \n b"),
        ("a / b", "a / b"),
        ("'it\\'s' + x", "'' + x"),
        ('"a\\\\" x "b"', '"" x ""'),
        ("'open\nexport", "''export"),
        ("`one\ntwo` x", "`` x"),
        ("'unclosed", "''"),
        ("x /* open", "x  "),
    ],
)
def test_comments_and_strings_are_blanked(source: str, blanked: str) -> None:
    """The scan that keeps `export` inside a string or comment from counting as syntax."""
    from reconciler.cloudflare.upload import _blank_comments_and_strings

    assert _blank_comments_and_strings(source) == blanked


def _parts(upload_files: list[tuple[str, tuple[str | None, bytes, str]]]) -> str:
    return httpx.Request("PUT", "http://127.0.0.1/", files=upload_files).read().decode()


def test_module_upload_shape() -> None:
    worker = Worker(
        name="api",
        format="module",
        script_digest="",
        modules=(
            Module("index.js", b"export default {}"),
            Module("util.mjs", b"export const x = 1"),
            Module("add.wasm", b"\0asm"),
            Module("notes.txt", b"hello"),
            Module("blob.bin", b"\x01"),
        ),
        compatibility_date="2025-01-01",
        compatibility_flags=("nodejs_compat",),
        bindings=(
            Binding("KEY", "secrets_store_secret", {"store": "main", "secret": "API_KEY"}),
            Binding("GREETING", "plain_text", {"text": "hi"}),
        ),
    )
    up = build_upload(worker, {"main": "s" * 32}, ["team-a"])
    assert up.format == "module"
    md = up.metadata
    assert md["main_module"] == "index.js"
    assert "body_part" not in md
    assert md["bindings"] == [
        {
            "name": "KEY",
            "type": "secrets_store_secret",
            "store_id": "s" * 32,
            "secret_name": "API_KEY",
        },
        {"name": "GREETING", "type": "plain_text", "text": "hi"},
    ]
    assert md["compatibility_date"] == "2025-01-01"
    assert md["compatibility_flags"] == ["nodejs_compat"]
    assert md["tags"] == sorted(["team-a", WORKER_TAG])
    assert md["keep_bindings"] == ["secret_text", "secret_key"]
    types = {p.name: p.content_type for p in up.modules}
    assert types == {
        "index.js": "application/javascript+module",
        "util.mjs": "application/javascript+module",
        "add.wasm": "application/wasm",
        "notes.txt": "text/plain",
        "blob.bin": "application/octet-stream",
    }
    body = _parts(up.files())
    assert 'name="index.js"; filename="index.js"' in body
    meta_part = body.split('name="metadata"')[1]
    assert meta_part.startswith("\r\nContent-Type: application/json\r\n\r\n")
    assert json.loads(meta_part.split("\r\n\r\n", 1)[1].split("\r\n--")[0]) == md


def test_classic_upload_shape() -> None:
    worker = Worker(
        name="old",
        format="classic",
        script_digest="",
        modules=(Module("worker.js", b"addEventListener('fetch', h)"),),
    )
    up = build_upload(worker, {}, [])
    assert up.metadata["body_part"] == "script"
    assert "main_module" not in up.metadata
    assert [(p.name, p.content_type) for p in up.modules] == [("script", "application/javascript")]
    assert up.metadata["tags"] == [WORKER_TAG]
    assert 'name="script"; filename="script"' in _parts(up.files())


def test_classic_with_two_files_is_refused() -> None:
    worker = Worker(
        name="old",
        format="classic",
        script_digest="",
        modules=(Module("a.js", b"x"), Module("b.js", b"y")),
    )
    with pytest.raises(ConfigError, match="exactly one file"):
        build_upload(worker, {}, [])


def test_binding_to_unknown_store_is_refused() -> None:
    worker = Worker(
        name="w",
        format="module",
        script_digest=script_digest([Module("i.js", b"export default {}")]),
        modules=(Module("i.js", b"export default {}"),),
        bindings=(Binding("K", "secrets_store_secret", {"store": "nope", "secret": "S"}),),
    )
    with pytest.raises(ConfigError, match="'nope'"):
        build_upload(worker, {"main": "x"}, [])
