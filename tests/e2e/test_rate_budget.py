"""The budget is the token's: a run starts from what the API reports, says up front when it
will have to wait, names every wait, and never meets a 429 of its own making."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator.config import EmulatorConfig
from tests.e2e.conftest import Env, start_env

LIMIT = 8
WINDOW_S = 3


@pytest.fixture
def tight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    config = EmulatorConfig.model_validate(
        {"faults": {"rate_limit": {"requests": LIMIT, "window_s": WINDOW_S}}}
    )
    yield from start_env(config, tmp_path, monkeypatch)


def test_a_run_after_another_waits_for_the_reset_and_says_so(tight: Env) -> None:
    first = tight.run("plan")  # uses most of the token's window
    assert first.exit_code == 0, first.output
    result = tight.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert re.search(r"apply needs about \d+ API calls and the rate limit allows \d+ remain: "
                     r"expect to wait about \d+ s", result.output), result.output  # fmt: skip
    assert re.search(r"^waiting \d+ s for the API rate limit$", result.output, re.M), result.output
    statuses = [r["status"] for r in tight.inspect("requests")]
    assert 429 not in statuses, "the second run started from the budget the first one left"
    assert len(statuses) > LIMIT, "the runs needed more than one window"
