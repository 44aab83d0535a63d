"""The assets facet in the plan: the asset directory as one digest (files, rules, binding,
config), the binding, and what the change means in files.

What the live side holds is known from our assets tag (what our last upload sent, while the
script's etag is still that upload's), from the asset cache (that upload's file list), or from
the upload session (which files the account lacks); never by uploading. Where the split into
changed, added and removed files is not knowable the plan says so ("12 files to upload of
1,204") instead of guessing.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.context import Planning
from reconciler.plan.facets.base import PlanFacet
from reconciler.plan.model import Change
from reconciler.state import Worker, WorkerAssets

UNKNOWN = "(unknown: not uploaded by reconciler)"
# The file-list fields of a change: the paths, in the plan JSON.
PATH_FIELDS = ("assets.changed", "assets.added", "assets.removed", "assets.to_upload")


def settled(live: WorkerAssets | None, desired: WorkerAssets) -> bool:
    """Whether the live assets are the desired ones, as far as can be known."""
    if live is None:
        return False
    if live.digest is not None:
        return live.digest == desired.digest
    # Not ours (or not since the last out-of-band deploy): the session said the account
    # lacks none of the files, and the binding is as declared (read from the settings).
    return live.missing == () and live.binding == desired.binding


class AssetsPlan(PlanFacet):
    name = "assets"

    def view(self, worker: Worker, desired: Worker) -> dict[str, Any]:
        wanted = desired.assets
        if wanted is None:
            return {}  # not managed: nothing compared
        mine = worker.assets
        if mine is wanted:
            return {"assets": wanted.digest, "assets.binding": wanted.binding}
        if mine is None:
            return {"assets": None, "assets.binding": None}
        digest = wanted.digest if settled(mine, wanted) else mine.digest or UNKNOWN
        return {"assets": digest, "assets.binding": mine.binding}

    def plan(self, planning: Planning) -> None:
        """Spell each worker's asset change out in files."""
        for action in planning.actions:
            if action.kind != "worker":
                continue
            desired = planning.desired.workers.get(action.name)
            if desired is None or desired.assets is None or desired.assets.tree is None:
                continue
            if not any(c.field == "assets" for c in action.changes):
                continue
            live = planning.live.workers.get(action.name)
            at = next(i for i, c in enumerate(action.changes) if c.field == "assets") + 1
            action.changes[at:at] = files_changes(
                desired.assets, live.assets if live is not None else None
            )


def files_changes(desired: WorkerAssets, live: WorkerAssets | None) -> list[Change]:
    """`assets.files` (the counts in words) and the paths, from the file hashes."""
    assert desired.tree is not None
    files = {f.path: f.hash for f in desired.tree.files}
    total = f"of {len(files):,} {'file' if len(files) == 1 else 'files'}"
    if live is None or not live.present:
        added = sorted(files)
        return [
            Change("assets.files", None, f"{len(added):,} added {total}"),
            Change("assets.added", None, added),
        ]
    if live.previous is not None:
        before = live.previous
        changed = sorted(p for p in files if p in before and before[p] != files[p])
        added = sorted(p for p in files if p not in before)
        removed = sorted(p for p in before if p not in files)
        out = [
            Change(
                "assets.files",
                None,
                f"{len(changed):,} changed, {len(added):,} added, {len(removed):,} removed {total}",
            )
        ]
        for name, paths in (("changed", changed), ("added", added), ("removed", removed)):
            if paths:
                out.append(Change(f"assets.{name}", None, paths))
        return out
    if live.missing is not None:
        text = (
            f"{len(live.missing):,} to upload {total} (the previous file list is not known, "
            "so changed, added and removed cannot be told apart)"
        )
        out = [Change("assets.files", None, text)]
        if live.missing:
            out.append(Change("assets.to_upload", None, list(live.missing)))
        return out
    return [Change("assets.files", None, f"not known which files {total} the account lacks")]


FACET = AssetsPlan()
