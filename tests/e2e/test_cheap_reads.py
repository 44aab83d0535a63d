"""A cold plan reads each worker's settings but not its code when the code tag proves it.

Every out-of-band change kind must still show in plan and in drift (docs/cheap-reads.md):
a content PUT and a wrangler deploy move the etag (the code is read again), a settings
PATCH shows in the settings (always read), a tag edit leaves the code tag unproven (the
code is read again) or drops our marker (the worker shows as not managed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from benchmarks._common import WRANGLER, run_wrangler
from reconciler.markers import WORKER_TAG
from tests.e2e.conftest import Env

NEW_CODE = b"export default { async fetch() { return new Response('changed out of band'); } };\n"


def _cold(env: Env, command: str) -> tuple[Result, list[str]]:
    """`plan`/`drift` with no cache (a fresh CI runner); the API paths it called."""
    env.clear_log()
    args = [command, "--no-cache"] + (["--detailed-exitcode"] if command == "plan" else [])
    result = env.run(*args)
    return result, [r["path"] for r in env.inspect("requests")]


def _code_reads(paths: list[str]) -> list[str]:
    return sorted(p.rsplit("/", 3)[-3] for p in paths if p.endswith("/content/v2"))


def _shows(env: Env, *needles: str) -> list[str]:
    """Plan and drift both report the change; returns the workers whose code was read."""
    plan, paths = _cold(env, "plan")
    assert plan.exit_code == 2, plan.output
    drift, _ = _cold(env, "drift")
    assert drift.exit_code == 2, drift.output
    for needle in needles:
        assert needle in plan.output and needle in drift.output, (needle, plan.output)
    return _code_reads(paths)


def _tags(env: Env, name: str) -> list[str]:
    scripts = {s["id"]: s for s in env.inspect("state")["scripts"]}
    tags: list[str] = scripts[name]["tags"]
    return tags


@pytest.fixture
def applied(env: Env) -> Env:
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return env


def test_cold_no_change_plan_reads_no_code(applied: Env) -> None:
    plan, paths = _cold(applied, "plan")
    assert plan.exit_code == 0, plan.output
    assert _code_reads(paths) == []
    workers = 2
    assert len(paths) <= workers + 10, paths
    assert sum(p.endswith("/settings") for p in paths) == workers
    drift, _ = _cold(applied, "drift")
    assert drift.exit_code == 0, drift.output


def test_a_content_put_shows(applied: Env) -> None:
    metadata = json.dumps({"main_module": "payments-api.js"})
    with applied.api() as api:
        api.put(
            "/workers/scripts/payments-api/content",
            files={
                "metadata": (None, metadata, "application/json"),
                "payments-api.js": (
                    "payments-api.js",
                    NEW_CODE,
                    "application/javascript+module",
                ),
            },
        ).raise_for_status()
    assert _shows(applied, "payments-api", "script") == ["payments-api"]


def test_a_settings_patch_shows(applied: Env) -> None:
    with applied.api() as api:
        api.patch(
            "/workers/scripts/hello-classic/settings",
            json={"bindings": [{"type": "plain_text", "name": "GREETING", "text": "changed"}]},
        ).raise_for_status()
    # The code did not change (same etag), so it is still not read; the settings are.
    assert _shows(applied, "hello-classic", "GREETING") == []


def test_a_tag_edit_that_breaks_the_code_tag_reads_the_code(applied: Env) -> None:
    forged = "reconciler-code-" + "0" * 16 + "-" + "1" * 64
    with applied.api() as api:
        api.patch(
            "/workers/scripts/payments-api/script-settings",
            json={"tags": ["team-a", WORKER_TAG, forged]},
        ).raise_for_status()
    plan, paths = _cold(applied, "plan")
    assert plan.exit_code == 0, plan.output  # nothing really changed, and the read proves it
    assert _code_reads(paths) == ["payments-api"]


def test_a_tag_edit_that_drops_our_marker_shows_and_theirs_are_kept(applied: Env) -> None:
    theirs = [f"team-{i}" for i in range(7)]
    with applied.api() as api:
        api.patch(
            "/workers/scripts/payments-api/script-settings", json={"tags": theirs}
        ).raise_for_status()
    assert _shows(applied, "payments-api") == ["payments-api"]
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    # Their 7 tags stay; ours makes 8, the limit, so the code tag is left out ...
    assert sorted(_tags(applied, "payments-api")) == sorted([*theirs, WORKER_TAG])
    plan, paths = _cold(applied, "plan")
    assert plan.exit_code == 0, plan.output
    assert _code_reads(paths) == ["payments-api"]  # ... and its code is read in full
    assert all("," not in t and "&" not in t for t in _tags(applied, "hello-classic"))


def test_a_wrangler_deploy_shows(applied: Env, tmp_path: Path) -> None:
    if not WRANGLER.exists():
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    project = tmp_path / "wrangler-project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_bytes(NEW_CODE)
    (project / "wrangler.toml").write_text(
        'name = "payments-api"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'
        'compatibility_flags = ["nodejs_compat"]\n'
    )
    proc = run_wrangler(["deploy"], cwd=project, base_url=applied.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "payments-api" in _shows(applied, "payments-api", "script")
