"""Worker upload encoding: ES module vs classic, and the multipart parts.

Sending an ES module as a classic script fails with "Unexpected token 'export'",
so the format is detected from the source unless the manifest forces it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.cloudflare.facets import FACETS
from reconciler.cloudflare.facets.base import UploadDraft, UploadPart
from reconciler.markers import WORKER_TAG
from reconciler.state import Worker, WorkerFormat

# Script secrets not written in an upload must survive it (deleting one is a separate call).
KEEP_BINDINGS = ("secret_text", "secret_key")

_MODULE_SYNTAX = re.compile(
    r"""(?:^|[;}])\s*(?:
        export\s*(?:default\b|\{|\*|(?:const|let|var|function|async|class)\b)
      | import\s+[\w$]+\s*(?:,|from\b)
      | import\s*(?:\{|\*|["'`])
    )
    | (?<![\w$.])import\s*\.\s*meta\b""",
    re.MULTILINE | re.VERBOSE,
)


def detect_format(source: str) -> Literal["module", "classic"]:
    """`module` if the code has top-level ES module syntax, else `classic`.

    Comments and string contents are blanked first, so `// export default` or
    "import x from y" inside a string do not count; `import(...)` is dynamic
    import, which classic scripts may use too.
    """
    return "module" if _MODULE_SYNTAX.search(_blank_comments_and_strings(source)) else "classic"


# Where ordinary code ends (a comment or a string may start), and where each kind of string
# may end: the scan jumps between these in C, not character by character (a 10 MiB script
# took 2 s, and every plan detects the format of every `format: auto` script).
_SPECIAL = re.compile(r"[/'\"`]")
_STRING_STOP = {q: re.compile("[\\\\" + q + ("" if q == "`" else "\n") + "]") for q in "'\"`"}


def _blank_comments_and_strings(source: str) -> str:
    """Replace comments with a space and string contents with nothing (quotes kept)."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        special = _SPECIAL.search(source, i)
        if special is None:
            out.append(source[i:])
            break
        out.append(source[i : special.start()])
        i = special.start()
        c = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            end = source.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif c == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            block = source[i : n if end < 0 else end + 2]
            out.append("\n" * block.count("\n") or " ")
            i = n if end < 0 else end + 2
        elif c == "/":
            out.append(c)
            i += 1
        else:
            # A string: its end is the closing quote, or a line end for '' and "" (unclosed).
            j = i + 1
            while True:
                stop = _STRING_STOP[c].search(source, j)
                if stop is None or source[stop.start()] != "\\":
                    break
                j = stop.start() + 2  # an escaped character
            j = n if stop is None else stop.start()
            out.append(c + c)
            i = j + 1
    return "".join(out)


@dataclass(frozen=True)
class WorkerUpload:
    """A complete upload: code parts plus the metadata part."""

    format: WorkerFormat
    modules: tuple[UploadPart, ...]
    metadata: dict[str, Any]

    def files(self) -> list[tuple[str, tuple[str | None, bytes, str]]]:
        """httpx `files=`: each module under its own name (field name = filename), metadata last.

        The metadata part has no filename and Content-Type application/json.
        """
        parts: list[tuple[str, tuple[str | None, bytes, str]]] = [
            (p.name, (p.name, p.content, p.content_type)) for p in self.modules
        ]
        parts.append(("metadata", (None, json.dumps(self.metadata).encode(), "application/json")))
        return parts


def build_upload(
    worker: Worker,
    store_ids: dict[str, str],
    tags: list[str],
    *,
    secrets: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    live: Worker | None = None,
    assets_jwt: str | None = None,
    version: bool = False,
) -> WorkerUpload:
    """Encode a desired worker for `PUT /workers/scripts/{name}`.

    Each Worker facet (`cloudflare/facets/`) adds its parts and metadata keys.
    `store_ids` maps store names to live ids: bindings name stores, the API wants ids.
    `secrets` are script secret values written inside this upload; the worker's other
    secrets are kept (`keep_bindings`). `annotations` go on the version it makes. `live` is the
    worker as it is now (None: new), for the version settings the manifest leaves alone.
    `assets_jwt` is the completion token of the assets uploaded for it (None: keep them).
    `version`: the same assembly for `POST …/versions` (secrets inherited, not kept).
    """
    draft = UploadDraft(worker, store_ids, dict(secrets or {}), live, assets_jwt, version=version)
    for facet in FACETS:
        facet.upload(draft)
    draft.metadata.setdefault("bindings", [])
    draft.metadata["tags"] = sorted({*tags, WORKER_TAG})
    draft.metadata["keep_bindings"] = list(KEEP_BINDINGS)
    if annotations:
        draft.metadata["annotations"] = dict(annotations)
    return WorkerUpload(format=worker.format, modules=tuple(draft.parts), metadata=draft.metadata)
