"""Each example runs as its README says: every shell block, verbatim, with `--local`.

The working directory is a copy of the repository's `examples/` and `manifests/` (what a fresh
clone holds), and the quick start has run there first: each manifest set keeps its own local
state, so the examples neither see nor disturb the quick start's account.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EXAMPLES, REPO
from .readme_blocks import assert_block_ok, clean_env, run_block, run_clean, shell_blocks

RUNNABLE = ["multi-env", "multi-module", "secret-rotation"]
# Each example's manifest sets, named from inside the example's directory.
MANIFESTS = {
    "multi-env": ["staging.yaml", "prod.yaml"],
    "multi-module": ["."],
    "secret-rotation": ["."],
}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns(".reconciler", "*.plan.json")  # as tests.checkout.LOCAL_STATE
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=ignore)
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=ignore)
    return tmp_path


def _reconciler(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_clean(["reconciler", *args], cwd)


def test_every_runnable_example_has_a_local_block() -> None:
    for name in RUNNABLE:
        blocks = shell_blocks(EXAMPLES / name / "README.md")
        assert blocks and all("--local" in b for b in blocks), name


@pytest.mark.parametrize("name", RUNNABLE)
def test_example_readme_runs_verbatim_after_the_quick_start(checkout: Path, name: str) -> None:
    quick = _reconciler(checkout, "apply", "--local", "--auto-approve")
    assert quick.returncode == 0, quick.stderr
    for i, block in enumerate(shell_blocks(EXAMPLES / name / "README.md")):
        assert_block_ok(run_block(block, checkout, clean_env(checkout)), f"{name} block {i}")
    # The quick start's account is untouched, and the example is in sync from any directory.
    again = _reconciler(checkout, "plan", "--local", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    for manifest in MANIFESTS[name]:
        env = clean_env(checkout, STAGING_UPSTREAM_TOKEN="staging-example",
                        PROD_UPSTREAM_TOKEN="prod-example", PARTNER_API_KEY="new-value")  # fmt: skip
        inside = subprocess.run(
            ["reconciler", "plan", "--local", manifest, "--detailed-exitcode"],
            cwd=checkout / "examples" / name,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert inside.returncode == 0, (name, manifest, inside.stdout + inside.stderr)
