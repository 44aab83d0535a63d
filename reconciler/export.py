"""Live account -> manifests: the way in for accounts that already exist.

Export writes what a plan compares, so that export then plan (with the secret
values in the environment) shows only adopt actions. Secret values cannot be
read back, so each secret (and each worker script secret, `secret_text`) gets a
`value_from: {env: NAME}` placeholder with a predictable name (see `env_var_name`).
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
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import ValidationError

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.upload import detect_format
from reconciler.errors import ConfigError
from reconciler.manifest.models import (
    BINDING_TYPES,
    SecretSpec,
    StoreSpec,
    WorkerSpec,
    manifest_json_schema,
)
from reconciler.state import Binding, Module, State, Worker

MANIFEST_FILE = "reconciler.yaml"
SCHEMA_FILE = "schema.json"
WORKERS_DIR = "workers"
SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def env_var_name(store: str, secret: str) -> str:
    """`<STORE>_<SECRET>`, upper-cased, every character but A-Z and 0-9 turned into `_`;
    a leading `_` when it would start with a digit (shells and CI secrets refuse that)."""
    name = _NOT_ALNUM.sub("_", f"{store}_{secret}").upper()
    return f"_{name}" if name[:1].isdigit() else name


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


def _unique(env: str, taken: set[str]) -> str:
    """Two names that differ only in punctuation get a numbered suffix."""
    base, n = env, 2
    while env in taken:
        env, n = f"{base}_{n}", n + 1
    return env


@dataclass
class Export:
    """Everything export would write, as data: relative path -> bytes."""

    account_id: str
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)
    env_vars: list[EnvVar] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def write(self, out_dir: Path, *, force: bool = False) -> list[Path]:
        """Write every file; without `force`, refuse (before writing any) if one exists."""
        targets = [out_dir / Path(rel) for rel in sorted(self.files)]
        existing = [t for t in targets if t.exists()]
        if existing and not force:
            names = ", ".join(str(t) for t in existing[:5])
            more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
            raise ConfigError(
                f"export would overwrite {names}{more}; pass --force to overwrite, "
                "or choose another --out directory"
            )
        for target, rel in zip(targets, sorted(self.files), strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.files[rel])
        return targets


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
        env = _unique(env_var_name(secret.store, secret.name), taken)
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


def _binding(binding: Binding, bindable: set[tuple[str, str]]) -> dict[str, Any] | None:
    """The manifest form of a binding, or None when the exported manifests cannot hold it."""
    params = binding.params
    if binding.type == "secrets_store_secret":
        ref = (params.get("store"), params.get("secret"))
        if ref not in bindable:
            return None
        return {"type": binding.type, "name": binding.name, "store": ref[0], "secret": ref[1]}
    if binding.type in BINDING_TYPES:
        return {"type": binding.type, "name": binding.name, **params}
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


def _worker(
    worker: Worker,
    modules: list[Module],
    bindable: set[tuple[str, str]],
    result: Export,
    taken: set[str],
) -> dict[str, Any] | None:
    if not modules:
        result.warnings.append(f"skipped worker {worker.name!r}: the API returned no script code")
        return None
    layout = _layout(worker.name, modules)
    if layout is None:
        result.warnings.append(
            f"skipped worker {worker.name!r}: a module name is absolute; it cannot be a file path"
        )
        return None
    script, extra_paths, renamed = layout
    entry: dict[str, Any] = {"name": worker.name, "script": script}
    detected = detect_format(modules[0].content.decode("utf-8", "replace"))
    if detected != worker.format:
        entry["format"] = worker.format
    if worker.compatibility_date:
        entry["compatibility_date"] = worker.compatibility_date
    if worker.compatibility_flags:
        entry["compatibility_flags"] = list(worker.compatibility_flags)
    bindings, skipped = [], []
    for binding in worker.bindings:
        spec = _binding(binding, bindable)
        if spec is None:
            skipped.append(f"{binding.name} ({binding.type})")
        else:
            bindings.append(spec)
    placeholders: list[tuple[str, str]] = []
    for secret in worker.secrets:
        env = _unique(env_var_name(worker.name, secret.name), taken | {e for e, _ in placeholders})
        placeholders.append((env, secret.name))
        bindings.append({"type": "secret_text", "name": secret.name, "value_from": {"env": env}})
    if bindings:
        entry["bindings"] = bindings
    if extra_paths:
        entry["modules"] = extra_paths
    problem = _valid(WorkerSpec, entry)
    if problem:
        result.warnings.append(f"skipped worker {worker.name!r}: {problem}")
        return None
    for env, name in placeholders:
        taken.add(env)
        result.env_vars.append(EnvVar(env, worker.name, name, worker=True))
    if renamed:
        result.warnings.append(
            f"worker {worker.name!r}: its main module {modules[0].name} is in a folder; the "
            "manifest names modules relative to the main script, so they upload as "
            f"{', '.join(renamed)} (imports still resolve; the plan shows a script change)"
        )
    if skipped:
        result.warnings.append(
            f"worker {worker.name!r}: skipped binding(s) the exported manifests cannot hold "
            "(a type the format lacks, or a secret not exported with the workers scope): "
            f"{', '.join(skipped)}; an apply of the exported manifests would remove them"
        )
    result.files[PurePosixPath(script)] = modules[0].content
    for path, module in zip(extra_paths, modules[1:], strict=True):
        result.files[PurePosixPath(path)] = module.content
    return entry
