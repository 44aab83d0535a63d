"""The pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself in a git checkout.

`pre-commit try-repo` would install the hook's repository into a fresh environment from the
package index; here the same hook definition runs as a `local` hook (language `system`,
reconciler from this environment), so pre-commit's own file matching, argument passing and
exit status are what is tested, with no download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent

GOOD = (
    "stores:\n  - name: main\nsecrets:\n  - name: API_KEY\n    store: main\n"
    "    scopes: [workers]\n    value_from: {env: API_KEY}\n"
)
# A secret in another file names the store declared above: the set is validated whole.
OTHER = "secrets:\n  - name: OTHER\n    store: main\n    scopes: [workers]\n    value_from: {env: OTHER}\n"
BAD = (
    "secrets:\n  - name: BROKEN\n    store: main\n    scopes: [workers]\n    value_form: {env: X}\n"
)


def _hook() -> dict[str, object]:
    (hook,) = load_manifest(str(HOOKS))  # pre-commit's own schema check of the file
    assert hook["id"] == "reconciler-validate"
    assert hook["language"] == "python"  # users get reconciler installed by pre-commit
    return {**yaml.safe_load(HOOKS.read_text())[0], "language": "system"}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    (work / "manifests").mkdir(parents=True)
    (work / "docs").mkdir()
    (work / "manifests" / "main.yaml").write_text(GOOD)
    (work / "manifests" / "other.yaml").write_text(OTHER)
    (work / "docs" / "notes.yaml").write_text("not: [a, manifest\n")  # not matched by `files`
    config = {"repos": [{"repo": "local", "hooks": [_hook()]}]}
    (work / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    return work


def _pre_commit(work: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(work.parent / "pre-commit-home"),
        "API_KEY": "unused",
    }
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", "--color", "never", "--files", *files],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hook_fails_on_a_bad_manifest_with_its_location(checkout: Path) -> None:
    good = _pre_commit(checkout, "manifests/main.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    (checkout / "manifests" / "main.yaml").write_text(GOOD + BAD.removeprefix("secrets:\n"))
    _git(checkout, "add", "-A")
    bad = _pre_commit(checkout, "manifests/main.yaml")
    assert bad.returncode == 1
    assert "Failed" in bad.stdout
    assert "manifests/main.yaml:11:5: unknown key 'value_form'" in bad.stdout
    assert "did you mean 'value_from'" in bad.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hook_skips_files_that_are_not_manifests(checkout: Path) -> None:
    (checkout / "manifests" / "main.yaml").write_text(BAD)
    _git(checkout, "add", "-A")
    skipped = _pre_commit(checkout, "docs/notes.yaml")
    assert skipped.returncode == 0
    assert "(no files to check)Skipped" in skipped.stdout
