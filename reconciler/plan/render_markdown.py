"""The plan as a pull-request comment: summary table first, details folded away.

The first line is a hidden marker so CI can find its own earlier comment and edit it
instead of adding a new one on every push; a drift report has a marker of its own, so a
workflow looking for the plan comment never finds a drift report.
"""

from __future__ import annotations

import html

from reconciler.plan.model import ACTION_TYPES, Action, Plan
from reconciler.plan.render_common import (
    SYMBOLS,
    describe,
    format_change,
    headline,
    short_digest,
    summary_line,
)
from reconciler.untrusted import printable

MARKER = "<!-- reconciler-plan -->"
DRIFT_MARKER = "<!-- reconciler-drift -->"
# GitHub refuses comments over 65,536 characters; keep room for the closing note.
MAX_CHARS = 60_000


def _inline(text: str) -> str:
    """Text that stays inside the table cell, fold or line it is put in: one line (control
    characters escaped), no HTML (`<` and `&` escaped), no cell separator, no code span."""
    return html.escape(printable(text)).replace("|", "&#124;").replace("`", "&#96;")


def _code(text: str) -> str:
    """Inline code that survives tables and HTML blocks."""
    return "<code>" + _inline(text) + "</code>"


def _text(text: str) -> str:
    return _inline(text.replace("\n", " "))


def _summary_table(plan: Plan) -> list[str]:
    counts = plan.summary
    columns = [*ACTION_TYPES, "no_op", "unmanaged"]
    names = [c.capitalize() for c in ACTION_TYPES] + ["Unchanged", "Unmanaged"]
    return [
        "| " + " | ".join(names) + " |",
        "|" + "---:|" * len(columns),
        "| " + " | ".join(str(counts[c]) for c in columns) + " |",
    ]


def _details(action: Action) -> list[str]:
    summary = f"<code>{html.escape(SYMBOLS[action.action])}</code> {_text(describe(action))}"
    lines = ["<details>", f"<summary>{summary}</summary>", ""]
    if action.reason:
        lines += [_text(action.reason), ""]
    if action.changes:
        lines += ["| Field | Before | After |", "|---|---|---|"]
        for change in action.changes:
            before, after = format_change(change)
            lines.append(f"| {_code(change.field)} | {_code(before)} | {_code(after)} |")
        lines.append("")
    lines += ["</details>", ""]
    return lines


def render_markdown(plan: Plan, *, drift: bool = False) -> str:
    """A PR comment: heading, summary, conflicts and warnings up front, one fold per action."""
    lines = [
        DRIFT_MARKER if drift else MARKER,
        f"### reconciler: {headline(plan, drift=drift)}",
        "",
    ]
    lines += [
        f"**{_text(summary_line(plan, drift=drift))}**",
        "",
        f"Account {_code(plan.account_id or '(unknown)')}, "
        f"live state {_code(short_digest(plan.live_digest))}",
        "",
    ]
    if plan.conflicts:
        lines += ["> [!CAUTION]", "> **Conflicts: apply refuses this plan and changes nothing.**"]
        lines += [f"> - {_code(c.kind)} {_text(c.message)}" for c in plan.conflicts]
        lines.append("")
    if plan.warnings:
        lines += ["> [!WARNING]"] + [f"> - {_text(w)}" for w in plan.warnings] + [""]
    lines += [*_summary_table(plan), ""]
    body = [_details(a) for a in plan.actions]
    if plan.unmanaged:
        unmanaged = [f"**Unmanaged** ({len(plan.unmanaged)}, listed, never touched):", ""]
        for item in plan.unmanaged:
            label = f"{item.store}/{item.name}" if item.store else item.name
            unmanaged.append(f"- {item.kind} {_code(label)}")
        body.append([*unmanaged, ""])
    return _fit(lines, body)


def _fit(head: list[str], blocks: list[list[str]]) -> str:
    """Keep the comment under GitHub's size limit: drop whole trailing blocks, say how many."""
    out = "\n".join(head)
    for i, block in enumerate(blocks):
        text = "\n".join(block)
        if len(out) + len(text) + 1 > MAX_CHARS:
            left = len(blocks) - i
            return (
                out + f"\n_…{left} more section(s) left out to fit a comment; see the job log._\n"
            )
        out += "\n" + text
    return out
