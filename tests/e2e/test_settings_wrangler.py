"""A Worker deployed by `wrangler deploy` with every setting, declared the same in a manifest,
plans as an adoption with no field changes: wrangler's spelling of each setting and ours meet
(its observability defaults are the ones `settings_forms` fills in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks._common import WRANGLER, run_wrangler
from tests.e2e.conftest import Env

CODE = "export default { async fetch(request, env) { return new Response(env.GREETING); } };\n"
TAIL = "export default { async tail(events) { } };\n"
API_TOML = """name = "api"
main = "index.js"
compatibility_date = "2025-01-01"
logpush = true
tail_consumers = [{ service = "tailer" }]

[vars]
GREETING = "hi"

[observability]
enabled = true
head_sampling_rate = 0.5

[observability.logs]
enabled = true
invocation_logs = false

[placement]
mode = "smart"

[limits]
cpu_ms = 50
"""
MANIFEST = """workers:
  - name: tailer
    script: tailer/index.js
    compatibility_date: "2025-01-01"
  - name: api
    script: api/index.js
    compatibility_date: "2025-01-01"
    bindings:
      - {type: plain_text, name: GREETING, text: hi}
    observability:
      enabled: true
      head_sampling_rate: 0.5
      logs: {invocation_logs: false}
    logpush: true
    tail_consumers: [{service: tailer}]
    placement: {mode: smart}
    limits: {cpu_ms: 50}
"""


def deploy(project: Path, toml: str, code: str, env: Env) -> None:
    project.mkdir(parents=True)
    (project / "index.js").write_text(code)
    (project / "wrangler.toml").write_text(toml)
    proc = run_wrangler(["deploy", "--no-bundle"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_wrangler_deployed_settings_adopt_with_no_field_change(env: Env, tmp_path: Path) -> None:
    if not WRANGLER.exists():
        pytest.skip("wrangler not installed (npm ci --prefix tests/wrangler)")
    tailer_toml = 'name = "tailer"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n'
    deploy(tmp_path / "tailer", tailer_toml, TAIL, env)
    deploy(tmp_path / "api", API_TOML, CODE, env)
    manifests = tmp_path / "adopt"
    manifests.mkdir()
    (manifests / "workers.yaml").write_text(MANIFEST)
    for name, code in (("tailer", TAIL), ("api", CODE)):
        (manifests / name).mkdir()
        (manifests / name / "index.js").write_text(code)
    result = env.run("plan", str(manifests), "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert {(a["action"], a["name"]) for a in plan["actions"]} == {
        ("adopt", "tailer"),
        ("adopt", "api"),
    }
    assert all(a["changes"] == [] for a in plan["actions"]), plan["actions"]
    applied = env.run("apply", str(manifests), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = env.run("plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
