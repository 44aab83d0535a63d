"""A Worker deployed by `wrangler deploy` with an asset directory, declared the same in a
manifest, plans as an adoption with no asset change: wrangler's manifest paths and hashes are
ours (the upload session answers that the account lacks none of the files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks._common import WRANGLER, run_wrangler
from tests.e2e.conftest import Env

CODE = "export default { async fetch(request, env) { return env.ASSETS.fetch(request); } };\n"
TOML = """name = "site"
main = "index.js"
compatibility_date = "2025-01-01"

[assets]
directory = "public"
binding = "ASSETS"
not_found_handling = "404-page"
"""
MANIFEST = """workers:
  - name: site
    script: index.js
    compatibility_date: "2025-01-01"
    assets: {directory: public, binding: ASSETS, not_found_handling: 404-page}
"""


def fill(public: Path) -> None:
    (public / "css").mkdir(parents=True)
    (public / "index.html").write_text("<h1>home</h1>\n")
    (public / "404.html").write_text("<h1>not here</h1>\n")
    (public / "css" / "site.css").write_text("h1 { color: red }\n")
    (public / "logo.png").write_bytes(bytes(range(256)) * 7)
    (public / "notes.draft").write_text("left out\n")
    (public / ".assetsignore").write_text("*.draft\n")
    (public / "_headers").write_text("/*\n  X-Frame-Options: DENY\n")


def test_wrangler_deployed_assets_adopt_with_no_asset_change(env: Env, tmp_path: Path) -> None:
    if not WRANGLER.exists():
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    project = tmp_path / "w"
    project.mkdir()
    fill(project / "public")
    (project / "index.js").write_text(CODE)
    (project / "wrangler.toml").write_text(TOML)
    proc = run_wrangler(["deploy", "--no-bundle"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (site,) = [s for s in env.inspect("state")["scripts"] if s["id"] == "site"]
    assert site["has_assets"] is True

    manifests = tmp_path / "m"
    manifests.mkdir()
    fill(manifests / "public")
    (manifests / "index.js").write_text(CODE)
    (manifests / "workers.yaml").write_text(MANIFEST)
    env.clear_log()
    result = env.run("plan", str(manifests), "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    (action,) = plan["actions"]
    assert (action["action"], action["name"]) == ("adopt", "site")
    assert [c["field"] for c in action["changes"] if c["field"].startswith("assets")] == []
    # Learnt from one upload session, without uploading anything.
    paths = [r["path"] for r in env.inspect("requests")]
    assert sum(p.endswith("/assets-upload-session") for p in paths) == 1
    assert not [p for p in paths if p.endswith("/workers/assets/upload")]

    assert env.run("apply", str(manifests), "--auto-approve").exit_code == 0
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output

    # wrangler deploys again, the same directory: still nothing to change.
    proc = run_wrangler(["deploy", "--no-bundle"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 2, again.output  # wrangler's deploy dropped our tags
    assert "assets" not in again.output


def test_wrangler_deploys_an_assets_only_worker(env: Env, tmp_path: Path) -> None:
    if not WRANGLER.exists():
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    project = tmp_path / "w"
    project.mkdir()
    fill(project / "public")
    (project / "wrangler.toml").write_text(
        'name = "docs"\ncompatibility_date = "2025-01-01"\n[assets]\ndirectory = "public"\n'
    )
    proc = run_wrangler(["deploy"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (docs,) = [s for s in env.inspect("state")["scripts"] if s["id"] == "docs"]
    assert docs["has_assets"] is True and docs["modules"] == []
