"""Fixtures for the robustness suite: served emulators (own process or thread), synthetic
manifests, and CLI runs in a private working directory.

The helpers themselves live in benchmarks/_common.py, shared with the benchmark scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks._common import ServedEmulator, emulator_config, served_emulator

EmulatorFactory = Callable[..., ServedEmulator]


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[EmulatorFactory]:
    """Start `reconciler emulator serve` processes (config keywords as `emulator_config`).

    Each lives outside the CLI's working directory, so a scan of that directory never
    sees the emulator's database.
    """
    started: list[Any] = []

    def start(**config: Any) -> ServedEmulator:
        context = served_emulator(tmp_path / f"emulator-{len(started)}", emulator_config(**config))
        emu = context.__enter__()
        started.append(context)
        return emu

    yield start
    for context in reversed(started):
        context.__exit__(None, None, None)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A private current directory for CLI runs (`.reconciler/` is created there)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
