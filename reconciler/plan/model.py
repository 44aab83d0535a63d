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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from reconciler.errors import PlanConflictError

PLAN_VERSION = 1
SENSITIVE = "(sensitive)"

ActionType = Literal["create", "update", "replace", "delete", "adopt"]
ResourceKind = Literal["store", "secret", "worker"]
ConflictKind = Literal["store_limit", "missing_value", "dangling_binding", "safety_threshold"]
ACTION_TYPES: tuple[ActionType, ...] = ("create", "update", "replace", "delete", "adopt")


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

    @property
    def label(self) -> str:
        """How people refer to the resource: `store/secret` for secrets."""
        return f"{self.store}/{self.name}" if self.kind == "secret" else self.name


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
            "actions": [asdict(a) for a in self.actions],
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
        """Inverse of to_dict; raises KeyError/TypeError/ValueError on a malformed document."""
        version = doc["version"]
        if version != PLAN_VERSION:
            raise ValueError(
                f"unsupported plan version {version!r} (this reconciler reads {PLAN_VERSION})"
            )
        actions = []
        for a in doc["actions"]:
            if a["action"] not in ACTION_TYPES or a["kind"] not in ("store", "secret", "worker"):
                raise ValueError(f"unknown action {a['action']!r} on {a['kind']!r}")
            actions.append(
                Action(
                    action=a["action"],
                    kind=a["kind"],
                    name=a["name"],
                    store=a.get("store"),
                    changes=[Change(**c) for c in a.get("changes", [])],
                    reason=a.get("reason", ""),
                )
            )
        return cls(
            version=version,
            account_id=doc["account_id"],
            actions=actions,
            conflicts=[
                Conflict(kind=cast(ConflictKind, c["kind"]), message=c["message"])
                for c in doc["conflicts"]
            ],
            warnings=list(doc.get("warnings", [])),
            unmanaged=[Unmanaged(**u) for u in doc.get("unmanaged", [])],
            no_op=int(doc["summary"].get("no_op", 0)),
            live_digest=doc["live_digest"],
            manifest_digest=doc.get("manifest_digest", ""),
            options=PlanOptions(**doc.get("options", {})),
        )
