"""What a Worker facet does in `reconciler export` (see `reconciler/facets.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from reconciler.state import Module, Worker

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def env_var_name(store: str, secret: str) -> str:
    """`<STORE>_<SECRET>`, upper-cased, every character but A-Z and 0-9 turned into `_`;
    a leading `_` when it would start with a digit (shells and CI secrets refuse that)."""
    name = _NOT_ALNUM.sub("_", f"{store}_{secret}").upper()
    return f"_{name}" if name[:1].isdigit() else name


def unique(env: str, taken: set[str]) -> str:
    """Two names that differ only in punctuation get a numbered suffix."""
    base, n = env, 2
    while env in taken:
        env, n = f"{base}_{n}", n + 1
    return env


@dataclass(frozen=True)
class EnvVar:
    """An environment variable the user must set before plan: it holds one secret's value.

    `store` is the store's name, or for a worker script secret the worker's (`worker` set).
    """

    name: str
    store: str
    secret: str
    worker: bool = False

    @property
    def label(self) -> str:
        return (
            f"worker {self.store} secret {self.secret}"
            if self.worker
            else (f"secret {self.store}/{self.secret}")
        )


@dataclass
class WorkerExport:
    """One worker being exported. Facets fill `entry`; files, warnings and environment
    variables wait here and are kept only if the whole entry validates."""

    worker: Worker
    # The live code, fetched by export (the main module first).
    modules: list[Module]
    # (store, secret) pairs the exported manifests declare with the workers scope.
    bindable: set[tuple[str, str]]
    # Environment variable names given out already.
    taken: set[str]
    entry: dict[str, Any] = field(default_factory=dict)
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    env_vars: list[EnvVar] = field(default_factory=list)


class ExportFacet:
    """One facet's `WorkerSpec` keys for a live worker."""

    name: str = ""

    def export(self, draft: WorkerExport) -> str | None:
        """Fill its keys; a sentence when the worker cannot be exported at all (skipped)."""
        return None
