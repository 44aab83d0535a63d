"""Property (issue 11): for random manifests and random edits of the saved plan file,
`apply --plan` either applies exactly the fresh plan or changes nothing.

Each example applies one random manifest set (over unmanaged resources made by hand),
switches to another, saves a plan with random options, edits the file at random (its
value pins too), maybe changes a secret's value file after the plan (issue 21), and
applies it. Accepted: the file equals a fresh plan made with the file's options, it pins
the same values, none of them changed, and exactly that plan's actions are done. Refused:
exit 1 or 3, one sentence, and the emulator's request log shows no write and the account
is as it was.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, AccountConfig, EmulatorConfig
from tests.e2e.conftest import Env, start_env
from tests.e2e.test_apply_properties import SECRETS, STORES, WORKERS, scenarios
from tests.e2e.test_apply_properties import _seed_unmanaged as seed_unmanaged
from tests.e2e.test_apply_properties import _write_project as write_project

Doc = dict[str, Any]
NAMES = [*SECRETS, *WORKERS, *STORES, "HAND", "hand-made", "hand-store", "NEW"]
STORES_FLAG = ("--max-stores", "3")


def _key(action: Doc) -> str:
    fields = ("action", "kind", "name", "store", "worker", "changes")
    return json.dumps([action.get(f) for f in fields], sort_keys=True)


def _any_action(draw: st.DrawFn) -> Doc:
    kind = draw(st.sampled_from(["store", "secret", "worker"]))
    return {
        "action": draw(st.sampled_from(["create", "update", "replace", "delete", "adopt"])),
        "kind": kind,
        "name": draw(st.sampled_from(NAMES)),
        "store": draw(st.sampled_from(STORES)) if kind == "secret" else None,
        "changes": [],
        "reason": "",
    }


def _pick(draw: st.DrawFn, items: list[Any]) -> int | None:
    return draw(st.integers(0, len(items) - 1)) if items else None


EDITS: dict[str, Callable[[Doc, st.DrawFn], None]] = {}


def edit(func: Callable[[Doc, st.DrawFn], None]) -> Callable[[Doc, st.DrawFn], None]:
    EDITS[func.__name__] = func
    return func


@edit
def drop_action(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None:
        doc["actions"].pop(i)


@edit
def empty_actions(doc: Doc, draw: st.DrawFn) -> None:
    doc["actions"] = []


@edit
def add_action(doc: Doc, draw: st.DrawFn) -> None:
    at = draw(st.integers(0, len(doc["actions"])))
    doc["actions"].insert(at, _any_action(draw))


@edit
def duplicate_action(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None:
        doc["actions"].append(json.loads(json.dumps(doc["actions"][i])))


@edit
def swap_actions(doc: Doc, draw: st.DrawFn) -> None:
    i, j = _pick(draw, doc["actions"]), _pick(draw, doc["actions"])
    if i is not None and j is not None:
        doc["actions"][i], doc["actions"][j] = doc["actions"][j], doc["actions"][i]


@edit
def change_action_type(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None:
        doc["actions"][i]["action"] = draw(
            st.sampled_from(["create", "update", "replace", "delete", "adopt"])
        )


@edit
def retarget(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None:
        doc["actions"][i]["name"] = draw(st.sampled_from(NAMES))


@edit
def change_store(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None:
        doc["actions"][i]["store"] = draw(st.sampled_from([*STORES, "hand-store", None]))


@edit
def change_a_field(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["actions"])
    if i is not None and doc["actions"][i]["changes"]:
        change = doc["actions"][i]["changes"][0]
        change["after"] = draw(st.sampled_from([None, "forged", ["workers"], {"x": 1}]))


@edit
def flip_option(doc: Doc, draw: st.DrawFn) -> None:
    name = draw(st.sampled_from(["prune", "force"]))
    doc["options"][name] = not doc["options"][name]


@edit
def add_replace(doc: Doc, draw: st.DrawFn) -> None:
    doc["options"]["replace"].append(draw(st.sampled_from(SECRETS)))


@edit
def drop_conflicts(doc: Doc, draw: st.DrawFn) -> None:
    doc["conflicts"] = []


@edit
def add_conflict(doc: Doc, draw: st.DrawFn) -> None:
    doc["conflicts"].append({"kind": "safety_threshold", "message": "forged"})


@edit
def explain_differently(doc: Doc, draw: st.DrawFn) -> None:
    """Reasons and warnings are explanations: an edit there is not a difference."""
    doc["warnings"].append("edited")
    for action in doc["actions"]:
        action["reason"] = "edited"


@edit
def change_digest(doc: Doc, draw: st.DrawFn) -> None:
    doc[draw(st.sampled_from(["live_digest", "manifest_digest", "account_id"]))] = "sha256:0"


@edit
def wrong_type(doc: Doc, draw: st.DrawFn) -> None:
    target = draw(st.sampled_from(["options", "actions", "conflicts", "summary"]))
    doc[target] = draw(st.sampled_from([None, 1, "x", [1], {"a": [[[]]]}]))


@edit
def forge_a_pin(doc: Doc, draw: st.DrawFn) -> None:
    pins = doc["value_pins"]["pins"]
    i = _pick(draw, pins)
    if i is not None:
        pins[i]["pin"] = draw(st.sampled_from(["0" * 64, pins[-1 - i]["pin"], ""]))


@edit
def drop_a_pin(doc: Doc, draw: st.DrawFn) -> None:
    i = _pick(draw, doc["value_pins"]["pins"])
    if i is not None:
        doc["value_pins"]["pins"].pop(i)


@edit
def drop_pins(doc: Doc, draw: st.DrawFn) -> None:
    doc["value_pins"] = None


@edit
def change_the_salt(doc: Doc, draw: st.DrawFn) -> None:
    doc["value_pins"]["salt"] = "0" * 32


@st.composite
def edit_lists(draw: st.DrawFn) -> list[str]:
    return draw(st.lists(st.sampled_from(sorted(EDITS)), min_size=0, max_size=3))


def _options_flags(doc: Doc) -> list[str] | None:
    """The flags a fresh plan with the file's options takes; None when they are malformed."""
    options = doc.get("options")
    if not isinstance(options, dict):
        return None
    flags: list[str] = []
    if options.get("prune") is True:
        flags.append("--prune")
    if options.get("force") is True:
        flags.append("--force")
    replace = options.get("replace", [])
    if not isinstance(replace, list) or not all(isinstance(r, str) for r in replace):
        return None
    for name in replace:
        flags += ["--replace", name]
    return flags


def _writes_value(action: Doc) -> bool:
    return action["kind"] in ("secret", "worker_secret") and action["action"] in (
        "create",
        "replace",
        "adopt",
    )


def _done_lines(output: str) -> list[str]:
    return sorted(line.split(None, 1)[1] for line in output.splitlines() if line.startswith("done"))


def _what(action: Doc) -> str:
    label = action["name"]
    if action["kind"] == "secret":
        label = f"{action['store']}/{action['name']}"
    elif action.get("worker"):
        label = f"{action['worker']}/{action['name']}"
    return f"{action['action']} {action['kind']} {label}"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    old=scenarios(),
    new=scenarios(),
    prune=st.booleans(),
    force=st.booleans(),
    edits=edit_lists(),
    data=st.data(),
)
def test_apply_plan_applies_exactly_the_fresh_plan_or_changes_nothing(
    old: dict[str, Any],
    new: dict[str, Any],
    prune: bool,
    force: bool,
    edits: list[str],
    data: st.DataObject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = EmulatorConfig(accounts=[AccountConfig(id=DEFAULT_ACCOUNT_ID, max_stores=3)])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for env in start_env(config, root, monkeypatch):
            # A --replace naming no declared secret is refused as a typo: draw declared ones.
            declared = sorted({x["name"] for x in new["secrets"]})
            replace = data.draw(st.lists(st.sampled_from(declared), max_size=1)) if declared else []
            rotate = data.draw(st.sampled_from([None, *declared]))
            _run_example(env, root, old, new, [prune, force, replace, rotate], edits, data)


def _run_example(
    env: Env,
    root: Path,
    old: dict[str, Any],
    new: dict[str, Any],
    options: list[Any],
    edits: list[str],
    data: st.DataObject,
) -> None:
    prune, force, replace, rotate = options
    write_project(root / "old", old)
    old_dir = root / "old"
    seed_unmanaged(env, old)
    first = env.run("apply", str(old_dir / "manifests"), "--auto-approve", "--force", *STORES_FLAG)
    assert first.exit_code == 0, first.output
    write_project(root / "new", new)
    manifests = str(root / "new" / "manifests")
    plan_file = root / "plan.json"
    flags = [*(["--prune"] if prune else []), *(["--force"] if force else [])]
    flags += [arg for name in replace for arg in ("--replace", name)]
    saved = env.run("plan", manifests, "--out", str(plan_file), *flags, *STORES_FLAG)
    assert saved.exit_code in (0, 3), saved.output

    doc: Doc = json.loads(plan_file.read_text())
    for name in edits:
        # After a wrong_type edit a later edit may not apply: that part stays broken.
        with contextlib.suppress(AttributeError, TypeError, KeyError):
            EDITS[name](doc, data.draw)
    plan_file.write_text(json.dumps(doc))
    rotated: set[tuple[str, str]] = set()  # (store, name) of a value changed after the plan
    if rotate is not None:
        for sec in new["secrets"]:
            if sec["name"] == rotate:
                path = root / "new" / "manifests" / "values" / f"{sec['store']}-{sec['name']}"
                path.write_text(sec["value"] + "0")
                rotated.add((sec["store"], sec["name"]))

    expected: Doc | None = None
    file_flags = _options_flags(doc)
    if file_flags is not None:
        fresh = env.run("plan", manifests, "--format", "json", *file_flags, *STORES_FLAG)
        if fresh.exit_code in (0, 3):
            expected = json.loads(fresh.output)
        else:  # the file's options cannot be planned (a --replace of no declared secret)
            assert fresh.exit_code == 1 and "--replace" in fresh.output, fresh.output
    before = env.inspect("state")
    env.clear_log()
    applied = env.run("apply", manifests, "--plan", str(plan_file), "--auto-approve", *STORES_FLAG)
    assert "Traceback" not in applied.output and "internal error" not in applied.output

    event(f"apply --plan exit {applied.exit_code}")  # both outcomes are exercised
    if applied.exit_code == 0:
        # Accepted: the file was (up to explanations) the fresh plan, which ran whole.
        assert expected is not None, applied.output
        assert [_key(a) for a in doc["actions"]] == [_key(a) for a in expected["actions"]]
        assert doc["conflicts"] == expected["conflicts"] == []
        if doc["value_pins"] is None:  # accepted unpinned only when it writes no value
            assert not any(_writes_value(a) for a in expected["actions"]), applied.output
        else:
            filed = sorted((p["store"], p["name"]) for p in doc["value_pins"]["pins"])
            fresh = expected["value_pins"]["pins"]
            assert filed == sorted((p["store"], p["name"]) for p in fresh)
            assert not rotated & set(filed), "a pinned value changed since the plan was made"
        assert not any(
            _writes_value(a) and (a["store"], a["name"]) in rotated for a in expected["actions"]
        ), "a value changed since the plan was written"
        assert _done_lines(applied.output) == sorted(_what(a) for a in expected["actions"])
    else:
        # Refused: one sentence, nothing written, the account as it was.
        assert applied.exit_code in (1, 3), applied.output
        assert applied.output.count("Error: ") == 1, applied.output
        assert env.writes() == [], applied.output
        assert env.inspect("state") == before
