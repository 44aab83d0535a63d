from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ConfigError
from reconciler.plan import planfile
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.plan.planfile import read_plan, write_plan

from .conftest import KEY, VALUES, desired_secret, live_state, state


def test_write_then_read_gives_the_same_plan(values_env: None, tmp_path: Path) -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "API_KEY")])
    plan = compute_plan(
        desired,
        live_state(),
        options=PlanOptions(replace=["API_KEY"]),
        fingerprint_key=KEY,
        manifest_digest="sha256:m",
    )
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    assert read_plan(path) == plan
    assert VALUES["API_KEY"] not in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not JSON"),
        ("[]", "not a reconciler plan"),
        ('{"version": 99}', "unsupported plan version 99"),
        ('{"version": 1, "account_id": "a"}', "not a reconciler plan"),
    ],
)
def test_bad_plan_files_are_config_errors(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=says):
        read_plan(path)


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read plan file"):
        read_plan(tmp_path / "nope.json")


def test_a_directory_as_the_plan_file_is_one_sentence(tmp_path: Path) -> None:
    plan = compute_plan(state(), live_state(), options=PlanOptions(), fingerprint_key=KEY)
    with pytest.raises(ConfigError, match=r"it is a directory; name a file, e\.g\. "):
        write_plan(plan, tmp_path)
    with pytest.raises(ConfigError, match=r"cannot read plan file .*: it is a directory"):
        read_plan(tmp_path)
    assert list(tmp_path.iterdir()) == [], "no temporary file is left behind"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"it is a FIFO \(named pipe\), not a regular file"):
        read_plan(fifo)


def test_an_oversized_plan_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", 1024)
    path = tmp_path / "plan.json"
    path.write_text('{"version": 1, "pad": "' + "x" * 2000 + '"}')
    with pytest.raises(ConfigError, match="is larger than"):
        read_plan(path)


@pytest.mark.parametrize("depth", [planfile.MAX_PLAN_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_refused(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"version": 1, "x": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(ConfigError, match="nests deeper than 32 levels"):
        read_plan(path)


def _genuine(tmp_path: Path) -> dict[str, Any]:
    desired = state(stores=["app"], secrets=[desired_secret("app", "API_KEY")])
    plan = compute_plan(desired, live_state(), options=PlanOptions(), fingerprint_key=KEY)
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda d: d["actions"][0].update(name=["a"]), "an action's name must be a string"),
        (lambda d: d["actions"][0].update(store=1), "an action's store must be a string"),
        (lambda d: d["actions"][0].update(changes=[1]), "changes must be a list of objects"),
        (lambda d: d["actions"][-1]["changes"][0].pop("after"), "'after'"),
        (lambda d: d["options"].update(prune="yes"), "options.prune must be true or false"),
        (lambda d: d["options"].update(replace="API_KEY"), "options.replace must be a list"),
        (lambda d: d["options"].update(replace=[1]), "an options.replace entry must be a string"),
        (lambda d: d.update(conflicts=[{"kind": "x", "message": ""}]), "unknown conflict kind"),
        (lambda d: d.update(account_id=None), "account_id must be a string"),
        (lambda d: d.update(warnings="x"), "warnings must be a list"),
        (lambda d: d["summary"].update(no_op="3"), "summary.no_op must be a whole number"),
        (lambda d: d.update(value_pins=[]), "value_pins must be an object or null"),
        (lambda d: d["value_pins"].update(salt="0" * 31), "value_pins.salt must be 32 lowercase"),
        (lambda d: d["value_pins"].update(salt="G" * 32), "value_pins.salt must be 32 lowercase"),
        (lambda d: d["value_pins"].update(pins={}), "value_pins.pins must be a list"),
        (lambda d: d["value_pins"]["pins"][0].update(kind="store"), "unknown value pin kind"),
        (lambda d: d["value_pins"]["pins"][0].update(pin=7), "a value pin's pin must be a string"),
        (lambda d: d["value_pins"]["pins"][0].pop("name"), "'name'"),
    ],
)
def test_wrong_types_in_a_plan_file_are_refused(
    values_env: None, tmp_path: Path, edit: Callable[[dict[str, Any]], object], says: str
) -> None:
    doc = _genuine(tmp_path)
    edit(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="is not a reconciler plan: ") as info:
        read_plan(path)
    assert says in str(info.value)


# --- JSON that Python's parser accepts but a plan never holds (issue 21) --------------------


def _saved_text(tmp_path: Path) -> str:
    plan = compute_plan(
        state(stores=["app"]), live_state(), options=PlanOptions(), fingerprint_key=KEY
    )
    path = tmp_path / "genuine.json"
    write_plan(plan, path)
    return path.read_text()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(tmp_path: Path, constant: str) -> None:
    text = _saved_text(tmp_path).replace('"version": 1', f'"version": 1, "x": {constant}', 1)
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"plan file .* is not JSON: {constant} is not a number"):
        read_plan(path)


@pytest.mark.parametrize("order", ["genuine first", "forged first"])
def test_a_duplicate_key_is_refused_in_either_order(tmp_path: Path, order: str) -> None:
    text = _saved_text(tmp_path)
    assert '"account_id": ' in text
    forged = '"account_id": "forged"'
    pair = text[text.index('"account_id": ') :].split(",", 1)[0]
    doubled = f"{pair}, {forged}" if order == "genuine first" else f"{forged}, {pair}"
    path = tmp_path / "plan.json"
    path.write_text(text.replace(pair, doubled, 1))
    with pytest.raises(ConfigError, match=r"is not JSON: the key 'account_id' appears twice"):
        read_plan(path)


def test_a_number_past_the_digit_limit_is_one_sentence(tmp_path: Path) -> None:
    text = _saved_text(tmp_path).replace('"version": 1', '"version": 1' + "0" * 5000, 1)
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"is not JSON: a number has more than 4300 digits"):
        read_plan(path)


def test_a_link_named_like_the_plan_file_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "plan.json").symlink_to(victim)
    plan = compute_plan(state(), live_state(), options=PlanOptions(), fingerprint_key=KEY)
    with pytest.raises(ConfigError, match=r"plan\.json is a symbolic link"):
        write_plan(plan, tmp_path / "plan.json")
    assert victim.read_text() == "precious"
