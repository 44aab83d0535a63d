"""The Plan: plain, JSON-serialisable data. It can be printed, saved, compared and applied later.

JSON format (version 1), a contract for users' scripts; extend, never rename:

    {"version": 1, "account_id": "...",
     "actions": [{"action", "kind", "name", "store", "changes", "reason"}],
     "conflicts": [{"kind", "message"}],
     "summary": {"create", "update", "replace", "delete", "adopt", "no_op", "unmanaged"},
     "live_digest": "sha256:...",
     # extensions:
     "manifest_digest": "sha256:...", "warnings": [...], "unmanaged": [{"kind", "name", "store"}],
     "options": {"prune", "force", "replace"},
     "value_pins": null | {"salt", "pins": [{"kind", "name", "store", "worker"?, "pin"}]}}

A change is {"field", "before", "after"}; secret values appear only as "(sensitive)".
Kind "worker_secret" (a worker's script secret, `secret_text`) is an extension: its
actions also carry "worker" (the worker's name; the key is absent on other kinds). So do
the triggers kinds: "worker_crons" and "worker_subdomain" (named after their worker),
"worker_route" (named by its pattern) and "worker_domain" (by its hostname); and
"worker_deployment" (named after its worker: the split of traffic between its versions).
"value_pins" (an extension) holds a keyed pin of every value the plan resolved (written
or compared), so `apply --plan` can refuse a value that changed since; null when the
plan was made without a fingerprint key (absent in files of older versions: the same).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from reconciler.errors import PlanConflictError
from reconciler.plan.fingerprint import PIN_SALT_HEX_CHARS, pins_match, value_pin

PLAN_VERSION = 1
_SALT = re.compile(f"[0-9a-f]{{{PIN_SALT_HEX_CHARS}}}")
SENSITIVE = "(sensitive)"

ActionType = Literal["create", "update", "replace", "delete", "adopt"]
ResourceKind = Literal[
    "store", "secret", "worker", "worker_secret",
    "worker_crons", "worker_subdomain", "worker_route", "worker_domain", "worker_deployment",
]  # fmt: skip
RESOURCE_KINDS: tuple[ResourceKind, ...] = (
    "store", "secret", "worker", "worker_secret",
    "worker_crons", "worker_subdomain", "worker_route", "worker_domain", "worker_deployment",
)  # fmt: skip
ConflictKind = Literal[
    "store_limit", "missing_value", "dangling_binding", "migration_tag", "safety_threshold",
    "zone_not_found", "route_conflict", "domain_conflict", "tail_consumer_missing",
    "version_not_found",
]  # fmt: skip
ACTION_TYPES: tuple[ActionType, ...] = ("create", "update", "replace", "delete", "adopt")
ValueKind = Literal["secret", "worker_secret"]
VALUE_KINDS: tuple[ValueKind, ...] = ("secret", "worker_secret")
# The actions that send a secret's value to the account.
VALUE_WRITES: tuple[ActionType, ...] = ("create", "replace", "adopt")
# The order conflicts are reported in: the account-level problem first.
CONFLICT_KINDS: tuple[ConflictKind, ...] = (
    "store_limit",
    "missing_value",
    "dangling_binding",
    "migration_tag",
    "safety_threshold",
    "zone_not_found",
    "route_conflict",
    "domain_conflict",
    "tail_consumer_missing",
    "version_not_found",
)


@dataclass
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class Action:
    action: ActionType
    kind: ResourceKind
    name: str
    store: str | None = None
    changes: list[Change] = field(default_factory=list)
    reason: str = ""
    # worker_secret only: the worker the secret belongs to.
    worker: str | None = None

    @property
    def label(self) -> str:
        """How people refer to the resource: `store/secret`, `worker/SECRET`, `worker: pattern`."""
        if self.kind == "secret":
            return f"{self.store}/{self.name}"
        if self.kind == "worker_secret":
            return f"{self.worker}/{self.name}"
        if self.kind in ("worker_route", "worker_domain"):
            return f"{self.worker}: {self.name}"
        return self.name

    @property
    def writes_value(self) -> bool:
        return self.kind in VALUE_KINDS and self.action in VALUE_WRITES

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        if self.worker is None:
            del doc["worker"]
        return doc


@dataclass
class ValuePin:
    """A keyed pin of one value the plan resolved (`fingerprint.value_pin`), never the value."""

    kind: ValueKind
    name: str
    store: str | None = None
    worker: str | None = None
    pin: str = ""

    @property
    def what(self) -> str:
        """For messages: the secret, named as people name it."""
        if self.kind == "worker_secret":
            return f"worker {self.worker}'s secret {self.name}"
        return f"secret {self.store}/{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.store or self.worker or "", self.name)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        if self.worker is None:
            del doc["worker"]
        return doc


@dataclass
class ValuePins:
    salt: str
    pins: list[ValuePin] = field(default_factory=list)

    def broken_by(
        self, key: bytes, kind: ValueKind, where: str, name: str, value: str
    ) -> ValuePin | None:
        """The pin `value` does not match (the source gave the plan another value), or None."""
        for pin in self.pins:
            if pin.key == (kind, where, name):
                if pins_match(pin.pin, value_pin(key, self.salt, kind, where, name, value)):
                    return None
                return pin
        return None


@dataclass
class Conflict:
    kind: ConflictKind
    message: str


@dataclass
class Unmanaged:
    """A live resource no manifest declares and we do not own: listed, never touched."""

    kind: ResourceKind
    name: str
    store: str | None = None


@dataclass
class PlanOptions:
    prune: bool = False
    force: bool = False
    replace: list[str] = field(default_factory=list)


@dataclass
class Plan:
    account_id: str
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    no_op: int = 0
    live_digest: str = ""
    manifest_digest: str = ""
    options: PlanOptions = field(default_factory=PlanOptions)
    # None: made without a fingerprint key, so no value is pinned.
    value_pins: ValuePins | None = None
    version: int = PLAN_VERSION

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def raise_if_conflicts(self) -> None:
        """Apply calls this first: a plan with conflicts changes nothing (exit 3)."""
        if self.conflicts:
            raise PlanConflictError([f"{c.kind}: {c.message}" for c in self.conflicts])

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {a: 0 for a in ACTION_TYPES}
        for action in self.actions:
            counts[action.action] += 1
        return {**counts, "no_op": self.no_op, "unmanaged": len(self.unmanaged)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "account_id": self.account_id,
            "actions": [a.to_dict() for a in self.actions],
            "conflicts": [asdict(c) for c in self.conflicts],
            "summary": self.summary,
            "live_digest": self.live_digest,
            "manifest_digest": self.manifest_digest,
            "warnings": list(self.warnings),
            "unmanaged": [asdict(u) for u in self.unmanaged],
            "options": asdict(self.options),
            "value_pins": None
            if self.value_pins is None
            else {
                "salt": self.value_pins.salt,
                "pins": [p.to_dict() for p in self.value_pins.pins],
            },
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        """Inverse of to_dict; raises KeyError/TypeError/ValueError on a malformed document.

        Every field is type-checked: a plan file is hostile input (it is only compared with a
        fresh plan, but a wrong type must be refused here, not met later as a crash).
        """
        version = doc["version"]
        if version != PLAN_VERSION:
            raise ValueError(
                f"unsupported plan version {version!r} (this reconciler reads {PLAN_VERSION})"
            )
        actions = []
        for a in _objects(doc["actions"], "actions"):
            if a["action"] not in ACTION_TYPES or a["kind"] not in RESOURCE_KINDS:
                raise ValueError(f"unknown action {a['action']!r} on {a['kind']!r}")
            actions.append(
                Action(
                    action=a["action"],
                    kind=a["kind"],
                    name=_text(a["name"], "an action's name"),
                    store=_optional_text(a.get("store"), "an action's store"),
                    changes=[
                        Change(_text(c["field"], "a change's field"), c["before"], c["after"])
                        for c in _objects(a.get("changes", []), "an action's changes")
                    ],
                    reason=_text(a.get("reason", ""), "an action's reason"),
                    worker=_optional_text(a.get("worker"), "an action's worker"),
                )
            )
        conflicts = []
        for c in _objects(doc["conflicts"], "conflicts"):
            if c["kind"] not in CONFLICT_KINDS:
                raise ValueError(f"unknown conflict kind {c['kind']!r}")
            conflicts.append(Conflict(c["kind"], _text(c["message"], "a conflict's message")))
        unmanaged = []
        for u in _objects(doc.get("unmanaged", []), "unmanaged"):
            if u["kind"] not in RESOURCE_KINDS:
                raise ValueError(f"unknown resource kind {u['kind']!r}")
            unmanaged.append(
                Unmanaged(
                    u["kind"],
                    _text(u["name"], "an unmanaged name"),
                    _optional_text(u.get("store"), "an unmanaged store"),
                )
            )
        options = doc.get("options", {})
        if not isinstance(options, dict):
            raise TypeError("options must be an object")
        replace = options.get("replace", [])
        if not isinstance(replace, list):
            raise TypeError("options.replace must be a list")
        summary = doc["summary"]
        if not isinstance(summary, dict):
            raise TypeError("summary must be an object")
        no_op = summary.get("no_op", 0)
        if type(no_op) is not int:
            raise TypeError("summary.no_op must be a whole number")
        return cls(
            version=version,
            account_id=_text(doc["account_id"], "account_id"),
            actions=actions,
            conflicts=conflicts,
            warnings=[_text(w, "a warning") for w in _list(doc.get("warnings", []), "warnings")],
            unmanaged=unmanaged,
            no_op=no_op,
            live_digest=_text(doc["live_digest"], "live_digest"),
            manifest_digest=_text(doc.get("manifest_digest", ""), "manifest_digest"),
            options=PlanOptions(
                prune=_flag(options.get("prune", False), "options.prune"),
                force=_flag(options.get("force", False), "options.force"),
                replace=[_text(r, "an options.replace entry") for r in replace],
            ),
            value_pins=_value_pins(doc.get("value_pins")),
        )


def _value_pins(doc: Any) -> ValuePins | None:
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise TypeError("value_pins must be an object or null")
    salt = _text(doc["salt"], "value_pins.salt")
    if not _SALT.fullmatch(salt):
        raise ValueError(
            f"value_pins.salt must be {PIN_SALT_HEX_CHARS} lowercase hexadecimal digits"
        )
    pins = []
    for p in _objects(doc["pins"], "value_pins.pins"):
        if p["kind"] not in VALUE_KINDS:
            raise ValueError(f"unknown value pin kind {p['kind']!r}")
        pins.append(
            ValuePin(
                kind=p["kind"],
                name=_text(p["name"], "a value pin's name"),
                store=_optional_text(p.get("store"), "a value pin's store"),
                worker=_optional_text(p.get("worker"), "a value pin's worker"),
                pin=_text(p["pin"], "a value pin's pin"),
            )
        )
    return ValuePins(salt, pins)


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} must be a list")
    return value


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    items = _list(value, what)
    if not all(isinstance(item, dict) for item in items):
        raise TypeError(f"{what} must be a list of objects")
    return items


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be true or false")
    return value
