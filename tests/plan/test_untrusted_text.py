"""Untrusted text is data wherever it is shown (issue 21).

A `plain_text` binding's text with a code fence and `<details>` broke the Markdown plan, so a
pull-request comment could hide a delete below fake text; names from the live account and
API error messages put terminal escapes and carriage returns on stdout and stderr. Every
string from a manifest, the account, a server or a program is neutralised where it is shown.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from reconciler.apply import Outcome
from reconciler.cli.apply_command import _progress
from reconciler.errors import ApiError
from reconciler.plan.model import Action, Change, Conflict, Plan, Unmanaged
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text
from reconciler.sentences import error_sentence
from reconciler.untrusted import UntrustedFormatter, printable

FENCE = "hi\n```\n</details>\n\n<details><summary>nothing to see</summary>\n\n| a | b |\n"
ESCAPES = "\x1b[2J\x1b]0;owned\x07\rclean\x9b31m\u202eevil"
BINDING = {"type": "plain_text", "name": "GREETING", "text": FENCE + ESCAPES}


def hostile_plan() -> Plan:
    return Plan(
        account_id="a" * 32,
        actions=[
            Action(
                "update",
                "worker",
                "api",
                changes=[Change("bindings", [{**BINDING, "text": "old"}], [BINDING])],
            ),
            Action("update", "worker", "api2", changes=[Change("GREETING", "x", BINDING)]),
            Action("delete", "worker", "victim", reason=f"no manifest declares it {ESCAPES}"),
        ],
        unmanaged=[Unmanaged("secret", f"X{ESCAPES}", store="s")],
        warnings=[f"warning about {FENCE}{ESCAPES}"],
        conflicts=[Conflict("missing_value", f"value of {ESCAPES}")],
    )


def test_markdown_text_cannot_close_its_table_or_fold_or_add_html() -> None:
    md = render_markdown(hostile_plan())
    lines = md.splitlines()
    assert not any(line.lstrip().startswith("```") for line in lines), md
    # One fold per action, opened and closed by the renderer only.
    assert md.count("<details>") == 3 and md.count("</details>") == 3, md
    assert "<summary>nothing" not in md
    assert sum(1 for line in lines if line.startswith("<summary>")) == 3
    # The delete is a fold of its own, not text inside another one.
    assert any(line.startswith("<summary>") and "delete worker victim" in line for line in lines), (
        md
    )
    # Table rows stay rows: every line of a table has the same number of cell separators.
    for line in lines:
        if line.startswith("| <code>"):
            assert line.count(" | ") == 2, line
    assert "\x1b" not in md and "\r" not in md and "\x9b" not in md and "\u202e" not in md


def _text(plan: Plan) -> str:
    out = io.StringIO()
    render_text(plan, Console(file=out, width=200, force_terminal=False, color_system=None))
    return out.getvalue()


@pytest.mark.parametrize("drift", [False, True])
def test_the_terminal_plan_escapes_control_characters(drift: bool) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    render_text(hostile_plan(), console, drift=drift)
    text = out.getvalue()
    for bad in ("\x1b", "\r", "\x07", "\x9b", "\u202e"):
        assert bad not in text, (bad, text)
    assert r"\x1b[2J" in text and r"\u202e" in text
    # A newline in a value is shown, not obeyed: no line of the output starts with the fence.
    assert not any(line.startswith("```") for line in text.splitlines())


def test_apply_progress_lines_escape_names_and_markup() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True, color_system="standard")
    action = Action("delete", "worker", "x[/][bold red]y")
    _progress(console, Outcome(action, "done"), [])
    error = ApiError(status=400, codes=(), message=ESCAPES, method="DELETE", path="/p")
    _progress(console, Outcome(action, "failed", error=error), [])
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # rich's own colours
    assert "x[/][bold red]y" in text
    for bad in ("\x1b", "\r", "\x07", "\x9b"):
        assert bad not in text, (bad, text)


def test_error_sentences_escape_what_the_server_said() -> None:
    error = ApiError(status=400, codes=(1000,), message=ESCAPES, method="GET", path="/x")
    sentence = error_sentence(error)
    for bad in ("\x1b", "\r", "\x07", "\x9b", "\u202e"):
        assert bad not in sentence
    assert r"\x1b[2J" in sentence


def test_log_lines_escape_control_characters() -> None:
    record = logging.LogRecord("reconciler", logging.INFO, "f", 1, "GET %s", (ESCAPES,), None)
    line = UntrustedFormatter("%(levelname)s %(message)s").format(record)
    assert "\x1b" not in line and "\r" not in line and "\n" not in line
    assert line.startswith("INFO GET ")


def test_printable_leaves_ordinary_text_alone() -> None:
    text = "café - naïve 日本語 [bold] <b> `x` | tab\there"
    assert printable(text) == text.replace("\t", r"\t")
