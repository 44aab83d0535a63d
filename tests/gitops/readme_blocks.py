"""Run a README's shell blocks as written: each block is one bash script (`-e -o pipefail`).

Comment lines right after a command (`#   ...`) are output the README promises; the runner
checks that the command printed them (whitespace-normalised), so the README shows real output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SHELL_BLOCK = re.compile(r"```(?:sh|bash|shell)\n(.*?)```", re.S)
_MARK = "@@readme-command "


def shell_blocks(doc: Path) -> list[str]:
    return list(SHELL_BLOCK.findall(doc.read_text(encoding="utf-8")))


def clean_env(cwd: Path, **extra: str) -> dict[str, str]:
    """A user's shell: our venv's `reconciler` on PATH, no Cloudflare or reconciler variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RECONCILER_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(cwd),
        NO_COLOR="1",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def run_clean(
    args: list[str], cwd: Path, *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A command run as a user runs it (`clean_env`), output captured; its exit code is kept."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=clean_env(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class BlockRun:
    block: str
    returncode: int
    output: str
    # (command line, what it printed, the output lines the README promises after it)
    commands: list[tuple[str, str, list[str]]]


def _squash(text: str) -> str:
    return " ".join(text.split())


def run_block(block: str, cwd: Path, env: dict[str, str]) -> BlockRun:
    """Run one block; each command's output is kept apart by markers echoed between them."""
    script: list[str] = []
    promised: list[list[str]] = []
    lines: list[str] = []
    for raw in block.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            if promised and lines and stripped.startswith("#  "):
                promised[-1].append(stripped[1:].strip())
            continue
        if not stripped:
            continue
        script.append(f"echo '{_MARK}{len(lines)}'")
        script.append(raw)
        lines.append(stripped)
        promised.append([])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", "\n".join(script)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    parts = re.split(rf"^{_MARK}(\d+)\n", done.stdout, flags=re.M)
    printed = {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    commands = [(line, printed.get(i, ""), promised[i]) for i, line in enumerate(lines)]
    return BlockRun(block, done.returncode, done.stdout, commands)


def assert_block_ok(run: BlockRun, where: str) -> None:
    assert run.returncode == 0, (
        f"{where}: the block failed:\n{run.block}\n--- output:\n{run.output}"
    )
    for line, printed, promised in run.commands:
        for expected in promised:
            assert _squash(expected) in _squash(printed), (
                f"{where}: `{line}` did not print {expected!r}; it printed:\n{printed}"
            )
