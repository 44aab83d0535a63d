"""The order actions run in: what others depend on is created first and deleted last.

Creates go stores, secrets, workers (workers bind secrets, secrets live in stores);
deletes go the reverse way. Within a group actions are sorted by name so the same
inputs always give the same plan text.
"""

from __future__ import annotations

from reconciler.plan.model import Action

_GROUPS: dict[tuple[str, bool], int] = {
    ("store", False): 0,
    ("secret", False): 1,
    ("worker", False): 2,
    ("worker", True): 3,
    ("secret", True): 4,
    ("store", True): 5,
}


def action_rank(action: Action) -> tuple[int, str, str]:
    """Sort key: dependency group, then store, then name."""
    group = _GROUPS[(action.kind, action.action == "delete")]
    return (group, action.store or "", action.name)


def order_actions(actions: list[Action]) -> list[Action]:
    return sorted(actions, key=action_rank)
