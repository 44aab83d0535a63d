"""The emulator README's endpoint table is exactly what the emulator routes."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.emulator.app import ROUTES

README = Path(__file__).resolve().parents[2] / "reconciler" / "emulator" / "README.md"
_ROW = re.compile(r"^\| (GET|PUT|POST|PATCH|DELETE) \| `([^`]+)` \|", re.M)


def test_endpoint_table_lists_every_route_and_nothing_else() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Endpoints") :]
    section = section[: section.index("\n## ", 1)]
    documented = _ROW.findall(section)
    assert len(documented) == len(set(documented)), "a row appears twice"
    assert set(documented) == {(r.method, r.template) for r in ROUTES}
