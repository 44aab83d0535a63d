"""Live account -> manifests: the way in for accounts that already exist.

Export writes what a plan compares, so that export then plan (with the secret
values in the environment) shows only adopt actions. Secret values cannot be
read back, so each secret (and each worker script secret, `secret_text`) gets a
`value_from: {env: NAME}` placeholder with a predictable name (see `env_var_name`).
Each Worker facet (`export_facets/`) writes its keys of a worker's entry.
Anything the manifest format cannot say is skipped and reported in `Export.warnings`,
never dropped silently.

Layout under the output directory:

    reconciler.yaml          account_id, stores, secrets, workers
    schema.json              the manifest JSON Schema (for the editor line)
    workers/<name>.js        a single-file worker
    workers/<name>/<module>  a worker with several modules, names as uploaded
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import ValidationError

from reconciler import safewrite
from reconciler.cloudflare.client import CloudflareClient
from reconciler.errors import ConfigError
from reconciler.export_facets import FACETS
from reconciler.export_facets.base import EnvVar, WorkerExport, env_var_name, unique
from reconciler.manifest.models import (
    SecretSpec,
    StoreSpec,
    WorkerSpec,
    manifest_json_schema,
)
from reconciler.state import Module, State, Worker

__all__ = ["EnvVar", "Export", "env_var_name", "export_account"]

MANIFEST_FILE = "reconciler.yaml"
SCHEMA_FILE = "schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"


@dataclass
class Export:
    """Everything export would write, as data: relative path -> bytes."""

    account_id: str
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)
    env_vars: list[EnvVar] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def write(self, out_dir: Path, *, force: bool = False) -> list[Path]:
        """Write every file; without `force`, refuse (before writing any) if one exists."""
        out_dir.mkdir(parents=True, exist_ok=True)
        # A link on the way is refused here, before any file is written (and again by each write).
        existing = [
            out_dir / Path(rel) for rel in sorted(self.files) if safewrite.existing(out_dir, rel)
        ]
        if existing and not force:
            names = ", ".join(str(t) for t in existing[:5])
            more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
            raise ConfigError(
                f"export would overwrite {names}{more}; pass --force to overwrite, "
                "or choose another --out directory"
            )
        return [safewrite.write_file(out_dir, rel, self.files[rel]) for rel in sorted(self.files)]


async def export_account(client: CloudflareClient, account_id: str, live: State) -> Export:
    """Turn a live state (from `read_live`) into manifest files; fetches each worker's code."""
    result = Export(account_id=account_id)
    stores = _stores(live, result)
    taken: set[str] = set()
    secrets = _secrets(live, stores, result, taken)
    codes = await asyncio.gather(
        *(client.get_script_content(account_id, name) for name in sorted(live.workers))
    )
    # A worker may bind only what the exported manifests declare, with the workers scope.
    bindable = {(s["store"], s["name"]) for s in secrets if "workers" in s["scopes"]}
    workers = []
    for name, modules in zip(sorted(live.workers), codes, strict=True):
        entry = _worker(live.workers[name], modules, bindable, result, taken)
        if entry is not None:
            workers.append(entry)
    document: dict[str, Any] = {"account_id": account_id}
    if stores:
        document["stores"] = [{"name": n} for n in stores]
    if secrets:
        document["secrets"] = secrets
    if workers:
        document["workers"] = workers
    header = [
        SCHEMA_LINE,
        f"# Exported by `reconciler export` from account {account_id}.",
        "# Secret values cannot be read back: set each value_from env variable before planning,",
        "# or point value_from at where the value lives: {sops: {file, key}},",
        "# {aws_secretsmanager: {secret_id, key}} or {command: [...]} (see the README).",
    ]
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    result.files[PurePosixPath(MANIFEST_FILE)] = ("\n".join(header) + "\n" + body).encode()
    schema = json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
    result.files[PurePosixPath(SCHEMA_FILE)] = schema.encode()
    return result


def _valid(model: type[StoreSpec | SecretSpec | WorkerSpec], entry: dict[str, Any]) -> str | None:
    """The first validation message, or None: export writes only what validate accepts."""
    try:
        model.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        return str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return None


def _stores(live: State, result: Export) -> list[str]:
    names = []
    for name in sorted(live.stores):
        problem = _valid(StoreSpec, {"name": name})
        if problem:
            result.warnings.append(f"skipped store {name!r} and its secrets: {problem}")
        else:
            names.append(name)
    return names


def _secrets(
    live: State, stores: list[str], result: Export, taken: set[str]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for key in sorted(live.secrets):
        secret = live.secrets[key]
        if secret.store not in stores:
            continue
        env = unique(env_var_name(secret.store, secret.name), taken)
        entry: dict[str, Any] = {
            "name": secret.name,
            "store": secret.store,
            "value_from": {"env": env},
            "scopes": sorted(secret.scopes),
        }
        if secret.comment:
            entry["comment"] = secret.comment
        problem = _valid(SecretSpec, entry)
        if problem:
            result.warnings.append(f"skipped secret {secret.store}/{secret.name}: {problem}")
            continue
        taken.add(env)
        entries.append(entry)
        result.env_vars.append(EnvVar(env, secret.store, secret.name))
    return entries


def _worker(
    worker: Worker,
    modules: list[Module],
    bindable: set[tuple[str, str]],
    result: Export,
    taken: set[str],
) -> dict[str, Any] | None:
    """A worker's entry from its facets' keys (`export_facets/`); None when skipped."""
    draft = WorkerExport(worker, modules, bindable, taken, entry={"name": worker.name})
    for facet in FACETS:
        why = facet.export(draft)
        if why is not None:
            result.warnings.append(f"skipped worker {worker.name!r}: {why}")
            return None
    # The keys in the manifest format's own order, whichever facet wrote them.
    entry = {k: draft.entry[k] for k in WorkerSpec.model_fields if k in draft.entry}
    problem = _valid(WorkerSpec, entry)
    if problem:
        result.warnings.append(f"skipped worker {worker.name!r}: {problem}")
        return None
    taken.update(e.name for e in draft.env_vars)
    result.env_vars += draft.env_vars
    result.warnings += draft.warnings
    result.files.update(draft.files)
    return entry
