"""No secret value appears in any rendering, at any width, or in the plan file (DESIGN 8)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from reconciler.plan.diff import compute_plan
from reconciler.plan.fingerprint import fingerprint, worker_secret_fingerprint
from reconciler.plan.model import Plan, PlanOptions
from reconciler.plan.render_json import render_json
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text
from reconciler.values import ValueSource

from .conftest import (
    KEY,
    VALUES,
    desired_secret,
    desired_worker_secret,
    env_name,
    live_secret,
    live_state,
    live_worker_secret,
    secret_binding,
    state,
    worker,
)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
FILE_VALUE = "file-held-s3cr3t-value-0d9c8b7a6f5e"
TOO_BIG_MARK = "oversized-value-marker-5a4b3c"
# Worker script secrets: created, changed, unrecorded, unchanged (and an undeclared one).
WORKER_VALUES = {
    "WS_NEW": "worker-secret-new-value-11aa22bb",
    "WS_CHANGED": "worker-secret-changed-value-33cc44dd",
    "WS_UNRECORDED": "worker-secret-unrecorded-55ee66ff",
    "WS_SAME": "worker-secret-same-value-77aa88bb",
}


def _squash(text: str) -> str:
    """Drop colour codes and all whitespace, so a value wrapped over lines is still found."""
    return re.sub(r"\s+", "", _ANSI.sub("", text))


def _plans(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Plan]:
    for store in ("app",):
        for name, value in VALUES.items():
            monkeypatch.setenv(env_name(store, name), value)
    monkeypatch.setenv("RECON_TEST_TOO_BIG", TOO_BIG_MARK * 5000)
    for name, value in WORKER_VALUES.items():
        monkeypatch.setenv(env_name("api", name), value)
    held = tmp_path / "held.txt"
    held.write_text(FILE_VALUE + "\n")
    secrets = [
        desired_secret("app", "API_KEY"),  # create
        desired_secret("app", "DB_PASSWORD", comment="rotated"),  # replace + update fields
        desired_secret("app", "TOKEN"),  # adopt
        desired_secret("app", "FROM_FILE", source=ValueSource(file=held)),  # replace (no fp)
        desired_secret("app", "BIG", source=ValueSource(env="RECON_TEST_TOO_BIG")),  # conflict
    ]
    bind = secret_binding("DB", "app", "DB_PASSWORD")
    declared = [desired_worker_secret("api", n) for n in WORKER_VALUES]
    desired = state(
        stores=["app"], secrets=secrets, workers=[worker("api", bindings=[bind], secrets=declared)]
    )
    live_worker_secrets = [
        live_worker_secret("api", "WS_CHANGED", value="previous"),
        live_worker_secret("api", "WS_UNRECORDED", fp=None),
        live_worker_secret("api", "WS_SAME", value=WORKER_VALUES["WS_SAME"]),
        live_worker_secret("api", "WS_OLD"),
    ]
    live = live_state(
        stores=["app"],
        secrets=[
            live_secret("app", "DB_PASSWORD", value="previous"),
            live_secret("app", "TOKEN", managed=False),
            live_secret("app", "FROM_FILE", fp=None),
            live_secret("app", "OLD"),
        ],
        workers=[worker("api", bindings=[bind], secrets=live_worker_secrets)],
    )
    plans = [
        compute_plan(desired, live, options=PlanOptions(prune=prune), fingerprint_key=key)
        for prune in (False, True)
        for key in (KEY, None)
    ]
    plans.append(
        compute_plan(
            desired,
            live,
            options=PlanOptions(replace=["API_KEY", "TOKEN", "api/WS_SAME"]),
            fingerprint_key=KEY,
        )
    )
    return plans


def test_no_secret_value_in_any_rendering(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plans = _plans(monkeypatch, tmp_path)
    assert {a.action for p in plans for a in p.actions} == {
        "create",
        "update",
        "replace",
        "delete",
        "adopt",
    }
    assert {(a.action, a.name) for p in plans for a in p.actions if a.kind == "worker_secret"} == {
        ("create", "WS_NEW"),
        ("replace", "WS_CHANGED"),
        ("replace", "WS_UNRECORDED"),
        ("replace", "WS_SAME"),  # --replace api/WS_SAME
        ("delete", "WS_OLD"),
    }
    assert any(c.kind == "missing_value" for p in plans for c in p.conflicts)
    outputs: list[str] = []
    for plan in plans:
        outputs.append(json.dumps(plan.to_dict()))
        outputs.append(repr(plan))
        outputs.append(render_json(plan))
        for drift in (False, True):
            outputs.append(render_markdown(plan, drift=drift))
            for width in (20, 40, 80, 200):
                for color in (False, True):
                    out = io.StringIO()
                    console = Console(file=out, width=width, force_terminal=color)
                    render_text(plan, console, drift=drift)
                    outputs.append(out.getvalue())
    secrets = [*VALUES.values(), *WORKER_VALUES.values(), FILE_VALUE, TOO_BIG_MARK]
    for output in outputs:
        assert "(sensitive)" in output
        squashed = _squash(output)
        for value in secrets:
            assert value not in output
            assert value not in squashed


def test_value_pins_hold_no_value_and_reveal_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The plan file's value_pins: keyed, salted per plan, apart from the account's fingerprints."""
    plans = _plans(monkeypatch, tmp_path)
    keyed = [p.value_pins for p in plans if p.value_pins is not None]
    assert len(keyed) == 3, "the plans made with the key pin, the two without do not"
    pinned = {(pin.kind, pin.name) for p in keyed for pin in p.pins}
    assert {("secret", "API_KEY"), ("secret", "FROM_FILE"), ("worker_secret", "WS_SAME")} <= pinned
    assert ("secret", "BIG") not in pinned, "a value that could not be read is not pinned"
    secrets = [*VALUES.values(), *WORKER_VALUES.values(), FILE_VALUE, TOO_BIG_MARK]
    account_fingerprints = {
        fingerprint(KEY, "app", name, value) for name, value in VALUES.items()
    } | {worker_secret_fingerprint(KEY, "api", n, v) for n, v in WORKER_VALUES.items()}
    pins: list[str] = []
    for plan in plans:
        if plan.value_pins is None:
            continue
        raw = render_json(plan)
        doc = json.loads(raw)["value_pins"]
        assert doc["pins"], raw
        for value in secrets:
            assert value not in raw and value not in _squash(raw)
        for entry in doc["pins"]:
            assert len(entry["pin"]) == 64 and entry["pin"] not in secrets
            assert not any(fp in entry["pin"] for fp in account_fingerprints)
            pins.append(entry["pin"])
    # A new salt per plan: equal inputs, yet no pin repeats from one plan to the next.
    assert len(pins) == len(set(pins))
