"""The one typed model both sides load into: Desired (manifests) and Live (the account).

Diffing compares like with like, so both sides use these classes. Live never
carries secret values; Desired carries only a ValueSource, read when needed.
Store references (secret.store, binding "store") are store *names* on both sides.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from reconciler.asset_files import AssetError, AssetTree, encode_file
from reconciler.empty import canonical
from reconciler.errors import Location
from reconciler.file_policy import (
    MAX_SCRIPT_BYTES,
    SCRIPT_TOO_LARGE,
    FileRefusedError,
    read_manifest_file,
)
from reconciler.settings_forms import VERSION_KEYS
from reconciler.settings_forms import canonical as settings_canonical
from reconciler.values import ValueSource

SCOPES: tuple[str, ...] = ("workers", "ai_gateway", "dex", "access", "containers", "websearch")
WorkerFormat = Literal["module", "classic"]


@dataclass(frozen=True)
class Store:
    name: str
    id: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Secret:
    store: str
    name: str
    scopes: frozenset[str]
    comment: str = ""
    # Live: the comment carries our marker. Desired: always True.
    managed: bool = False
    # Live: the fingerprint recorded in the marker, if any.
    fingerprint: str | None = None
    id: str | None = None
    value_from: ValueSource | None = field(default=None, compare=False)
    location: Location | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.store, self.name)


@dataclass(frozen=True)
class Module:
    """One uploaded file of a worker. The main module comes first in Worker.modules."""

    name: str
    content: bytes

    def load(self) -> bytes:
        return self.content


@dataclass(frozen=True)
class ModuleFile:
    """A module a manifest names, held as where it is and the hash of what the plan read.

    Desired workers carry these, not the code: holding every script from load to upload made
    a plan's memory grow with script size. `load` reads the file again at upload, through the
    same file policy, and refuses it if it is no longer what the plan was made from.
    """

    name: str
    path: Path = field(compare=False)
    root: Path | None = field(compare=False)
    sha256: str
    # What the manifest calls it ("script file workers/api.js"), for the message.
    label: str = field(default="", compare=False)

    def load(self) -> bytes:
        again = "nothing of it was uploaded: run plan (and apply) again"
        try:
            data = read_manifest_file(
                self.path, root=self.root, limit=MAX_SCRIPT_BYTES, too_large=SCRIPT_TOO_LARGE
            )
        except FileRefusedError as exc:
            raise FileRefusedError(
                f"{self.label} {exc} now, after the plan read it; {again}"
            ) from None
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise FileRefusedError(
                f"{self.label} changed after the plan read it, so its upload would not be what "
                f"the plan shows; {again}"
            )
        return data


def script_digest(modules: tuple[Module, ...] | list[Module]) -> str:
    """Content hash of a worker's code: the main module, then the others by name.

    Module names of the main module are not compared: the API does not return
    them for single-file workers.
    """
    h = hashlib.sha256()
    if modules:
        main, rest = modules[0], sorted(modules[1:], key=lambda m: m.name)
        h.update(b"main\0" + main.content + b"\0")
        for m in rest:
            h.update(m.name.encode() + b"\0" + m.content + b"\0")
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class Binding:
    """A worker binding. `params` holds everything but name and type.

    A secrets_store_secret binding has params {"store": <store name>, "secret": <name>}.
    """

    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **self.params}


@dataclass(frozen=True)
class WorkerSecret:
    """A worker's script secret (a `secret_text` binding); its value is never held here.

    Live: the name, and the fingerprint the deployed version records for it (None when the
    version carries no record of ours: written outside reconciler, or never recorded).
    Desired: the name and where the value comes from.
    """

    name: str
    fingerprint: str | None = None
    value_from: ValueSource | None = field(default=None, compare=False)
    location: Location | None = field(default=None, compare=False)


_PATTERN_HOST = re.compile(r"^(\*\.?)?([a-z0-9*]([a-z0-9*-]*[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def normal_cron(value: str) -> str:
    """A cron as compared: fields separated by one space (the API's spelling of spacing)."""
    return " ".join(value.split())


def pattern_host(pattern: str) -> str | None:
    """The hostname a route pattern names, wildcard prefix removed; None if it names none."""
    rest = re.sub(r"^https?://", "", pattern, flags=re.IGNORECASE)
    host = rest.split("/", 1)[0].lower()
    if not _PATTERN_HOST.match(host):
        return None
    return host.lstrip("*").lstrip(".")


def in_zone(host: str, zone: str) -> bool:
    return host == zone or host.endswith("." + zone)


@dataclass(frozen=True)
class RouteSpec:
    """A route a manifest declares for its worker: the pattern and its zone, by name or id."""

    pattern: str
    zone: str | None = None
    zone_id: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DomainSpec:
    """A custom domain a manifest declares for its worker, in a zone named by name or id."""

    hostname: str
    zone: str | None = None
    zone_id: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LiveRoute:
    """A Worker route of a zone as the API lists it (`script` None: a route running none)."""

    id: str
    zone_id: str
    pattern: str
    script: str | None


@dataclass(frozen=True)
class LiveDomain:
    """A Workers Custom Domain of the account as the API lists it."""

    id: str
    hostname: str
    zone_id: str
    zone_name: str
    service: str


# The assets config fields, as the API names them (the upload's `assets.config`).
ASSET_CONFIG_KEYS: tuple[str, ...] = ("html_handling", "not_found_handling", "run_worker_first")


@dataclass(frozen=True)
class WorkerAssets:
    """A Worker's static assets.

    Desired: the directory as the plan hashed it (`tree`; files are re-read and re-hashed at
    upload), the binding name and the config keys the manifest sets. `digest` covers all of
    them. Live: what can be known without uploading: `digest` when our tag proves what our
    last upload left (None: unknown), `present` from the listing's `has_assets`, the binding
    from the settings, and `missing`, the paths the upload session said the account lacks
    (None: not asked).
    """

    digest: str | None
    binding: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    present: bool = True
    tree: AssetTree | None = field(default=None, compare=False)
    directory: Path | None = field(default=None, compare=False)
    root: Path | None = field(default=None, compare=False)
    missing: tuple[str, ...] | None = field(default=None, compare=False)
    # Live only: the previous upload's files (path -> hash), when the asset cache has them.
    previous: dict[str, str] | None = field(default=None, compare=False)

    def encode(self, path: str, expected: str) -> bytes:
        """One file's base64 content for the upload, refused if it changed since the plan."""
        if self.directory is None:
            raise AssetError(path, "has no directory to read it from")
        return encode_file(self.directory / path.lstrip("/"), self.root, path.lstrip("/"), expected)


def assets_digest(tree: AssetTree, binding: str | None, config: dict[str, Any]) -> str:
    """What our tag records: the files, the rules texts, the binding and the config."""
    doc = {"tree": tree.digest(), "binding": binding, "config": config}
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Migration:
    """One Durable Object migration step: its tag and the API's step fields it sets
    (`new_classes`, `new_sqlite_classes`, `renamed_classes`, `deleted_classes`,
    `transferred_classes`), empty ones left out."""

    tag: str
    changes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, **self.changes}


@dataclass(frozen=True)
class Rollout:
    """A manifest's `rollout` key: the share of traffic the version it describes gets, or a
    version pinned to all of it (`version`: an id or a number, as written)."""

    percentage: int = 100
    message: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class LiveVersion:
    """One version of a worker as the versions list gives it (newest first)."""

    id: str
    number: int
    # The `workers/tag` annotation ("" when none): ours names the version digest.
    tag: str = ""
    # The script secrets' fingerprints its `workers/message` records (None: no record of ours).
    record: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class LiveDeployment:
    """The worker's latest deployment, (version id, percentage) pairs, and the versions the
    account still lists (newest first), read only when a manifest sets `rollout`."""

    split: tuple[tuple[str, float], ...]
    versions: tuple[LiveVersion, ...] = ()

    def number(self, version_id: str) -> int | None:
        return next((v.number for v in self.versions if v.id == version_id), None)


# The fields of a Worker that live on its version (the rest live on the script).
VERSION_FIELDS = ("format", "script_digest", "compatibility_date", "compatibility_flags",
                  "bindings")  # fmt: skip
ROLLOUT_TAG_PREFIX = "reconciler "


def version_digest(worker: Worker) -> str:
    """What a version uploaded from this desired worker holds (code, bindings, the version
    settings it sets), as 32 hex digits: `workers/tag` carries it (versions are immutable, so
    a version tagged with it holds exactly that)."""
    doc = [
        worker.format,
        worker.script_digest,
        canonical(worker.compatibility_date),
        list(worker.compatibility_flags),
        sorted(json.dumps(canonical(b.to_dict()), sort_keys=True) for b in worker.bindings),
        {k: worker.settings[k] for k in VERSION_KEYS if k in worker.settings},
    ]
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def rollout_tag(worker: Worker) -> str:
    return ROLLOUT_TAG_PREFIX + version_digest(worker)


@dataclass(frozen=True)
class Worker:
    name: str
    format: WorkerFormat
    script_digest: str
    # Live: empty (the digest stands for the code). Desired: the files, read at upload.
    modules: tuple[Module | ModuleFile, ...] = ()
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    bindings: tuple[Binding, ...] = ()
    # Script secrets (secret_text), by name; kept apart from `bindings` because their
    # values are compared by fingerprint, never as fields.
    secrets: tuple[WorkerSecret, ...] = ()
    # Settings (`settings_forms.KEYS`) by key, as the API spells them. Desired: only the
    # keys the manifest sets (the others are not managed). Live: every key read.
    settings: dict[str, Any] = field(default_factory=dict)
    managed: bool = False
    etag: str | None = None
    modified_on: str | None = None
    location: Location | None = field(default=None, compare=False)
    # Live only: the script's tags, ours and others' (others' are kept on upload).
    tags: tuple[str, ...] = field(default=(), compare=False)
    # Triggers and reachability. None: the manifest leaves the key out, so it is not managed
    # (and live, not read). Desired crons are normalised (single spaces), in manifest order.
    crons: tuple[str, ...] | None = None
    routes: tuple[RouteSpec, ...] | None = None  # desired only; live routes are on State
    domains: tuple[DomainSpec, ...] | None = None  # desired only; live domains are on State
    workers_dev: bool | None = None
    preview_urls: bool | None = None
    # Desired: the declared Durable Object migrations, oldest first; None when the manifest
    # leaves `migrations` out (not managed).
    migrations: tuple[Migration, ...] | None = None
    # Live: the tag of the last migration that ran (the script list's `migration_tag`).
    migration_tag: str | None = None
    # Static assets. None: the manifest leaves the key out (not managed); live: no assets
    # known (the listing's has_assets false and no assets binding).
    assets: WorkerAssets | None = None
    # Desired: the `rollout` key (None: left out, plain uploads, the deployment not read).
    rollout: Rollout | None = None
    # Live: the latest deployment, read only for a worker whose manifest sets `rollout`.
    deployment: LiveDeployment | None = None


class WorkerParts(TypedDict, total=False):
    """The Worker fields one facet fills (`reconciler/facets.py`): each layer's facet returns
    its own part and the layer builds the Worker from all of them."""

    format: WorkerFormat
    script_digest: str
    modules: tuple[Module | ModuleFile, ...]
    compatibility_date: str | None
    compatibility_flags: tuple[str, ...]
    bindings: tuple[Binding, ...]
    secrets: tuple[WorkerSecret, ...]
    crons: tuple[str, ...] | None
    routes: tuple[RouteSpec, ...] | None
    domains: tuple[DomainSpec, ...] | None
    workers_dev: bool | None
    preview_urls: bool | None
    settings: dict[str, Any]
    migrations: tuple[Migration, ...] | None
    migration_tag: str | None
    assets: WorkerAssets | None
    rollout: Rollout | None
    deployment: LiveDeployment | None


@dataclass
class State:
    """A whole account (Live) or a whole manifest set (Desired)."""

    account_id: str | None = None
    stores: dict[str, Store] = field(default_factory=dict)
    secrets: dict[tuple[str, str], Secret] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    # Live only: how many stores the account may hold (quota or configured limit).
    max_stores: int | None = None
    # Live only: how many secrets the account may hold (GET secrets_store/quota).
    secret_quota: int | None = None
    # Live only, read when a manifest needs them: zone ids by name (None: no such zone of
    # the account), the routes of every zone read (by zone id), and the account's custom
    # domains (None: not read).
    zones: dict[str, str | None] = field(default_factory=dict)
    routes: dict[str, tuple[LiveRoute, ...]] = field(default_factory=dict)
    domains: tuple[LiveDomain, ...] | None = None

    def rollouts(self) -> dict[str, Worker]:
        """Desired: the workers whose manifest sets `rollout` (their deployments are read)."""
        return {n: w for n, w in self.workers.items() if w.rollout is not None}

    def secrets_in(self, store: str) -> list[Secret]:
        return [s for s in self.secrets.values() if s.store == store]

    def digest(self) -> str:
        """A stable hash of what the plan was computed from; detects stale plans.

        Worker fields count in their canonical form (`reconciler.empty`): a read from the
        cache and a fresh read of the same script may spell an empty differently.
        """
        doc = {
            "account_id": self.account_id,
            "stores": sorted([s.name, s.id] for s in self.stores.values()),
            "secrets": sorted(
                [s.store, s.name, s.id, sorted(s.scopes), s.comment, s.managed, s.fingerprint]
                for s in self.secrets.values()
            ),
            "workers": sorted(
                [
                    w.name,
                    w.etag,
                    w.modified_on,
                    w.script_digest,
                    w.managed,
                    canonical(w.compatibility_date),
                    list(w.compatibility_flags),
                    [canonical(b.to_dict()) for b in w.bindings],
                    [[s.name, s.fingerprint] for s in w.secrets],
                    list(w.crons) if w.crons is not None else None,
                    w.workers_dev,
                    w.preview_urls,
                    {k: settings_canonical(k, v, v) for k, v in sorted(w.settings.items())},
                    w.migration_tag,
                    [m.to_dict() for m in w.migrations or ()],
                    None
                    if w.assets is None
                    else [w.assets.digest, w.assets.binding, w.assets.present, w.assets.missing],
                    [list(p) for p in w.deployment.split] if w.deployment else None,
                ]
                for w in self.workers.values()
            ),
            "zones": sorted([k, v] for k, v in self.zones.items()),
            "routes": sorted(
                [r.zone_id, r.id, r.pattern, r.script]
                for routes in self.routes.values()
                for r in routes
            ),
            "domains": None
            if self.domains is None
            else sorted([d.id, d.hostname, d.zone_id, d.service] for d in self.domains),
        }
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
