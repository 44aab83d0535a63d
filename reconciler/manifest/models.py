"""The manifest format as pydantic models. `reconciler schema` prints their JSON Schema.

The format is a contract: extend it only compatibly (new optional keys), never rename.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from reconciler.manifest.assets_models import AssetsSpec
from reconciler.manifest.triggers_models import Cron, DomainModel, RouteModel
from reconciler.openapi.bindings import TYPES as SCHEMA_TYPES
from reconciler.openapi.bindings import editor_schema
from reconciler.state import SCOPES

_WORKER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_BINDING_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_ACCOUNT_ID = re.compile(r"^[0-9a-f]{32}$")
# ASCII classes only: `\d` would accept full-width and other Unicode digits.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _schema(pattern: re.Pattern[str]) -> WithJsonSchema:
    """Editors see the pattern; our own validator gives the friendlier message."""
    return WithJsonSchema({"type": "string", "pattern": pattern.pattern})


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if " " in value:
            raise ValueError(f"{what}; {value!r} contains a space")
        if not pattern.fullmatch(value):
            raise ValueError(f"{what}; got {value!r}")
        return value

    return AfterValidator(check)


WorkerName = Annotated[
    str,
    _matching(
        _WORKER_NAME,
        "a worker name is lowercase a-z, 0-9 and '-', not starting or ending with '-', "
        "at most 63 characters",
    ),
    _schema(_WORKER_NAME),
]
ResourceName = Annotated[
    str,
    _matching(_RESOURCE_NAME, "a name is letters, digits, '_' and '-' (no spaces), not empty"),
    _schema(_RESOURCE_NAME),
]
BindingName = Annotated[
    str,
    _matching(_BINDING_NAME, "a binding name is a JavaScript identifier such as API_KEY"),
    _schema(_BINDING_NAME),
]
AccountId = Annotated[
    str,
    _matching(_ACCOUNT_ID, "an account_id is 32 lowercase hexadecimal characters"),
    _schema(_ACCOUNT_ID),
]


def _real_date(value: str) -> str:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"compatibility_date {value!r} is not a calendar date") from None
    return value


CompatibilityDate = Annotated[
    str,
    _matching(_DATE, "compatibility_date is a date written YYYY-MM-DD, in quotes"),
    AfterValidator(_real_date),
    _schema(_DATE),
]
Scope = Literal["workers", "ai_gateway", "dex", "access", "containers", "websearch"]
assert set(Scope.__args__) == set(SCOPES)  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SopsRef(_Strict):
    """A key of a sops-encrypted YAML, JSON or dotenv file."""

    file: Annotated[str, Field(min_length=1, description="path relative to this manifest file")]
    key: Annotated[
        str,
        Field(min_length=1, description="dotted key path, e.g. stripe.live; list items by index"),
    ]


class AwsSecretRef(_Strict):
    """An AWS Secrets Manager secret: its string, or one key of its JSON."""

    secret_id: Annotated[str, Field(min_length=1, description="name or ARN")]
    key: Annotated[str, Field(min_length=1, description="a key of the secret's JSON")] | None = None


_SOURCES = ("env", "file", "sops", "aws_secretsmanager", "command")


class ValueFrom(_Strict):
    """Where a secret's value comes from: exactly one source."""

    env: Annotated[str, Field(min_length=1)] | None = None
    file: Annotated[str, Field(min_length=1)] | None = None
    sops: SopsRef | None = None
    aws_secretsmanager: AwsSecretRef | None = None
    command: (
        Annotated[
            list[Annotated[str, Field(min_length=1)]],
            Field(
                min_length=1,
                description="program and arguments, run without a shell; needs --allow-commands",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ValueFrom:
        given = [name for name in _SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "value_from takes exactly one of {env: NAME}, {file: path}, "
                "{sops: {file, key}}, {aws_secretsmanager: {secret_id, key}} or "
                "{command: [program, args...]}"
            )
        return self


class StoreSpec(_Strict):
    name: ResourceName


class SecretSpec(_Strict):
    name: ResourceName
    store: ResourceName = Field(description="the name of a store declared in the manifests")
    value_from: ValueFrom
    scopes: Annotated[list[Scope], Field(min_length=1)]
    # Trailing whitespace (a `|` block's newline) would not survive the marker: strip it.
    comment: Annotated[str, AfterValidator(str.rstrip)] = ""

    @model_validator(mode="before")
    @classmethod
    def _no_literal_value(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data:
            raise ValueError(
                "a literal `value:` is not allowed: plaintext secrets do not belong in git; "
                "use `value_from: {env: NAME}` or `value_from: {file: path}`"
            )
        return data


class SecretsStoreSecretBinding(_Strict):
    """Our own form: names a declared store and secret; uploaded as `store_id`/`secret_name`."""

    type: Literal["secrets_store_secret"]
    name: BindingName
    store: ResourceName
    secret: ResourceName


class SecretTextBinding(_Strict):
    """A script secret of the worker (what `wrangler secret put` sets); the value never in git."""

    type: Literal["secret_text"]
    name: BindingName
    value_from: ValueFrom

    @model_validator(mode="before")
    @classmethod
    def _no_literal_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("text" in data or "value" in data):
            raise ValueError(
                "a secret_text binding takes no literal `text:`/`value:`: plaintext secrets do "
                "not belong in git; use `value_from: {env: NAME}` or `value_from: {file: path}`"
            )
        return data


class ApiBinding(BaseModel):
    """Any other binding type of the Workers API, fields named exactly as the API names them.

    The loader checks type, required fields and shapes against Cloudflare's official schema
    (`reconciler.openapi.bindings`), naming the spot; this model only carries the fields.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    name: BindingName

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


# Binding types whose fields differ from the API's: value sources and names, never ids.
OWN_BINDING_TYPES = ("secrets_store_secret", "secret_text")
# Schema types a manifest cannot declare, and why (the message says it).
UNDECLARABLE_BINDINGS: dict[str, str] = {
    "inherit": "it points at a previous version's binding and a deployed Worker never shows it, "
    "so no plan could settle; declare the binding itself",
    "secret_key": "its key material would have to be in git; set it with `wrangler secret put` "
    "or the API, and reconciler leaves it as it is",
    "assets": "it comes with the Worker's static assets: set `assets: {directory: …, binding: "
    "NAME}` on the worker instead",
    **dict.fromkeys(
        ("wasm_module", "text_blob", "data_blob"),
        "the schema deprecates it (service-worker syntax only); import the file from an ES "
        "module worker listed under `modules:` instead",
    ),
}
BINDING_TYPES = tuple(t for t in SCHEMA_TYPES if t not in UNDECLARABLE_BINDINGS)


def _binding_tag(value: Any) -> str:
    type_ = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return type_ if type_ in OWN_BINDING_TYPES else "api"


BindingSpec = Annotated[
    Annotated[SecretsStoreSecretBinding, Tag("secrets_store_secret")]
    | Annotated[SecretTextBinding, Tag("secret_text")]
    | Annotated[ApiBinding, Tag("api")],
    Discriminator(_binding_tag),
]


class RenamedClass(_Strict):
    from_: str = Field(alias="from", min_length=1)
    to: Annotated[str, Field(min_length=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TransferredClass(_Strict):
    from_: str = Field(alias="from", min_length=1)
    from_script: Annotated[str, Field(min_length=1)]
    to: Annotated[str, Field(min_length=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ClassName = Annotated[str, Field(min_length=1)]


class MigrationStep(_Strict):
    """One Durable Object migration, as wrangler's `[[migrations]]` writes it.

    The fields besides `tag` are the schema's `workers_migration_step`, by the same names.
    """

    tag: Annotated[str, Field(min_length=1, description="this step's tag; unique, in order")]
    new_classes: list[ClassName] = Field(default_factory=list)
    new_sqlite_classes: list[ClassName] = Field(default_factory=list)
    renamed_classes: list[RenamedClass] = Field(default_factory=list)
    deleted_classes: list[ClassName] = Field(default_factory=list)
    transferred_classes: list[TransferredClass] = Field(default_factory=list)


SamplingRate = Annotated[
    float, Field(ge=0, le=1, description="from 0 to 1 (1 = 100 %, 0.1 = 10 %); default 1")
]


class ObservabilityLogsSpec(_Strict):
    """Workers Logs; a field left out takes the API's default."""

    enabled: bool | None = Field(None, description="default: observability's `enabled`")
    invocation_logs: bool | None = Field(None, description="default true")
    head_sampling_rate: SamplingRate | None = None
    persist: bool | None = Field(None, description="default true")
    destinations: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="export destinations by name; default none"
    )


class ObservabilityTracesSpec(_Strict):
    enabled: bool | None = Field(None, description="default false")
    head_sampling_rate: SamplingRate | None = None
    persist: bool | None = Field(None, description="default true")
    destinations: list[Annotated[str, Field(min_length=1)]] | None = None
    propagation_policy: Literal["authenticated", "accept"] | None = Field(
        None, description="compared only when set (the account needs trace propagation)"
    )


class ObservabilityIssuesSpec(_Strict):
    enabled: bool


class ObservabilitySpec(_Strict):
    """The Worker's observability, owned whole: what it leaves out is the API's default."""

    enabled: bool
    head_sampling_rate: SamplingRate | None = None
    logs: ObservabilityLogsSpec | None = None
    traces: ObservabilityTracesSpec | None = None
    issues: ObservabilityIssuesSpec | None = Field(None, description="compared only when set")
    redact_query_string: bool | None = Field(None, description="compared only when set")


class TailConsumerSpec(_Strict):
    service: Annotated[str, Field(min_length=1, description="the Tail Worker's name")]
    environment: Annotated[str, Field(min_length=1)] | None = None
    namespace: (
        Annotated[str, Field(min_length=1, description="the dispatch namespace it belongs to")]
        | None
    ) = None


class PlacementTargetSpec(_Strict):
    region: Annotated[str, Field(min_length=1)] | None = None
    hostname: Annotated[str, Field(min_length=1)] | None = None
    host: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one(self) -> PlacementTargetSpec:
        if sum(x is not None for x in (self.region, self.hostname, self.host)) != 1:
            raise ValueError("a placement target is exactly one of region, hostname or host")
        return self


PLACEMENT_FORMS = (
    "placement is {mode: smart}, or one target ({region: 'aws:us-east-1'}, "
    "{hostname: db.example.com} or {host: 'db.example.com:5432'}, optionally with "
    "mode: targeted), or {mode: targeted, target: [one of those]}"
)


class PlacementSpec(_Strict):
    """Smart Placement, or a placement target (the API's forms)."""

    mode: Literal["smart", "targeted"] | None = None
    region: Annotated[str, Field(min_length=1)] | None = None
    hostname: Annotated[str, Field(min_length=1)] | None = None
    host: Annotated[str, Field(min_length=1)] | None = None
    target: Annotated[list[PlacementTargetSpec], Field(min_length=1, max_length=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> PlacementSpec:
        flat = sum(x is not None for x in (self.region, self.hostname, self.host))
        if self.mode == "smart":
            ok = flat == 0 and self.target is None
        elif self.target is not None:
            ok = self.mode == "targeted" and flat == 0
        else:
            ok = flat == 1 or (flat == 0 and self.mode is None)
        if not ok:
            raise ValueError(PLACEMENT_FORMS)
        return self


class LimitsSpec(_Strict):
    cpu_ms: (
        Annotated[int, Field(ge=1, description="CPU time per invocation, in milliseconds")] | None
    ) = None
    subrequests: Annotated[int, Field(ge=1, description="subrequests per invocation")] | None = None


def _message_fits(value: str | None) -> str | None:
    if value is not None and len(value.encode()) > 1000:
        raise ValueError("message is at most 1000 bytes (the API's workers/message limit)")
    return value


class RolloutSpec(_Strict):
    """A gradual deployment: the share of traffic the version this manifest describes gets
    (the version serving now keeps the rest), or a version pinned to all of it."""

    percentage: Annotated[
        int | None,
        Field(ge=0, le=100, description="percent of traffic for the new version (default 100)"),
    ] = None
    message: Annotated[
        str | None,
        AfterValidator(_message_fits),
        Field(description="workers/message of the version and deployment (default: git commit)"),
    ] = None
    version: Annotated[
        str | int | None,
        Field(description="pin all traffic to this version (an id or a number): a rollback"),
    ] = None

    @model_validator(mode="after")
    def _one_of(self) -> RolloutSpec:
        if self.version is not None and self.percentage is not None:
            raise ValueError("set percentage or version, not both (a pinned version gets 100%)")
        return self


def _unique_consumers(value: list[TailConsumerSpec] | None) -> list[TailConsumerSpec] | None:
    if value is not None:
        keys = [(t.service, t.environment, t.namespace) for t in value]
        if len(set(keys)) != len(keys):
            raise ValueError("tail_consumers names the same Tail Worker twice")
    return value


class WorkerSpec(_Strict):
    name: WorkerName
    # None only for an assets-only Worker (`assets` set): the API allows one.
    script: Annotated[
        str | None, Field(min_length=1, description="path relative to this manifest file")
    ] = None
    format: Literal["auto", "module", "classic"] = "auto"
    compatibility_date: CompatibilityDate | None = None
    compatibility_flags: list[str] = Field(default_factory=list)
    bindings: list[BindingSpec] = Field(default_factory=list)
    modules: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="extra ES modules uploaded with the main script, paths relative to this "
        "manifest file; named by their path relative to the main script's directory",
    )
    # Triggers and reachability: each key owned whole when set, not managed when left out.
    crons: list[Cron] | None = Field(default=None, description="cron schedules; [] removes all")
    routes: list[RouteModel] | None = Field(default=None, description="zone routes; [] removes all")
    domains: list[DomainModel] | None = Field(
        default=None, description="custom domains; [] removes all"
    )
    workers_dev: bool | None = Field(default=None, description="served on workers.dev")
    preview_urls: bool | None = Field(default=None, description="Preview URLs on workers.dev")
    # Settings: each key owned whole when set; left out, not managed (left as it is live).
    observability: ObservabilitySpec | None = None
    logpush: bool | None = Field(None, description="Workers Logpush for this Worker")
    tail_consumers: Annotated[
        list[TailConsumerSpec] | None,
        AfterValidator(_unique_consumers),
        Field(description="the Tail Workers that receive this Worker's events"),
    ] = None
    placement: PlacementSpec | None = None
    limits: LimitsSpec | None = None
    usage_model: Literal["standard", "bundled", "unbound"] | None = None
    migrations: list[MigrationStep] | None = Field(
        default=None,
        description="Durable Object migrations, oldest first; apply sends the steps after the "
        "Worker's live migration tag. Left out: not managed.",
    )
    # Static assets: owned whole when set; left out, not managed (and nothing read for it).
    assets: AssetsSpec | None = None

    @model_validator(mode="after")
    def _script_or_assets(self) -> WorkerSpec:
        if self.script is None and self.assets is None:
            raise ValueError("a worker needs `script` (its code), `assets`, or both")
        if self.script is None and self.modules:
            raise ValueError("`modules` are extra modules of `script`; set `script` too")
        return self

    # Gradual deployments: left out, every change is deployed whole (PUT) and no deployment
    # is read.
    rollout: RolloutSpec | None = None


# Top-level keys starting with this are ignored: a place for YAML anchors (`<<: *x`).
EXTENSION_PREFIX = "x-"


class ManifestDocument(_Strict):
    """One YAML document; a manifest set merges any number of them."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"patternProperties": {f"^{EXTENSION_PREFIX}": {}}},
    )

    account_id: AccountId | None = None
    stores: list[StoreSpec] = Field(default_factory=list)
    secrets: list[SecretSpec] = Field(default_factory=list)
    workers: list[WorkerSpec] = Field(default_factory=list)


def manifest_json_schema() -> dict[str, Any]:
    schema = ManifestDocument.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    defs["WorkerSpec"]["properties"]["bindings"]["items"] = {
        "oneOf": [
            {"$ref": "#/$defs/SecretsStoreSecretBinding"},
            {"$ref": "#/$defs/SecretTextBinding"},
            *(
                editor_schema(t, {"type": "string", "pattern": _BINDING_NAME.pattern})
                for t in BINDING_TYPES
                if t not in OWN_BINDING_TYPES
            ),
        ]
    }
    defs.pop("ApiBinding", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reconciler manifest"
    return schema
