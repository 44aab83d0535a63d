"""The code facet in export: the script files, format and compatibility settings.

Layout under the output directory: `workers/<name>.js` for a single-file worker,
`workers/<name>/<module>` for a worker with several modules, names as uploaded.
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath

from reconciler.cloudflare.upload import detect_format
from reconciler.export_facets.base import ExportFacet, WorkerExport
from reconciler.state import Module

WORKERS_DIR = "workers"


class CodeExport(ExportFacet):
    name = "code"

    def export(self, draft: WorkerExport) -> str | None:
        worker, modules = draft.worker, draft.modules
        if not modules:
            return "the API returned no script code"
        layout = _layout(worker.name, modules)
        if layout is None:
            return "a module name is absolute; it cannot be a file path"
        script, extra_paths, renamed = layout
        draft.entry["script"] = script
        detected = detect_format(modules[0].content.decode("utf-8", "replace"))
        if detected != worker.format:
            draft.entry["format"] = worker.format
        if worker.compatibility_date:
            draft.entry["compatibility_date"] = worker.compatibility_date
        if worker.compatibility_flags:
            draft.entry["compatibility_flags"] = list(worker.compatibility_flags)
        if extra_paths:
            draft.entry["modules"] = extra_paths
        if renamed:
            draft.warnings.append(
                f"worker {worker.name!r}: its main module {modules[0].name} is in a folder; the "
                "manifest names modules relative to the main script, so they upload as "
                f"{', '.join(renamed)} (imports still resolve; the plan shows a script change)"
            )
        draft.files[PurePosixPath(script)] = modules[0].content
        for path, module in zip(extra_paths, modules[1:], strict=True):
            draft.files[PurePosixPath(path)] = module.content
        return None


def _climbs(name: str) -> int:
    """How many leading `..` a normalised relative path has."""
    parts = name.split("/")
    return next((i for i, part in enumerate(parts) if part != ".."), len(parts))


def _layout(worker: str, modules: list[Module]) -> tuple[str, list[str], list[str]] | None:
    """Where the main script and the extra modules go, and the renamed modules.

    The manifest names extra modules relative to the main script's directory (that is
    what relative imports resolve against), so a main module uploaded inside a folder
    (`src/index.js`) has its extras renamed relative to that folder. Names may climb
    out of it (`../lib/x.js`); the main script is then nested deep enough.
    """
    main, extras = modules[0], modules[1:]
    if not extras:
        return f"{WORKERS_DIR}/{worker}.js", [], []
    if any(m.name.startswith("/") for m in modules):
        return None
    main_dir = posixpath.dirname(posixpath.normpath(main.name))
    names = [posixpath.normpath(posixpath.relpath(m.name, main_dir or ".")) for m in extras]
    renamed = [f"{m.name} -> {n}" for m, n in zip(extras, names, strict=True) if m.name != n]
    depth = max(_climbs(n) for n in names)
    root = posixpath.join(WORKERS_DIR, worker, *(["src"] * depth))
    return (
        posixpath.join(root, posixpath.basename(main.name) or "index.js"),
        [posixpath.normpath(posixpath.join(root, n)) for n in names],
        renamed,
    )


FACET = CodeExport()
