"""The Plan: plain, JSON-serialisable data. It can be printed, saved, compared and applied later.

JSON format (version 1), a contract for users' scripts; extend, never rename:

    {"version": 1, "account_id": "...",
     "actions": [{"action", "kind", "name", "store", "changes", "reason"}],
     "conflicts": [{"kind", "message"}],
     "summary": {"create", "update", "replace", "delete", "adopt", "no_op", "unmanaged"},
     "live_digest": "sha256:...",
     # extensions:
     "manifest_digest": "sha256:...", "warnings": [...], "unmanaged": [{"kind", "name", "store"}],
     "options": {"prune", "force", "replace"}}

A change is {"field", "before", "after"}; secret values appear only as "(sensitive)".
Kind "worker_secret" (a worker's script secret, `secret_text`) is an extension: its
actions also carry "worker" (the worker's name; the key is absent on other kinds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from reconciler.errors import PlanConflictError

PLAN_VERSION = 1
SENSITIVE = "(sensitive)"

ActionType = Literal["create", "update", "replace", "delete", "adopt"]
ResourceKind = Literal["store", "secret", "worker", "worker_secret"]
RESOURCE_KINDS: tuple[ResourceKind, ...] = ("store", "secret", "worker", "worker_secret")
ConflictKind = Literal["store_limit", "missing_value", "dangling_binding", "safety_threshold"]
ACTION_TYPES: tuple[ActionType, ...] = ("create", "update", "replace", "delete", "adopt")
# The order conflicts are reported in: the account-level problem first.
CONFLICT_KINDS: tuple[ConflictKind, ...] = (
    "store_limit",
    "missing_value",
    "dangling_binding",
    "safety_threshold",
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
        """How people refer to the resource: `store/secret`, `worker/SECRET`."""
        if self.kind == "secret":
            return f"{self.store}/{self.name}"
        if self.kind == "worker_secret":
            return f"{self.worker}/{self.name}"
        return self.name

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        if self.worker is None:
            del doc["worker"]
        return doc


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
        )


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
