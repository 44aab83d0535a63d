"""The confirmation prompt and Ctrl-C, through a real pseudo-terminal.

The CLI runs as its own process on the slave side of a pty (its controlling terminal), so
Ctrl-C is the byte 0x03 turned into SIGINT by the terminal's line discipline, as for a user.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks._common import cli_env, emulator_config, served_emulator, write_manifests
from tests.checkout import LOCAL_STATE

REPO = Path(__file__).resolve().parents[2]
CTRL_C = b"\x03"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
# Generous: a loaded CI machine is slow, and a hung prompt still fails (it never answers).
WAIT_S = 60.0


@dataclass
class Terminal:
    """A child process on a pty: read what it shows, type at it, collect its exit code."""

    pid: int
    fd: int
    shown: bytearray = field(default_factory=bytearray)
    status: int | None = None

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.shown)).decode(errors="replace").replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.shown += chunk
        return bool(chunk)

    def expect(self, needle: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while needle not in self.text():
            if time.monotonic() > deadline or not self._read(0.2):
                pytest.fail(f"never showed {needle!r}; the terminal shows:\n{self.text()}")

    def type(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self) -> int:
        """The exit code; fails if the process does not end in time (a swallowed Ctrl-C)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):
                    pass
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        pytest.fail(f"the process did not end; the terminal shows:\n{self.text()}")


Spawn = Callable[[list[str], dict[str, str], Path], Terminal]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    children: list[Terminal] = []

    def start(args: list[str], env: dict[str, str], cwd: Path) -> Terminal:
        pid, fd = pty.fork()
        if pid == 0:  # the child: its controlling terminal is the pty
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "reconciler", *args], env)
        terminal = Terminal(pid, fd)
        children.append(terminal)
        return terminal

    yield start
    for child in children:
        if child.status is None:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
        os.close(child.fd)


def _local_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RECONCILER_"))}
    env.update(NO_COLOR="1", TERM="xterm", COLUMNS="200", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A working directory holding the repository's manifests/ (the quick start's input)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "manifests", work / "manifests", ignore=LOCAL_STATE)
    return work


def _nothing_applied(checkout: Path, spawn: Spawn) -> None:
    plan = spawn(["plan", "--local", "--detailed-exitcode"], _local_env(), checkout)
    assert plan.wait() == 2, plan.text()
    assert "5 to create" in plan.text()


def test_ctrl_c_at_the_prompt_cancels_at_once(checkout: Path, spawn: Spawn) -> None:
    apply = spawn(["apply", "--local"], _local_env(), checkout)
    apply.expect("Apply these changes? [y/N]:")
    apply.type(CTRL_C)
    assert apply.wait() == 1
    after = apply.text().split("Apply these changes? [y/N]:", 1)[1]
    assert "Apply cancelled; nothing was changed." in after
    assert "Error:" not in after and "Aborted!" not in after
    assert "done" not in after
    _nothing_applied(checkout, spawn)


def test_answering_no_cancels_without_calling_it_an_error(checkout: Path, spawn: Spawn) -> None:
    apply = spawn(["apply", "--local"], _local_env(), checkout)
    apply.expect("Apply these changes? [y/N]:")
    apply.type(b"n\r")
    assert apply.wait() == 1
    after = apply.text().split("Apply these changes? [y/N]:", 1)[1]
    assert after.strip() == "n\nApply cancelled; nothing was changed."
    _nothing_applied(checkout, spawn)


def test_answering_yes_applies(checkout: Path, spawn: Spawn) -> None:
    apply = spawn(["apply", "--local"], _local_env(), checkout)
    apply.expect("Apply these changes? [y/N]:")
    apply.type(b"y\r")
    assert apply.wait() == 0, apply.text()
    assert "Apply complete: 5 changes made." in apply.text()


def test_ctrl_c_during_apply_prints_the_report(tmp_path: Path, spawn: Spawn) -> None:
    manifests = write_manifests(tmp_path / "manifests", workers=8, secrets=2)
    with served_emulator(tmp_path / "emulator", emulator_config(latency_ms=300)) as emu:
        env = cli_env(emu, NO_COLOR="1", TERM="xterm", COLUMNS="200")
        args = ["apply", str(manifests), "--auto-approve", "--concurrency", "1"]
        apply = spawn(args, env, tmp_path)
        apply.expect("done    create store bench-store")
        apply.type(CTRL_C)
        assert apply.wait() == 1
        text = apply.text()
        report = text[text.index("apply interrupted (Ctrl-C): ") :]
        counts = re.match(
            r"apply interrupted \(Ctrl-C\): (\d+) done, (\d+) failed, (\d+) not started\.", report
        )
        assert counts, report
        done, failed, waiting = map(int, counts.groups())
        assert done >= 1 and waiting >= 1 and done + failed + waiting == 11, report
        assert "  not started: create worker bench-worker-0007" in report
        assert "Run apply again: it converges from where it stopped." in report
        assert "Traceback" not in text
        # What the report calls done is there; nothing it calls not started is.
        state = emu.state()
        assert len(state["stores"]) == 1
        assert "bench-worker-0007" not in {s["id"] for s in state["scripts"]}
