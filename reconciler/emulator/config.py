"""The emulator's configuration file (YAML or JSON): accounts, tokens, behaviour switches, faults.

Every key is optional; the defaults give one account and one all-powerful token, which is
what the quick start (`--local`) and most tests need.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconciler.errors import ConfigError
from reconciler.file_policy import FileRefusedError, read_manifest_file
from reconciler.yamlpos import load_documents

DEFAULT_ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
DEFAULT_ACCOUNT_NAME = "Local Dev Account"
DEFAULT_TOKEN = "local-dev-token"
# Defaults for the `behaviour` keys a config does not set (YAML/JSON mapping), so one
# switch can be turned on for a whole test run or an embedded `--local` emulator.
BEHAVIOUR_ENV = "RECONCILER_EMULATOR_BEHAVIOUR"

PERMISSIONS: tuple[str, ...] = (
    "Workers Scripts Read",
    "Workers Scripts Write",
    "Secrets Store Read",
    "Secrets Store Write",
    "Secrets Store Edit",
)
ALL_PERMISSIONS: list[str] = ["Workers Scripts Write", "Secrets Store Write"]

_HEX = frozenset("0123456789abcdef")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountConfig(_Strict):
    id: str
    name: str = DEFAULT_ACCOUNT_NAME
    type: Literal["standard", "enterprise"] = "standard"
    max_stores: int = Field(default=1, ge=0)
    max_secrets: int = Field(default=100, ge=0)

    @field_validator("id")
    @classmethod
    def _id_is_32_hex(cls, v: str) -> str:
        if len(v) != 32 or not set(v) <= _HEX:
            raise ValueError("account id must be 32 lowercase hex characters")
        return v


_ZONE_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class ZoneConfig(_Strict):
    """A zone (a domain on Cloudflare) of one account: what routes and custom domains live in."""

    id: str
    name: str
    account: str

    @field_validator("id")
    @classmethod
    def _id_is_32_hex(cls, v: str) -> str:
        if len(v) != 32 or not set(v) <= _HEX:
            raise ValueError("zone id must be 32 lowercase hex characters")
        return v

    @field_validator("name")
    @classmethod
    def _name_is_a_domain(cls, v: str) -> str:
        if not _ZONE_NAME.match(v):
            raise ValueError("zone name must be a lowercase domain name such as example.com")
        return v


class TokenConfig(_Strict):
    token: str = Field(min_length=1)
    accounts: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=lambda: list(ALL_PERMISSIONS))

    @field_validator("permissions")
    @classmethod
    def _known_permissions(cls, v: list[str]) -> list[str]:
        unknown = [p for p in v if p not in PERMISSIONS]
        if unknown:
            raise ValueError(f"unknown permission(s) {unknown}; known: {list(PERMISSIONS)}")
        return v


class PendingConfig(_Strict):
    """A created secret answers `status: pending` to its first `reads` reads (a GET or a
    list that shows it) and for `seconds` after its creation, whichever lasts longer."""

    reads: int = Field(default=0, ge=0)
    seconds: float = Field(default=0.0, ge=0)


class BehaviourConfig(_Strict):
    # reject_value: observed (1001 when the body has value or name); reject_all: some
    # accounts saw 1001 for every PATCH; accept: the newer schema (value may change).
    patch_secret: Literal["reject_value", "reject_all", "accept"] = "reject_value"
    # reject: observed (1001 invalid_json_body); accept: the 2025 SDK shape (array in, array out).
    store_create_array: Literal["reject", "accept"] = "reject"
    # Store and secret lists: with_total_pages (the OpenAPI shape) | count_only
    # (result_info.total_count without total_pages, as real accounts answer).
    list_result_info: Literal["with_total_pages", "count_only"] = "with_total_pages"
    # New secrets start `pending` (the create example of the reference) for a while.
    pending_secrets: PendingConfig = Field(default_factory=PendingConfig)
    # pattern: ^[A-Za-z0-9_-]+$ (1001 invalid_secret_name); no_spaces: the older docs' rule.
    secret_names: Literal["pattern", "no_spaces"] = "pattern"


class RateLimitConfig(_Strict):
    requests: int = Field(default=1200, ge=1)
    window_s: float = Field(default=300.0, gt=0)


class FaultsConfig(_Strict):
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int | None = None
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)


class EmulatorConfig(_Strict):
    accounts: list[AccountConfig] = Field(default_factory=list)
    tokens: list[TokenConfig] = Field(default_factory=list)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    latency_ms: int = Field(default=0, ge=0)
    faults: FaultsConfig = Field(default_factory=FaultsConfig)
    zones: list[ZoneConfig] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _behaviour_from_env(cls, raw: Any) -> Any:
        """Keys of RECONCILER_EMULATOR_BEHAVIOUR fill in what the config leaves unset."""
        env = behaviour_from_env()
        if not env or not isinstance(raw, dict) or not isinstance(raw.get("behaviour", {}), dict):
            return raw
        return {**raw, "behaviour": {**env, **(raw.get("behaviour") or {})}}

    @model_validator(mode="after")
    def _fill_defaults(self) -> EmulatorConfig:
        if not self.accounts:
            self.accounts = [AccountConfig(id=DEFAULT_ACCOUNT_ID)]
        ids = [a.id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("account ids must be unique")
        if not self.tokens:
            self.tokens = [TokenConfig(token=DEFAULT_TOKEN, accounts=list(ids))]
        for t in self.tokens:
            missing = [a for a in t.accounts if a not in ids]
            if missing:
                raise ValueError(f"a token refers to unknown account(s) {missing}")
        if len({t.token for t in self.tokens}) != len(self.tokens):
            raise ValueError("tokens must be unique")
        strays = sorted({z.account for z in self.zones} - set(ids))
        if strays:
            raise ValueError(f"a zone refers to unknown account(s) {strays}")
        for key in ("id", "name"):
            values = [getattr(z, key) for z in self.zones]
            if len(set(values)) != len(values):
                raise ValueError(f"zone {key}s must be unique")
        return self

    def account(self, account_id: str) -> AccountConfig | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def zone(self, zone_id: str) -> ZoneConfig | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def token(self, token: str) -> TokenConfig | None:
        return next((t for t in self.tokens if t.token == token), None)

    @classmethod
    def load(cls, path: str | Path | None) -> EmulatorConfig:
        """Read a YAML (or JSON) file; None gives the defaults."""
        if path is None:
            return cls._validated({}, "(defaults)")
        p = Path(path)
        raw = _read_yaml(p)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"emulator config {p} must be a mapping at the top level")
        return cls._validated(raw, str(p))

    @classmethod
    def _validated(cls, raw: dict[str, Any], p: str) -> EmulatorConfig:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            # Messages name fields and never print the input, so no token value is echoed.
            lines = [
                f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg']}"
                + (
                    " (YAML read a number here: write it in quotes)"
                    if e["type"] == "string_type" and isinstance(e.get("input"), int | float)
                    else ""
                )
                for e in exc.errors()
            ]
            raise ConfigError(f"invalid emulator config {p}:\n  " + "\n  ".join(lines)) from None


def behaviour_from_env() -> dict[str, Any]:
    """The RECONCILER_EMULATOR_BEHAVIOUR mapping (YAML or JSON), checked; {} when unset."""
    text = os.environ.get(BEHAVIOUR_ENV, "").strip()
    if not text:
        return {}
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{BEHAVIOUR_ENV} must be a YAML or JSON mapping of emulator behaviour switches, "
            'e.g. {"list_result_info": "count_only"}'
        )
    try:
        BehaviourConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{BEHAVIOUR_ENV} is not valid: {problems}") from None
    return raw


MAX_CONFIG_BYTES = 1024 * 1024


def _read_yaml(p: Path) -> object:
    """The config file's one YAML document, read like a manifest: a regular file (no FIFO
    hang), at most 1 MiB, UTF-8, nesting and alias expansion bounded."""
    try:
        data = read_manifest_file(
            p, root=None, limit=MAX_CONFIG_BYTES, too_large="is larger than 1 MiB"
        )
        text = data.decode("utf-8")
    except FileRefusedError as exc:
        raise ConfigError(f"cannot read emulator config {p}: it {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"emulator config {p} is not UTF-8 text") from None
    documents, problems = load_documents(str(p), text)
    if problems:
        raise ConfigError(f"emulator config is not valid YAML: {problems[0]}")
    if len(documents) > 1:
        raise ConfigError(f"emulator config {p} must hold one YAML document")
    return documents[0].data if documents else None
