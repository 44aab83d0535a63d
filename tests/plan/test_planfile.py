from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.plan.planfile import read_plan, write_plan

from .conftest import KEY, VALUES, desired_secret, live_state, state


def test_write_then_read_gives_the_same_plan(values_env: None, tmp_path: Path) -> None:
    desired = state(stores=["app"], secrets=[desired_secret("app", "API_KEY")])
    plan = compute_plan(
        desired,
        live_state(),
        options=PlanOptions(replace=["X"]),
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
