"""Every `reconciler ...` command the README and the example READMEs show parses against the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_workflows import check_command, reconciler_commands

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "examples").rglob("README.md"))]
SHELL_BLOCK = re.compile(r"```(?:sh|bash|shell)\n(.*?)```", re.S)


def _commands(doc: Path) -> list[list[str]]:
    found: list[list[str]] = []
    for block in SHELL_BLOCK.findall(doc.read_text()):
        # The quick start runs the venv's copy: `.venv/bin/reconciler apply ...`.
        found += reconciler_commands(block.replace(".venv/bin/reconciler", "reconciler"))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_documented_commands_parse(doc: Path) -> None:
    for args in _commands(doc):
        check_command(args)


def test_the_quick_start_commands_are_found() -> None:
    commands = _commands(REPO / "README.md")
    assert ["apply", "--local", "--auto-approve"] in commands
    assert ["plan", "--local"] in commands
