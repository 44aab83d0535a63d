"""Counted nouns in messages: `1 change`, `2 changes`, never `1 changes` or `store(s)`."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the right number (`plural` when adding "s" is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
