"""`--local` serves what the manifests need, and the hint after `plan --out` works as printed."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler.cli import cli
from tests.checkout import LOCAL_STATE

from .conftest import _CLEARED, EXAMPLES, REPO, Cli, accounts_config

HINT = re.compile(r"apply it with `(reconciler [^`]+)`\.")


@pytest.fixture
def local_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _follow_hint(planned: Result, env: dict[str, str] | None = None) -> Result:
    found = HINT.search(planned.stderr)
    assert found, planned.stderr
    words = shlex.split(found.group(1))
    assert words[:2] == ["reconciler", "apply"]
    return _run(*words[1:], "--auto-approve", env=env)


def test_the_plan_out_hint_works_literally_under_local(local_cwd: Path) -> None:
    shutil.copytree(EXAMPLES / "multi-env", "multi-env", ignore=LOCAL_STATE)
    env = {"PROD_UPSTREAM_TOKEN": "prod-example"}
    planned = _run("plan", "--local", "multi-env/prod.yaml", "--out", "prod.plan.json", env=env)
    assert planned.exit_code == 0, planned.output
    assert "`reconciler apply multi-env/prod.yaml --plan prod.plan.json --local`" in planned.stderr
    applied = _follow_hint(planned, env)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 3 changes made." in applied.output


def test_the_plan_out_hint_names_the_account_flag(
    make_cli: Callable[..., Cli], tmp_path: Path
) -> None:
    other = "0123456789abcdef0123456789abcdef"
    served = make_cli(accounts_config("023e105f4ecef8ad9ca31a8372d0c353", other))
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    planned = served("plan", "manifests", "--account-id", other, "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    assert f"--account-id {other}" in planned.stderr
    found = HINT.search(planned.stderr)
    assert found
    applied = served(*shlex.split(found.group(1))[1:], "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 5 changes made." in applied.output


def _two_stores(root: Path) -> Path:
    doc = {"stores": [{"name": "first"}, {"name": "second"}]}
    path = root / "two-stores"
    path.mkdir()
    (path / "reconciler.yaml").write_text(yaml.safe_dump(doc))
    return path


def test_local_store_limit_is_the_embedded_emulators(local_cwd: Path) -> None:
    path = str(_two_stores(local_cwd))
    # One store by default: the plan says so before anything changes.
    refused = _run("plan", "--local", path)
    assert refused.exit_code == 3, refused.output
    assert "store_limit" in refused.output or "store limit" in refused.output
    # A larger limit is the embedded emulator's too: the apply the plan promised succeeds.
    applied = _run("apply", "--local", path, "--max-stores", "2", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 2 changes made." in applied.output
    again = _run("plan", "--local", path, "--detailed-exitcode", env={"RECONCILER_MAX_STORES": "2"})
    assert again.exit_code == 0, again.output


def test_local_state_lives_in_the_manifest_directory(local_cwd: Path) -> None:
    shutil.copytree(REPO / "manifests", "manifests", ignore=LOCAL_STATE)
    assert _run("apply", "--local", "--auto-approve").exit_code == 0
    assert (local_cwd / "manifests/.reconciler/local.db").is_file()
    assert not (local_cwd / ".reconciler/local.db").exists()
    # The same manifest set named another way finds the same state.
    assert _run("plan", "--local", "./manifests/", "--detailed-exitcode").exit_code == 0


EXPORT_HINT = re.compile(r"Then run: (reconciler plan [^\n]+)")


def test_export_takes_the_manifest_directory_and_its_hint_works_pasted(local_cwd: Path) -> None:
    """Issue 26, item 3: `export --local` read a local account in the working directory
    (a fresh, empty one from an empty directory), and its hint `reconciler plan DIR` dropped
    `--local`: planned with `--local` in DIR, everything was new. Export takes the manifest
    directory like the other commands; under --local that directory's own account."""
    shutil.copytree(REPO / "manifests", "acct", ignore=LOCAL_STATE)
    assert _run("apply", "acct", "--local", "--auto-approve").exit_code == 0
    # The account is all that is left of it: its manifests and scripts are gone.
    for path in Path("acct").iterdir():
        if path.name != ".reconciler":
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    exported = _run("export", "acct", "--local")
    assert exported.exit_code == 0, exported.output
    assert Path("acct/reconciler.yaml").is_file()
    assert not Path(".reconciler").exists()  # nothing made in the working directory
    found = EXPORT_HINT.search(exported.stdout)
    assert found, exported.stdout
    assert found.group(1) == "reconciler plan acct --local"
    env = {v: "some value" for v in re.findall(r"^  ([A-Z0-9_]+)  \(", exported.stdout, re.M)}
    assert env, exported.stdout  # the secrets' variables are listed
    planned = _run(*shlex.split(found.group(1))[1:], "--format", "json", env=env)
    assert planned.exit_code in (0, 3), planned.output
    actions = json.loads(planned.stdout)["actions"]
    assert not [a for a in actions if a["action"] == "create"], actions


def test_export_local_without_a_local_account_is_refused(local_cwd: Path) -> None:
    refused = _run("export", "empty", "--local")
    assert refused.exit_code == 1
    assert "no local account in empty/.reconciler" in refused.stderr
    assert not Path("empty").exists() and not Path(".reconciler").exists()


def test_export_out_is_the_old_spelling_of_the_directory(local_cwd: Path) -> None:
    both = _run("export", "one", "--out", "two", "--local")
    assert both.exit_code == 2
    assert "name the directory once" in both.output
