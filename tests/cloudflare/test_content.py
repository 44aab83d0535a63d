"""Script content as the API returns it: multipart with an entry point, raw, or 204."""

from __future__ import annotations

import asyncio

import httpx

from reconciler.cloudflare.content import decode_content
from reconciler.cloudflare.upload import build_upload
from reconciler.state import Module, Worker, script_digest

from .conftest import ACCOUNT, Emulator


def test_main_module_first_even_when_it_sorts_last(emu: Emulator) -> None:
    main = Module("zz_main.mjs", b"import t from './a.txt';\nexport default { fetch() {} }")
    text = Module("a.txt", b"some text")
    wasm = Module("b.wasm", b"\x00asm\x01\x00\x00\x00")
    worker = Worker(name="w", format="module", script_digest="", modules=(main, text, wasm))

    async def run() -> list[Module]:
        async with emu.client() as client:
            await client.upload_script(ACCOUNT, "w", build_upload(worker, {}, []))
            return await client.get_script_content(ACCOUNT, "w")

    modules = asyncio.run(run())
    assert modules[0] == main
    assert sorted(modules[1:], key=lambda m: m.name) == [text, wasm]
    assert script_digest(modules) == script_digest(worker.modules)


def test_raw_body_is_one_module() -> None:
    response = httpx.Response(
        200,
        content=b"addEventListener('fetch', h)",
        headers={"content-type": "application/javascript"},
    )
    assert decode_content(response) == [Module("script.js", b"addEventListener('fetch', h)")]


def test_204_is_no_code() -> None:
    assert decode_content(httpx.Response(204)) == []


def test_multipart_without_entrypoint_keeps_part_order() -> None:
    body = (
        b'--XY\r\nContent-Disposition: form-data; name="m.js"; filename="m.js"\r\n'
        b"Content-Type: application/javascript+module\r\n\r\nexport default {}\r\n"
        b'--XY\r\nContent-Disposition: form-data; name="data.bin"\r\n\r\n\x00\x01\r\n--XY--\r\n'
    )
    response = httpx.Response(
        200, content=body, headers={"content-type": "multipart/form-data; boundary=XY"}
    )
    assert decode_content(response) == [
        Module("m.js", b"export default {}"),
        Module("data.bin", b"\x00\x01"),
    ]
