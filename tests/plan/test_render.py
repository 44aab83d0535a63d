"""Renderers: what people and machines see, and that they agree with the plan."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from reconciler.plan.diff import compute_plan
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.render_json import render_json
from reconciler.plan.render_markdown import MARKER, MAX_CHARS, render_markdown
from reconciler.plan.render_text import render_text

from .conftest import (
    KEY,
    desired_secret,
    env_name,
    live_secret,
    live_state,
    secret_binding,
    state,
    worker,
)


def text_of(plan: Plan, *, width: int = 120, drift: bool = False, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, color_system="standard" if color else None
    )
    render_text(plan, console, drift=drift)
    return out.getvalue()


@pytest.fixture
def mixed_plan(values_env: None) -> Plan:
    """One plan holding every action kind, an unmanaged resource, a warning and a conflict."""
    bind = secret_binding("API_KEY", "app", "API_KEY")
    desired = state(
        stores=["app", "default_secrets_store", "extra"],
        secrets=[
            desired_secret("app", "API_KEY", comment="for [bold]api[/bold]"),
            desired_secret("app", "DB_PASSWORD", ["workers", "ai_gateway"]),
            desired_secret("app", "TOKEN"),
            desired_secret("default_secrets_store", "A"),
        ],
        workers=[worker("api", "export default {fetch(){}}", bindings=[bind]), worker("site")],
    )
    live = live_state(
        stores=["app", "default_secrets_store", "theirs"],
        secrets=[
            live_secret("app", "DB_PASSWORD"),
            live_secret("app", "TOKEN", value="old"),
            live_secret("app", "OLD"),
            live_secret("theirs", "X", managed=False),
        ],
        workers=[worker("api"), worker("site", managed=False), worker("gone")],
        max_stores=2,
    )
    return compute_plan(desired, live, options=PlanOptions(prune=True), fingerprint_key=KEY)


def test_mixed_plan_has_every_action_kind(mixed_plan: Plan) -> None:
    assert {a.action for a in mixed_plan.actions} == {
        "create",
        "update",
        "replace",
        "delete",
        "adopt",
    }
    assert mixed_plan.unmanaged and mixed_plan.conflicts


def test_text_lists_symbols_changes_and_summary(mixed_plan: Plan) -> None:
    out = text_of(mixed_plan)
    assert "  + secret app/API_KEY" in out
    assert "  ~ secret app/DB_PASSWORD" in out
    assert "-/+ secret app/TOKEN" in out
    assert "  - worker gone" in out
    assert " <= worker site" in out
    assert "scopes: [workers] -> [ai_gateway, workers]" in out
    assert 'comment: "for [bold]api[/bold]"' in out  # printed literally, not as markup
    assert "value: (sensitive) -> (sensitive)" in out
    assert "? store  theirs" in out
    assert "store_limit:" in out
    assert out.rstrip().endswith(
        "Plan: 3 to create, 2 to update, 1 to replace, 2 to delete, 2 to adopt; 1 unchanged."
    )
    # Order on screen is plan order.
    positions = [out.index(f" {a.kind.ljust(6)} {a.label}") for a in mixed_plan.actions]
    assert positions == sorted(positions)


def test_text_colours_when_a_terminal(mixed_plan: Plan) -> None:
    out = text_of(mixed_plan, color=True)
    assert "\x1b[" in out
    assert "\x1b[" not in text_of(mixed_plan)


def test_no_changes_and_in_sync_wording(values_env: None) -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A")])
    live = live_state(
        stores=["app"], secrets=[live_secret("app", "A")], workers=[worker("w", managed=False)]
    )
    plan = compute_plan(desired, live, options=PlanOptions(), fingerprint_key=KEY)
    assert text_of(plan).rstrip().endswith("No changes. 2 unchanged.")
    drift = text_of(plan, drift=True)
    assert drift.startswith("In sync, but 1 unmanaged resource found")
    assert drift.rstrip().endswith("In sync. 2 unchanged.")
    assert "? worker w" in drift
    md = render_markdown(plan, drift=True)
    assert "### reconciler: In sync, but 1 unmanaged resource found" in md
    assert "<code>w</code>" in md


def test_drift_wording(mixed_plan: Plan) -> None:
    assert text_of(mixed_plan, drift=True).startswith("Drift detected")
    assert "### reconciler: Drift detected" in render_markdown(mixed_plan, drift=True)


def test_json_is_the_documented_stable_format(mixed_plan: Plan) -> None:
    raw = render_json(mixed_plan)
    assert raw.endswith("}\n")
    doc = json.loads(raw)
    assert list(doc)[:6] == [
        "version",
        "account_id",
        "actions",
        "conflicts",
        "summary",
        "live_digest",
    ]
    assert doc["version"] == 1
    for action in doc["actions"]:
        assert list(action) == ["action", "kind", "name", "store", "changes", "reason"]
        assert action["action"] in ("create", "update", "replace", "delete", "adopt")
        assert action["kind"] in ("store", "secret", "worker")
    assert {c["kind"] for c in doc["conflicts"]} <= {
        "store_limit",
        "missing_value",
        "dangling_binding",
        "safety_threshold",
    }
    assert doc["summary"] == {
        "create": 3,
        "update": 2,
        "replace": 1,
        "delete": 2,
        "adopt": 2,
        "no_op": 1,
        "unmanaged": 2,
    }
    assert render_json(Plan.from_dict(doc)) == raw


def test_markdown_for_a_pull_request(mixed_plan: Plan) -> None:
    md = render_markdown(mixed_plan)
    assert md.startswith(MARKER + "\n")
    assert "| Create | Update | Replace | Delete | Adopt | Unchanged | Unmanaged |" in md
    assert "| 3 | 2 | 1 | 2 | 2 | 1 | 2 |" in md
    assert md.count("<details>") == len(mixed_plan.actions) == md.count("</details>")
    assert "> [!CAUTION]" in md and "<code>store_limit</code>" in md
    # Conflicts come before the details.
    assert md.index("[!CAUTION]") < md.index("<details>")
    assert "<code>&lt;=</code> adopt worker site" in md
    assert "[bold]api[/bold]" in md


def test_markdown_escapes_pipes_and_html(values_env: None) -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "A", comment="a|b <script>")])
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    md = render_markdown(plan)
    assert "<script>" not in md and "a&#124;b &lt;script&gt;" in md


def test_markdown_stays_under_the_comment_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"SECRET_{i:04d}" for i in range(1500)]
    for name in names:
        monkeypatch.setenv(env_name("app", name), "v")
    desired = state(
        stores=["app"], secrets=[desired_secret("app", n, comment="c" * 30) for n in names]
    )
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    md = render_markdown(plan)
    assert len(md) <= MAX_CHARS + 200
    assert "more section(s) left out" in md
    assert md.count("<details>") == md.count("</details>") < len(plan.actions)
    assert "| 1501 | 0 | 0 | 0 | 0 | 0 | 0 |" in md
