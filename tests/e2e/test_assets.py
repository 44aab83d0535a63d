"""Static assets end to end, over real HTTP against the served emulator: a 1,000-file
directory applies, the next plan is empty, one changed file is one uploaded file (the
request log shows it, and the plan said so), an assets-only Worker and one with
`run_worker_first` and an `ASSETS` binding converge, and a file changed after the plan is
refused at upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Env

CODE = "export default { async fetch(request, env) { return env.ASSETS.fetch(request); } };\n"


def site(root: Path, files: int) -> Path:
    public = root / "public"
    for i in range(files):
        sub = public / f"d{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"page{i}.html").write_text(f"<h1>page {i}</h1>\n")
    return public


def write_manifest(root: Path, entry: str) -> Path:
    manifests = root / "m"
    manifests.mkdir(exist_ok=True)
    (manifests / "workers.yaml").write_text("workers:\n" + entry)
    return manifests


def plan_json(env: Env, manifests: Path, *extra: str) -> dict[str, Any]:
    result = env.run("plan", str(manifests), "--format", "json", *extra)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.output)


def changes(plan: dict[str, Any], worker: str) -> dict[str, Any]:
    action = next(a for a in plan["actions"] if a["kind"] == "worker" and a["name"] == worker)
    return {c["field"]: c["after"] for c in action["changes"]}


def uploads(env: Env) -> list[dict[str, Any]]:
    return [r for r in env.inspect("requests") if r["path"].endswith("/workers/assets/upload")]


def test_a_thousand_files_apply_then_one_change_uploads_one_file(env: Env, tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    site(project / "m", 1000)
    (project / "m").mkdir(exist_ok=True)
    (project / "m" / "index.js").write_text(CODE)
    manifests = write_manifest(
        project,
        "  - name: web\n    script: index.js\n    compatibility_date: '2025-01-01'\n"
        "    assets: {directory: public, binding: ASSETS}\n",
    )
    first = plan_json(env, manifests)
    assert changes(first, "web")["assets.files"] == "1,000 added of 1,000 files"
    result = env.run("apply", str(manifests), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(uploads(env)) == 20  # 1,000 files, 50 to a bucket
    state = env.inspect("state")
    (web,) = [s for s in state["scripts"] if s["id"] == "web"]
    assert web["has_assets"] is True
    assert {"type": "assets", "name": "ASSETS"} in web["settings"]["bindings"]

    env.clear_log()
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert not [r for r in env.inspect("requests") if "assets" in r["path"]]

    (manifests / "public" / "d3" / "page3.html").write_text("<h1>changed</h1>\n")
    plan = plan_json(env, manifests)
    seen = changes(plan, "web")
    assert seen["assets.files"] == "1 changed, 0 added, 0 removed of 1,000 files"
    assert seen["assets.changed"] == ["/d3/page3.html"]
    env.clear_log()
    result = env.run("apply", str(manifests), "--auto-approve")
    assert result.exit_code == 0, result.output
    (bucket,) = uploads(env)
    assert bucket["status"] == 200
    empty = env.run("plan", str(manifests), "--detailed-exitcode")
    assert empty.exit_code == 0, empty.output


def test_without_the_cache_the_plan_asks_the_session_and_says_what_it_cannot_know(
    env: Env, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    site(project / "m", 30)
    (project / "m" / "index.js").write_text(CODE)
    manifests = write_manifest(
        project,
        "  - name: web\n    script: index.js\n    assets: {directory: public, binding: ASSETS}\n",
    )
    assert env.run("apply", str(manifests), "--auto-approve", "--no-cache").exit_code == 0
    (manifests / "public" / "d1" / "page1.html").write_text("new\n")
    (manifests / "public" / "extra.txt").write_text("extra\n")
    env.clear_log()
    seen = changes(plan_json(env, manifests, "--no-cache"), "web")
    assert seen["assets.files"].startswith("2 to upload of 31 files")
    assert seen["assets.to_upload"] == ["/d1/page1.html", "/extra.txt"]
    assert [r["path"].rsplit("/", 1)[-1] for r in env.inspect("requests")].count(
        "assets-upload-session"
    ) == 1
    assert not uploads(env)  # the plan never uploads


def test_assets_only_worker_converges(env: Env, tmp_path: Path) -> None:
    project = tmp_path / "p"
    site(project / "m", 5)
    manifests = write_manifest(
        project,
        "  - name: docs\n    compatibility_date: '2025-01-01'\n"
        "    assets: {directory: public, html_handling: drop-trailing-slash,"
        " not_found_handling: 404-page}\n",
    )
    result = env.run("apply", str(manifests), "--auto-approve")
    assert result.exit_code == 0, result.output
    (docs,) = [s for s in env.inspect("state")["scripts"] if s["id"] == "docs"]
    assert docs["has_assets"] is True and docs["modules"] == []
    for flags in ((), ("--no-cache",)):
        again = env.run("plan", str(manifests), "--detailed-exitcode", *flags)
        assert again.exit_code == 0, again.output


def test_run_worker_first_with_an_assets_binding_converges(env: Env, tmp_path: Path) -> None:
    project = tmp_path / "p"
    site(project / "m", 5)
    (project / "m" / "index.js").write_text(CODE)
    entry = (
        "  - name: app\n    script: index.js\n    compatibility_date: '2025-01-01'\n"
        "    assets:\n      directory: public\n      binding: ASSETS\n"
        "      run_worker_first: ['/api/*', '!/api/docs/*']\n"
        "      not_found_handling: single-page-application\n"
    )
    manifests = write_manifest(project, entry)
    assert env.run("apply", str(manifests), "--auto-approve").exit_code == 0
    for flags in ((), ("--no-cache",)):
        again = env.run("plan", str(manifests), "--detailed-exitcode", *flags)
        assert again.exit_code == 0, again.output
    # A config change alone is a change (and uploads no file).
    write_manifest(project, entry.replace("'/api/*', ", ""))
    assert plan_json(env, manifests)["actions"]
    env.clear_log()
    assert env.run("apply", str(manifests), "--auto-approve").exit_code == 0
    assert not uploads(env)
    assert env.run("plan", str(manifests), "--detailed-exitcode").exit_code == 0


def test_a_file_changed_after_the_plan_is_refused_and_nothing_deployed(
    env: Env, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    site(project / "m", 3)
    (project / "m" / "index.js").write_text(CODE)
    manifests = write_manifest(
        project, "  - name: web\n    script: index.js\n    assets: {directory: public}\n"
    )
    saved = tmp_path / "plan.json"
    planned = env.run("plan", str(manifests), "--out", str(saved), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    (manifests / "public" / "d0" / "page0.html").write_text("edited after the plan\n")
    result = env.run("apply", str(manifests), "--plan", str(saved), "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "plan" in result.output
    assert not uploads(env)
    assert not [s for s in env.inspect("state")["scripts"] if s["id"] == "web"]


def test_validate_names_each_asset_file_that_breaks_the_rules(env: Env, tmp_path: Path) -> None:
    project = tmp_path / "p"
    public = site(project / "m", 2)
    (public / "escape").symlink_to("/etc/hostname")
    (public / "big.bin").write_bytes(b"\0" * (25 * 1024 * 1024 + 1))
    manifests = write_manifest(
        project, "  - name: web\n    script: index.js\n    assets: {directory: public}\n"
    )
    (manifests / "index.js").write_text(CODE)
    result = env.run("validate", str(manifests))
    assert result.exit_code == 1
    assert "asset file /escape" in result.output
    assert "asset file /big.bin" in result.output and "25 MiB" in result.output


def test_export_warns_that_assets_cannot_be_downloaded_and_keeps_them(
    env: Env, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    site(project / "m", 3)
    (project / "m" / "index.js").write_text(CODE)
    manifests = write_manifest(
        project,
        "  - name: web\n    script: index.js\n    compatibility_date: '2025-01-01'\n"
        "    assets: {directory: public, binding: ASSETS}\n",
    )
    assert env.run("apply", str(manifests), "--auto-approve").exit_code == 0
    result = env.run("export", "--out", str(tmp_path / "exported"))
    assert result.exit_code == 0, result.output
    assert "worker web serves static assets" in result.output
    assert "binding: ASSETS" in result.output
    # The exported manifests leave assets out: not managed, so an upload keeps them.
    (script,) = (tmp_path / "exported").rglob("*.js")
    script.write_text(script.read_text() + "// changed\n")
    env.clear_log()
    applied = env.run("apply", str(tmp_path / "exported"), "--auto-approve")
    assert ("PUT", "/workers/scripts/web") in env.writes()
    assert applied.exit_code == 0, applied.output
    (web,) = [s for s in env.inspect("state")["scripts"] if s["id"] == "web"]
    assert web["has_assets"] is True
    assert {"type": "assets", "name": "ASSETS"} in web["settings"]["bindings"]
