"""Every code block a user would paste from a README is run here (or by .ci/run), as written.

- README.md: the quick start's two commands run verbatim in a clean clone in `.ci/run`; here
  the first one's reconciler part runs and its output is compared with the README's text
  (modulo digests, which name live ids), and so is the "change a value" output. The CI
  section's commands run against a served emulator, as in CI with a token.
- reconciler/emulator/README.md: the client setup block and both Python snippets run.
- examples/*/README.md: run by test_example_readmes.py.

A block no test runs must be listed in NOT_RUN with the reason; a new block fails
`test_every_block_is_accounted_for` until it is run or listed.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from tests.checkout import LOCAL_STATE

from .conftest import REPO, Cli
from .readme_blocks import assert_block_ok, clean_env, run_block, run_clean, shell_blocks

README = REPO / "README.md"
EMULATOR_README = REPO / "reconciler" / "emulator" / "README.md"
DIGEST = re.compile(r"sha256:[0-9a-f]{12}…")
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
TEXT_BLOCK = re.compile(r"```text\n(.*?)```", re.S)

# Blocks not run by a test, and why. Keyed by document and the block's first line.
NOT_RUN = {
    # A synopsis with [optional] flags, not a command; its flags are parsed by
    # test_readme_commands.py.
    ("reconciler/emulator/README.md", "reconciler emulator serve [--host 127.0.0.1]"),
    # Runs the test suite itself (the suite cannot run itself); .ci/run runs the full suite.
    ("reconciler/emulator/README.md", ".venv/bin/python -m pytest tests/emulator -q"),
    # Fetches the MCP inspector from npm at run time; tests/mcp drives the same tools/list and
    # tools/call against `reconciler mcp --local` through the official MCP client.
    ("README.md", "npx @modelcontextprotocol/inspector --cli .venv/bin/reconciler mcp"),
}
QUICK_START = 2  # README.md's first two shell blocks; .ci/run runs them verbatim
CI_SECTION = 4  # the next four: plan, apply, drift, export
COMPLETION = 1  # then "Shell completion": the bash line


def _squash(text: str) -> str:
    return " ".join(DIGEST.sub("sha256:…", text).split())


def _first_line(block: str) -> str:
    return block.strip().splitlines()[0]


def test_every_block_is_accounted_for() -> None:
    excused_in = {doc: sum(1 for d, _ in NOT_RUN if d == doc) for doc, _ in NOT_RUN}
    docs = {
        "README.md": QUICK_START + CI_SECTION + COMPLETION + excused_in["README.md"],
        "reconciler/emulator/README.md": 1 + excused_in["reconciler/emulator/README.md"],
    }
    for doc, expected in docs.items():
        blocks = shell_blocks(REPO / doc)
        assert len(blocks) == expected, f"{doc}: a new shell block: run it in a test or excuse it"
    excused = {(doc, _first_line(b)) for doc in docs for b in shell_blocks(REPO / doc)}
    for key in NOT_RUN:
        assert any(k[0] == key[0] and k[1].startswith(key[1]) for k in excused), key
    assert len(PYTHON_BLOCK.findall(README.read_text())) == 0
    assert len(PYTHON_BLOCK.findall(EMULATOR_README.read_text())) == 2


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_quick_start_prints_what_the_readme_shows(checkout: Path) -> None:
    first = shell_blocks(README)[0].strip()
    # The install part is .ci/run's; the reconciler part runs here with the test's venv.
    commands = first.split(" && ", 2)[2].replace(".venv/bin/reconciler", "reconciler")
    assert commands == "reconciler apply --local --auto-approve && reconciler plan --local"
    run = run_clean(["bash", "-e", "-c", commands], checkout, timeout=300)
    assert run.returncode == 0, run.stderr
    shown = TEXT_BLOCK.findall(README.read_text())
    assert _squash(run.stdout) == _squash(shown[0]), run.stdout

    # "Change a value and plan again": the README's block is part of that plan's output.
    (checkout / "manifests/dev-secrets/stripe-key.txt").write_text("sk_test_rotated\n")
    again = run_clean(["reconciler", "plan", "--local"], checkout)
    assert again.returncode == 0, again.stderr
    assert _squash(shown[1]) in _squash(again.stdout), again.stdout


def test_the_ci_section_runs_against_an_account(served_cli: Cli, checkout: Path) -> None:
    blocks = shell_blocks(README)[QUICK_START : QUICK_START + CI_SECTION]
    env = clean_env(checkout, **served_cli.env)
    plan, apply, drift, export = blocks
    assert "--out plan.json" in plan and "--plan plan.json" in apply
    for block in (plan, apply, drift):
        assert_block_ok(run_block(block, checkout, env), _first_line(block))
    assert Path("plan.md").read_text().startswith("<!-- reconciler-plan -->")
    assert Path("drift.md").read_text().startswith("<!-- reconciler-drift -->")
    # Export is for bringing an account into a repository that has no manifests yet.
    fresh = checkout / "fresh-repo"
    fresh.mkdir()
    assert_block_ok(run_block(export, fresh, env), _first_line(export))
    assert (fresh / "manifests" / "reconciler.yaml").is_file()


def test_the_emulator_readme_client_setup_is_true() -> None:
    (block,) = [
        b for b in shell_blocks(EMULATOR_README) if b.strip().startswith("export CLOUDFLARE_")
    ]
    run = run_clean(
        ["bash", "-e", "-c", block + "\nenv | grep ^CLOUDFLARE_ | sort"], REPO, timeout=30
    )
    assert run.returncode == 0, run.stderr
    shown = run.stdout
    assert f"CLOUDFLARE_API_TOKEN={DEFAULT_TOKEN}" in shown
    assert f"CLOUDFLARE_ACCOUNT_ID={DEFAULT_ACCOUNT_ID}" in shown
    assert "CLOUDFLARE_API_BASE_URL=http://127.0.0.1:8787/client/v4" in shown


@pytest.mark.parametrize("index", [0, 1])
def test_the_emulator_readme_python_snippets_run(index: int, tmp_path: Path) -> None:
    snippet = PYTHON_BLOCK.findall(EMULATOR_README.read_text())[index]
    run = run_clean([sys.executable, "-c", snippet], tmp_path)
    assert run.returncode == 0, f"{snippet}\n{run.stderr}"


def test_the_completion_line_completes_commands_and_choices(tmp_path: Path) -> None:
    (block,) = shell_blocks(README)[QUICK_START + CI_SECTION : QUICK_START + CI_SECTION + 1]
    assert block.strip() == 'eval "$(_RECONCILER_COMPLETE=bash_source reconciler)"'
    # What bash does on <Tab>: the function `complete` registered, with the words so far.
    probe = (
        block
        + """
complete -p reconciler
tab() { COMPREPLY=(); COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _reconciler_completion reconciler; echo "${COMPREPLY[*]}"; }
tab reconciler pl
tab reconciler plan --format ''
tab reconciler apply --secret-update ''
tab reconciler plan --detailed
"""
    )
    run = run_clean(["bash", "-e", "-c", probe], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "complete -o nosort -F _reconciler_completion reconciler",
        "plan",
        "text json markdown",
        "replace patch",
        "--detailed-exitcode",
    ]
