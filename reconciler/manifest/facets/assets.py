"""The assets facet of a manifest: the asset directory hashed file by file (streamed, never
held), every file through the manifest file policy and the API's limits, each problem naming
its file; the binding and the config as the manifest sets them."""

from __future__ import annotations

from reconciler.asset_files import AssetError, read_tree
from reconciler.manifest.check import Checker
from reconciler.manifest.facets.base import ManifestFacet
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import WorkerSpec
from reconciler.state import ASSET_CONFIG_KEYS, WorkerAssets, WorkerParts, assets_digest


class AssetsManifest(ManifestFacet):
    name = "assets"

    def load(
        self, check: Checker, doc: LoadedDocument, index: int, spec: WorkerSpec
    ) -> WorkerParts | None:
        if spec.assets is None:
            return {}
        where = doc.at("workers", index, "assets", "directory")
        directory = doc.path.parent / spec.assets.directory
        root = check.root(doc)
        what = f"asset directory {spec.assets.directory}"
        try:
            tree, problems = read_tree(directory, root)
        except AssetError as exc:
            check.add(where, f"{what}: {exc}")
            return None
        for problem in problems:
            if problem.path:
                check.add(where, f"asset file {problem.path} of {what} {problem.reason}")
            else:
                check.add(where, f"{what} {problem.reason}")
        if problems:
            return None
        declared = spec.assets.model_dump(include=set(ASSET_CONFIG_KEYS), exclude_none=True)
        config = {key: declared[key] for key in ASSET_CONFIG_KEYS if key in declared}
        digest = assets_digest(tree, spec.assets.binding, config)
        # The manifest digest covers the directory's content too.
        check.hashed[str(directory)] = digest
        return {
            "assets": WorkerAssets(
                digest=digest,
                binding=spec.assets.binding,
                config=config,
                tree=tree,
                directory=directory,
                root=root,
            )
        }


FACET = AssetsManifest()
