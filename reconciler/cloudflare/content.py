"""Decode a worker's script content as the API returns it: raw, multipart, or nothing."""

from __future__ import annotations

import re

import httpx

from reconciler.state import Module

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r'(\w+)="([^"]*)"')
DEFAULT_MAIN = "script.js"


def decode_content(response: httpx.Response) -> list[Module]:
    """Modules of a content response, main module first.

    The main module is the one named by the `cf-entrypoint` header when the API
    sends it, else the first part (the API lists the entry point first).
    """
    if response.status_code == 204 or not response.content:
        return []
    content_type = response.headers.get("content-type", "")
    entry = response.headers.get("cf-entrypoint")
    if content_type.lower().startswith("multipart/"):
        modules = parse_multipart(response.content, content_type)
    else:
        modules = [Module(name=entry or DEFAULT_MAIN, content=response.content)]
    if entry:
        modules.sort(key=lambda m: m.name != entry)
    return modules


def parse_multipart(body: bytes, content_type: str) -> list[Module]:
    """Split a multipart body into modules named by filename (else field name)."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        return [Module(name=DEFAULT_MAIN, content=body)]
    delimiter = b"--" + match.group(1).encode()
    modules: list[Module] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        params: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                params = dict(_DISPOSITION_PARAM.findall(value))
        name = params.get("filename") or params.get("name") or DEFAULT_MAIN
        modules.append(Module(name=name, content=content.removesuffix(b"\r\n")))
    return modules
