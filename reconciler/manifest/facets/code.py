"""The code facet of a manifest: script, modules, format and compatibility settings.

Each file is read once here, hashed and let go; the upload reads it again (`ModuleFile`).
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.state import Module, ModuleFile, WorkerParts, script_digest


class CodeManifest(ManifestFacet):
    name = "code"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        from reconciler.cloudflare.upload import detect_format

        if spec.script is None:
            # An assets-only Worker: no code (the model requires `assets` then).
            return {
                "format": "module",
                "script_digest": script_digest(()),
                "modules": (),
                "compatibility_date": spec.compatibility_date,
                "compatibility_flags": tuple(spec.compatibility_flags),
            }
        base = doc.path.parent
        main_path = base / spec.script
        names = [PurePosixPath(spec.script).name] + [
            os.path.relpath(base / extra, main_path.parent).replace(os.sep, "/")
            for extra in spec.modules
        ]
        files = [("script file", spec.script, doc.at("workers", index, "script"))] + [
            ("module file", extra, doc.at("workers", index, "modules", j))
            for j, extra in enumerate(spec.modules)
        ]
        modules: list[Module] = []
        refs: list[ModuleFile] = []
        for name, (what, relative, where) in zip(names, files, strict=True):
            data = check.read_file(doc, relative, where, what)
            if data is None:
                continue
            modules.append(Module(name, data))
            refs.append(
                ModuleFile(
                    name,
                    base / relative,
                    check.root(doc),
                    check.hashed[str(base / relative)],
                    f"{what} {relative}",
                )
            )
        if len(modules) != len(files):
            return None
        fmt = spec.format
        if fmt == "auto":
            fmt = detect_format(modules[0].content.decode("utf-8", errors="replace"))
        if fmt == "classic" and spec.modules:
            check.add(
                doc.at("workers", index, "modules"),
                "extra modules need an ES module worker; a classic script is uploaded as one part",
            )
        return {
            "format": fmt,
            "script_digest": script_digest(modules),
            "modules": tuple(refs),
            "compatibility_date": spec.compatibility_date,
            "compatibility_flags": tuple(spec.compatibility_flags),
        }


FACET = CodeManifest()
