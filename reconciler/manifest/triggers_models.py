"""The manifest keys of a worker's triggers and reachability: `crons`, `routes`, `domains`,
`workers_dev` and `preview_urls` (their pydantic models; `WorkerSpec` holds the keys).

Each key left out is not managed; each key set is owned whole. Checks here are the ones a
single entry allows; duplicates and zone membership are checked by the manifest facet.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from reconciler.state import in_zone, normal_cron, pattern_host

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#-]+$")
_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
MAX_PATTERN = 1024


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(
            "a cron is five fields (minute hour day-of-month month day-of-week), "
            f'e.g. "*/5 * * * *"; got {value!r}'
        )
    return normal_cron(value)


def _pattern(value: str) -> str:
    if value != value.strip() or " " in value or len(value) > MAX_PATTERN:
        raise ValueError(f"a route pattern has no spaces, e.g. api.example.com/*; got {value!r}")
    if pattern_host(value) is None:
        raise ValueError(
            "a route pattern starts with a hostname of the zone (optionally *. or *), then a "
            f"path, e.g. api.example.com/* or *.example.com/api/*; got {value!r}"
        )
    return value


def _domain(what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not _DOMAIN.match(value):
            raise ValueError(
                f"{what} is a lowercase domain name such as example.com; got {value!r}"
            )
        return value

    return AfterValidator(check)


Cron = Annotated[
    str,
    AfterValidator(_cron),
    WithJsonSchema({"type": "string", "description": 'five cron fields, e.g. "*/5 * * * *"'}),
]
RoutePattern = Annotated[str, AfterValidator(_pattern), Field(min_length=1)]
ZoneName = Annotated[str, _domain("a zone"), WithJsonSchema({"type": "string"})]
Hostname = Annotated[str, _domain("a hostname"), WithJsonSchema({"type": "string"})]


def _zone_id(value: str) -> str:
    if not _ZONE_ID.match(value):
        raise ValueError(f"a zone_id is 32 lowercase hexadecimal characters; got {value!r}")
    return value


ZoneId = Annotated[
    str, AfterValidator(_zone_id), WithJsonSchema({"type": "string", "pattern": _ZONE_ID.pattern})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _InZone(_Strict):
    zone: ZoneName | None = Field(default=None, description="the zone's name, e.g. example.com")
    zone_id: ZoneId | None = None

    @model_validator(mode="after")
    def _one_zone(self) -> _InZone:
        if (self.zone is None) == (self.zone_id is None):
            raise ValueError("give the zone by name (zone: example.com) or by id (zone_id), one")
        return self


class RouteModel(_InZone):
    """A route: requests matching `pattern` in the zone run this worker."""

    pattern: RoutePattern

    @model_validator(mode="after")
    def _pattern_in_zone(self) -> RouteModel:
        host = pattern_host(self.pattern)
        if self.zone is not None and host is not None and not in_zone(host, self.zone):
            raise ValueError(
                f"route pattern {self.pattern!r} is not in zone {self.zone}: its hostname must "
                "be the zone or a subdomain of it"
            )
        return self


class DomainModel(_InZone):
    """A custom domain: the whole hostname serves this worker (Cloudflare adds DNS and TLS)."""

    hostname: Hostname

    @model_validator(mode="after")
    def _hostname_in_zone(self) -> DomainModel:
        if self.zone is not None and not in_zone(self.hostname, self.zone):
            raise ValueError(
                f"custom domain {self.hostname!r} is not in zone {self.zone}: it must be the "
                "zone or a subdomain of it"
            )
        return self
