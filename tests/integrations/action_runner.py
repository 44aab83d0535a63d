"""Runs a composite action's steps the way a GitHub runner does, on this machine.

Each `run:` step goes to `bash --noprofile --norc -eo pipefail` with its `env:`; `${{ }}`
expressions are looked up in the inputs (defaults from action.yml), the github and runner
contexts and earlier steps' outputs, read from GITHUB_OUTPUT (`name=value` and
`name<<DELIMITER` blocks) as the runner reads them. Lines a step appends to GITHUB_PATH come
first on PATH for the steps after it. A step that fails stops the action, as on GitHub.
Anything else in an expression (functions, operators) or a step (`if:`, `uses:`) is refused,
so the action cannot depend on something this runner would get wrong.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$")


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> StepRun | None:
        return next((s for s in self.steps if s.returncode != 0), None)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if name in s.name)


def read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        heredoc = re.fullmatch(r"([\w-]+)<<(.+)", line)
        if heredoc:
            name, delimiter = heredoc.groups()
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        i += 1
    return outputs


class Runner:
    def __init__(self, action_dir: Path, *, github: dict[str, str], runner_temp: Path) -> None:
        self.action_dir = action_dir
        self.action = yaml.safe_load((action_dir / "action.yml").read_text())
        assert self.action["runs"]["using"] == "composite"
        self.github = {"action_path": str(action_dir), **github}
        self.runner_temp = runner_temp

    def _lookup(self, name: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
        if not _NAME.match(name):
            raise AssertionError(f"expression {name!r} is more than this runner evaluates")
        head, *rest = name.split(".")
        if head == "inputs":
            return inputs.get(rest[0], "")
        if head == "github":
            return self.github.get(rest[0], "")
        if head == "runner" and rest == ["temp"]:
            return str(self.runner_temp)
        if head == "steps" and len(rest) == 3 and rest[1] == "outputs":
            return steps.get(rest[0], {}).get(rest[2], "")
        raise AssertionError(f"unknown context in {name!r}")

    def _expand(self, text: Any, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
        return _EXPRESSION.sub(lambda m: self._lookup(m.group(1), inputs, steps), str(text))

    def run(self, inputs: dict[str, str], env: dict[str, str], cwd: Path) -> ActionRun:
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        values = {
            k: inputs[k] if k in inputs else self._expand(v.get("default", ""), {}, {})
            for k, v in declared.items()
        }
        steps_out: dict[str, dict[str, str]] = {}
        result = ActionRun()
        self.runner_temp.mkdir(parents=True, exist_ok=True)
        path_file = self.runner_temp / "github_path"
        summary = self.runner_temp / "step_summary"
        for index, step in enumerate(self.action["runs"]["steps"]):
            assert set(step) <= {"name", "id", "shell", "env", "run"}, step.keys()
            assert step["shell"] == "bash"
            output_file = self.runner_temp / f"output_{index}"
            added = path_file.read_text().split() if path_file.exists() else []
            step_env = {
                **env,
                "PATH": os.pathsep.join([*reversed(added), env["PATH"]]),
                "RUNNER_TEMP": str(self.runner_temp),
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_PATH": str(path_file),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_ACTION_PATH": str(self.action_dir),
            }
            for k, v in (step.get("env") or {}).items():
                step_env[k] = self._expand(v, values, steps_out)
            script = self.runner_temp / f"step_{index}.sh"
            script.write_text(self._expand(step["run"], values, steps_out))
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                env=step_env,
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
            outputs = read_outputs(output_file)
            if "id" in step:
                steps_out[step["id"]] = outputs
            result.steps.append(
                StepRun(step.get("name", ""), done.returncode, done.stdout, done.stderr, outputs)
            )
            if done.returncode != 0:
                break
        result.outputs = {
            k: self._expand(v["value"], values, steps_out)
            for k, v in self.action.get("outputs", {}).items()
        }
        return result


BIN = Path(sys.executable).parent
# `python3` for the action: makes and "installs into" the virtual environment by recording the
# calls (the test's own reconciler is linked into it: nothing is downloaded), runs the rest.
FAKE_PYTHON = f"""#!/usr/bin/env bash
echo "$0 $*" >> "$PYTHON_CALLS"
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && ln -sf {BIN / "reconciler"} "$3/bin/reconciler"
  exit 0
fi
if [ "$1 $2" = "-m pip" ]; then exit 0; fi
exec {sys.executable} "$@"
"""


def local_install(directory: Path) -> dict[str, str]:
    """Environment for running the action here: PATH with the recording `python3` first and
    without the test's own bin (so `reconciler` must come from the environment the install
    step made), PYTHON_CALLS where the install calls are recorded."""
    fake_bin = directory / "fake-bin"
    fake_bin.mkdir(parents=True, exist_ok=True)
    (fake_bin / "python3").write_text(FAKE_PYTHON)
    (fake_bin / "python3").chmod(0o755)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != BIN]
    return {
        "PATH": os.pathsep.join([str(fake_bin), *path]),
        "HOME": str(directory),
        "PYTHON_CALLS": str(directory / "python-calls"),
    }
