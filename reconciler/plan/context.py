"""What one plan computation holds while it runs, shared by diff.py and the Worker facets.

The planner's working state (the actions so far, warnings, missing values, counters) and
the two helpers every part needs: reading a value once with its conflict, and deciding what
happens to a live resource no manifest declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.errors import ValueSourceError
from reconciler.plan.fingerprint import value_pin
from reconciler.plan.model import Action, Conflict, PlanOptions, Unmanaged, ValuePin
from reconciler.state import State
from reconciler.values import ValueSource

REASON_PRUNE = "no longer declared; --prune deletes it"


@dataclass
class Planning:
    desired: State
    live: State
    options: PlanOptions
    key: bytes | None
    # Every value read is pinned with this salt (keyed), so a saved plan can refuse another.
    pin_salt: str = ""
    pins: dict[tuple[str, str, str], ValuePin] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    missing: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    no_op: int = 0
    # What --prune would delete, as `kind label`: the warning names each one.
    undeclared_managed: list[str] = field(default_factory=list)
    fingerprints_compared: int = 0
    fingerprints_differing: int = 0

    def undeclared(self, managed: bool, action: Action, unmanaged: Unmanaged) -> None:
        """A live resource no manifest declares: pruned if ours, listed if not."""
        if not managed:
            self.unmanaged.append(unmanaged)
        elif self.options.prune:
            self.actions.append(action)
        else:
            self.undeclared_managed.append(f"{action.kind} '{action.label}'")

    def read_value(self, source: ValueSource | None, what: str, pin: ValuePin) -> str | None:
        """The value, or None with a missing_value conflict. Errors name the source only.

        `pin` names the secret; with a key, the value read is pinned under that name.
        """
        if source is None:
            problem = "has no value source (set value_from in the manifest)"
        elif not source.available():
            problem = f"takes its value from the {source.describe()}, which is not available"
        else:
            try:
                value = source.read()
            except ValueSourceError as exc:
                problem = f"cannot be read: {exc}"
            else:
                if self.key is not None:
                    where = pin.store or pin.worker or ""
                    pin.pin = value_pin(self.key, self.pin_salt, pin.kind, where, pin.name, value)
                    self.pins[pin.key] = pin
                return value
        where = f" (value_from at {source.where})" if source is not None and source.where else ""
        self.missing.append(Conflict("missing_value", f"{what} {problem}{where}"))
        return None
