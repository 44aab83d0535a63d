"""Empty and default forms: one canonical spelling for every field, so a plan converges.

The API spells "not set" several ways (a key left out, `null`, `""`, `[]`, `{}`), not always
the way it was sent, and a manifest leaves optional keys out. Both sides go through
`canonical` before they are compared (the reader for live state, `plan/compare.py` for
views), so no field can plan a change from one empty spelling to another.

A value that is the user's own data (a `json` binding's value) is not a field: `{}` or `""`
there is a value the Worker sees, so it is kept as it is; only `null` there means absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys whose value is the user's data, compared exactly (a json binding's `json`).
DATA_KEYS = frozenset({"json"})


def is_empty(value: Any) -> bool:
    """None, "", and any empty list, tuple or mapping (False and 0 are values, not empties)."""
    if value is None:
        return True
    return isinstance(value, str | list | tuple | Mapping) and len(value) == 0


def canonical(value: Any) -> Any:
    """The value with every empty form as None: keys holding an empty are dropped from
    mappings (absent and empty are one), items of lists are made canonical in place."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in DATA_KEYS:
                if item is not None:
                    out[key] = item
                continue
            item = canonical(item)
            if item is not None:
                out[key] = item
        return out or None
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value] or None
    return None if is_empty(value) else value
