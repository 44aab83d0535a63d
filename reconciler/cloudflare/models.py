"""What the API returns, parsed leniently: the fields we read, unknown fields ignored.

These are edge types; the reader turns them into `reconciler.state` objects.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from reconciler.errors import ApiError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# A list the API may answer as null when it has no items: null reads as [].
NullableList = Annotated[list[T], BeforeValidator(lambda v: [] if v is None else v)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Record):
    id: str
    name: str = ""


class StoreRecord(_Record):
    id: str
    name: str
    created: str | None = None
    modified: str | None = None


class SecretRecord(_Record):
    id: str
    name: str
    store_id: str | None = None
    comment: str | None = None
    scopes: NullableList[str] = Field(default_factory=list)
    status: str | None = None
    created: str | None = None
    modified: str | None = None


class Quota(_Record):
    quota: int | None = None
    usage: int | None = None


class ZoneRecord(_Record):
    id: str
    name: str


class RouteRecord(_Record):
    """One Worker route of a zone (`script` is absent on a route that runs no Worker)."""

    id: str
    pattern: str
    script: str | None = None


class DomainRecord(_Record):
    """One Workers Custom Domain of the account."""

    id: str
    hostname: str
    service: str
    zone_id: str | None = None
    zone_name: str | None = None
    environment: str | None = None


class ScheduleRecord(_Record):
    cron: str


class SubdomainRecord(_Record):
    enabled: bool = False
    previews_enabled: bool = False


class ScriptRecord(_Record):
    """One item of `GET /workers/scripts` (no bindings; those come from settings)."""

    id: str
    etag: str | None = None
    modified_on: str | None = None
    created_on: str | None = None
    has_modules: bool | None = None
    has_assets: bool | None = None
    compatibility_date: str | None = None
    compatibility_flags: list[str] | None = None
    tags: list[str] | None = None
    # The routes the list reports for this worker (no zone ids): where `routes:` looks
    # beyond the zones a manifest names. None when the API leaves it out.
    routes: list[RouteRecord] | None = None
    # Settings the list carries (no limits): read leniently, `settings_forms` makes sense of
    # whatever spelling comes back.
    logpush: Any = None
    observability: Any = None
    placement: Any = None
    placement_mode: Any = None  # deprecated: `placement.mode`
    tail_consumers: Any = None
    usage_model: Any = None
    # The tag of the last Durable Object migration that ran (None: none has).
    migration_tag: str | None = None


class ScriptSettings(_Record):
    bindings: NullableList[dict[str, Any]] = Field(default_factory=list)
    # The deployed version's annotations: where we record worker secret fingerprints.
    annotations: dict[str, Any] | None = None
    compatibility_date: str | None = None
    compatibility_flags: list[str] | None = None
    tags: list[str] | None = None
    usage_model: Any = None
    limits: Any = None
    logpush: Any = None
    observability: Any = None
    placement: Any = None
    tail_consumers: Any = None


class AssetsSession(_Record):
    """`POST …/assets-upload-session`: the token, and the hashes the account lacks in buckets
    (none: the token is already the completion token)."""

    jwt: str | None = None
    buckets: NullableList[list[str]] = Field(default_factory=list)


class AssetsUploadResult(_Record):
    """`POST …/workers/assets/upload`: the last bucket's answer carries the completion token."""

    jwt: str | None = None


class VersionSplit(_Record):
    version_id: str
    percentage: float


class DeploymentRecord(_Record):
    """One deployment of `GET …/deployments` (newest first)."""

    id: str | None = None
    versions: NullableList[VersionSplit] = Field(default_factory=list)
    annotations: dict[str, Any] | None = None


class VersionRecord(_Record):
    """One version of `GET …/versions` or `POST …/versions`."""

    id: str
    number: int | None = None
    annotations: dict[str, Any] | None = None


class UploadResult(_Record):
    id: str | None = None
    etag: str | None = None
    modified_on: str | None = None
    has_modules: bool | None = None
    tags: list[str] | None = None


def parse_one(model: type[M], data: Any, method: str, path: str) -> M:
    """Parse one result; an unexpected shape is an ApiError like any other failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(x) for x in e["loc"]) for e in exc.errors()[:3])
        raise ApiError(
            status=200,
            codes=(),
            message=f"unexpected response shape for {model.__name__} ({fields or 'result'})",
            method=method,
            path=path,
        ) from None


def parse_many(model: type[M], data: Any, method: str, path: str) -> list[M]:
    if not isinstance(data, list):
        data = [data]
    return [parse_one(model, item, method, path) for item in data]
