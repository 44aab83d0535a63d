"""The plan for people at a terminal: one line per action, its changes, then the summary.

Everything is built as rich Text, never markup strings, so a name holding `[` can
not restyle the output.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from reconciler.plan.model import Action, Plan
from reconciler.plan.render_common import (
    ASSET_FILES,
    ASSET_PATHS,
    STYLES,
    SYMBOLS,
    format_change,
    headline,
    short_digest,
    summary_line,
)
from reconciler.untrusted import printable

_SYMBOL_WIDTH = max(len(s) for s in SYMBOLS.values())
_KIND_WIDTH = len("secret")
_DETAIL_INDENT = 8


def _indented(console: Console, text: Text, indent: int, first: Text | None = None) -> list[Text]:
    """Wrapped lines stay indented (after `first` on the first line), with no trailing padding."""
    width = max(console.width - indent, 10)
    out = []
    for i, line in enumerate(text.wrap(console, width)):
        line.rstrip()
        lead = first if i == 0 and first is not None else Text(" " * indent)
        out.append(lead + line)
    return out


def _detail(console: Console, text: Text) -> list[Text]:
    return _indented(console, text, _DETAIL_INDENT)


def _action_lines(console: Console, action: Action, verbose: bool = False) -> list[Text]:
    style = STYLES[action.action]
    head = Text("  ")
    head.append(SYMBOLS[action.action].rjust(_SYMBOL_WIDTH), style=f"bold {style}")
    head.append(f" {action.kind.ljust(_KIND_WIDTH)} ")
    head.append(printable(action.label), style="bold")
    if action.action in ("adopt", "replace", "delete"):
        head.append(f"  ({action.action})", style=style)
    lines = [head]
    for change in action.changes:
        if change.field in ASSET_PATHS and not verbose:
            continue  # the counts say enough; the paths with -v (and in --format json)
        before, after = format_change(change)
        if change.field == ASSET_FILES and not verbose:
            after += " (paths with -v)"
        if change.field in ASSET_PATHS and isinstance(change.after, list):
            after = printable(", ".join(str(p) for p in change.after))  # every path
        line = Text(f"{change.field}: ")
        if change.before is None or action.action == "create":
            line.append(after, style=STYLES["create"])
        elif change.after is None:
            line.append(before, style=STYLES["delete"])
            line.append(" -> ")
            line.append("(none)", style="dim")
        else:
            line.append(before, style=STYLES["delete"])
            line.append(" -> ")
            line.append(after, style=STYLES["create"])
        lines += _detail(console, line)
    if action.reason:
        lines += _detail(console, Text(printable(action.reason), style="dim"))
    return lines


def render_text(
    plan: Plan, console: Console, *, drift: bool = False, verbose: bool = False
) -> None:
    """Print the plan; secret values are never in the plan, and `value` always prints masked.

    `verbose` (-v) also lists the asset paths behind each asset count."""
    title = Text(headline(plan, drift=drift), style="bold")
    title.append(f" for account {printable(plan.account_id or '(unknown)')}", style="")
    title.append(f"  (live {short_digest(plan.live_digest)})", style="dim")
    console.print(title)
    if plan.actions:
        console.print()
        for action in plan.actions:
            for line in _action_lines(console, action, verbose):
                console.print(line)
    if plan.unmanaged:
        console.print()
        console.print(Text("Unmanaged (listed, never touched):", style="bold"))
        for item in plan.unmanaged:
            label = f"{item.store}/{item.name}" if item.store else item.name
            shown = printable(label)
            console.print(Text(f"  ? {item.kind.ljust(_KIND_WIDTH)} {shown}", style="dim"))
    if plan.warnings:
        console.print()
        for warning in plan.warnings:
            text = Text(printable(warning))
            for part in _indented(console, text, 4, Text("  ! ", style="bold yellow")):
                console.print(part, style="yellow")
    if plan.conflicts:
        console.print()
        console.print(
            Text("Conflicts (apply refuses this plan and changes nothing):", style="bold red")
        )
        for conflict in plan.conflicts:
            line = Text(f"{conflict.kind}: ", style="red")
            line.append(printable(conflict.message))
            for part in _indented(console, line, 4, Text("  x ", style="bold red")):
                console.print(part)
    console.print()
    console.print(Text(summary_line(plan, drift=drift), style="bold"))
