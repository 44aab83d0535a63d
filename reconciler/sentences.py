"""What both front ends say: the CLI prints these and the MCP tools return the same words.

The one sentence for an error, the apply report's lines (with the loud warning for a secret
left absent), and the summary `validate` ends with.
"""

from __future__ import annotations

from reconciler.apply import ApplyReport, Outcome
from reconciler.cloudflare.explain import explain
from reconciler.errors import ApiError, ManifestError
from reconciler.manifest.merge import ManifestSet
from reconciler.plan.model import Plan
from reconciler.plan.render_common import describe
from reconciler.untrusted import printable, printable_lines
from reconciler.words import count


def error_sentence(error: BaseException | None, stores: list[str] | None = None) -> str:
    """The one sentence a user reads for one of our errors; the MCP server shows the same."""
    if isinstance(error, ManifestError):
        noun = "problem" if len(error.problems) == 1 else "problems"
        return f"{len(error.problems)} {noun} in the manifests"
    if isinstance(error, ApiError):
        # What the server said is untrusted text, and this sentence is one line.
        return printable(explain(error, stores=stores))
    return printable_lines(str(error))


def valid_summary(manifests: ManifestSet) -> str:
    """What `validate` prints last (the MCP validate tool returns the same)."""
    state = manifests.state
    noted = f" ({count(len(manifests.warnings), 'warning')} above)" if manifests.warnings else ""
    return (
        f"Valid: {count(len(state.stores), 'store')}, {count(len(state.secrets), 'secret')}, "
        f"{count(len(state.workers), 'worker')} in {count(len(manifests.files), 'file')}{noted}."
    )


def absent_warning(outcome: Outcome) -> str:
    now = (
        "it is ABSENT now"
        if outcome.absent_confirmed
        else "it may be ABSENT now (not confirmed by a read of the account)"
    )
    return (
        f"WARNING: secret {printable(outcome.action.label)} was deleted for replacement and "
        f"could not be recreated; {now}. Rerun `reconciler apply` to recreate it."
    )


def _noted(done: list[Outcome]) -> str:
    """The changes made otherwise than the plan said (a PATCH refused, then recreated)."""
    notes = [f"{describe(o.action)}: {o.note}" for o in done if o.note]
    return f" ({'; '.join(notes)})" if notes else ""


def report_lines(report: ApplyReport, *, interrupted: bool = False) -> list[str]:
    """The apply report as the CLI words it (the MCP apply tool returns the same lines)."""
    done, failed, waiting = (report.with_status(s) for s in ("done", "failed", "not_started"))
    if report.ok and not interrupted:
        return [f"Apply complete: {count(len(done), 'change')} made{_noted(done)}."]
    stopped = "apply interrupted (Ctrl-C)" if interrupted else "apply stopped"
    lines = [
        f"{stopped}: {len(done)} done, {len(failed)} failed, {len(waiting)} not started.",
        *(f"  failed: {describe(o.action)}" for o in failed),
        *(f"  not started: {describe(o.action)}" for o in waiting),
    ]
    lines += [f"  {absent_warning(o)}" for o in report.outcomes if o.secret_absent]
    again = "Run" if interrupted else "Fix the cause and run"
    lines.append(f"{again} apply again: it converges from where it stopped.")
    return lines


def interrupted_report(plan: Plan, outcomes: list[Outcome]) -> ApplyReport:
    """The report of an apply stopped by Ctrl-C: what finished, what was cut, what never ran."""
    reached = {id(o.action) for o in outcomes}
    waiting = [Outcome(a, "not_started") for a in plan.actions if id(a) not in reached]
    return ApplyReport(outcomes=[*outcomes, *waiting])
