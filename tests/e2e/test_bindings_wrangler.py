"""A Worker deployed by `wrangler deploy` with bindings of many types and a Durable Object
migration, declared the same way in a manifest: the plan adopts it with no binding or
migration change (wrangler's own spellings, such as d1's `id`, compare as the manifest's).

No queue binding here: wrangler looks the queue up (`GET …/queues`), which the emulator does
not serve; queue bindings are covered by the other end-to-end tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from benchmarks._common import WRANGLER, run_wrangler
from tests.e2e.conftest import Env

pytestmark = pytest.mark.skipif(
    not os.access(WRANGLER, os.X_OK),
    reason="wrangler not installed (npm ci --prefix tests/wrangler)",
)

WRANGLER_TOML = """name = "rooms"
main = "src/index.js"
compatibility_date = "2025-01-01"

[vars]
GREETING = "hello"

[[d1_databases]]
binding = "DB"
database_name = "main"
database_id = "5f092ab3-1a1f-4b62-9c1c-3d0a7d1f6b11"

[[kv_namespaces]]
binding = "CACHE"
id = "0f2ac74b498b48028cb68387c421e279"

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]

[ai]
binding = "AI"

[[vectorize]]
binding = "EMBEDDINGS"
index_name = "embeddings"

[[hyperdrive]]
binding = "PG"
id = "57b7076f58be42419276f058a8968187"

[[analytics_engine_datasets]]
binding = "EVENTS"
dataset = "page_views"

[version_metadata]
binding = "VERSION"

[browser]
binding = "BROWSER"
"""

DECLARED = [
    {"type": "plain_text", "name": "GREETING", "text": "hello"},
    {"type": "d1", "name": "DB", "database_id": "5f092ab3-1a1f-4b62-9c1c-3d0a7d1f6b11"},
    {"type": "kv_namespace", "name": "CACHE", "namespace_id": "0f2ac74b498b48028cb68387c421e279"},
    {"type": "durable_object_namespace", "name": "ROOMS", "class_name": "Room"},
    {"type": "ai", "name": "AI"},
    {"type": "vectorize", "name": "EMBEDDINGS", "index_name": "embeddings"},
    {"type": "hyperdrive", "name": "PG", "id": "57b7076f58be42419276f058a8968187"},
    {"type": "analytics_engine", "name": "EVENTS", "dataset": "page_views"},
    {"type": "version_metadata", "name": "VERSION"},
    {"type": "browser", "name": "BROWSER"},
]


def test_a_wrangler_deployed_worker_declared_alike_has_no_binding_changes(
    env: Env, tmp_path: Path
) -> None:
    project = tmp_path / "wr"
    (project / "src").mkdir(parents=True)
    code = "export class Room {}\nexport default { async fetch() { return new Response('ok') } };\n"
    (project / "src" / "index.js").write_text(code)
    (project / "wrangler.toml").write_text(WRANGLER_TOML)
    proc = run_wrangler(["deploy"], cwd=project, base_url=env.server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    (env.root / "manifests" / "workers" / "rooms.js").write_text(code)
    worker = {
        "name": "rooms",
        "script": "workers/rooms.js",
        "compatibility_date": "2025-01-01",
        "bindings": DECLARED,
        "migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]}],
    }
    (env.root / "manifests" / "rooms.yaml").write_text(yaml.safe_dump({"workers": [worker]}))
    result = env.run("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    (action,) = [a for a in json.loads(result.output)["actions"] if a["name"] == "rooms"]
    assert action["action"] == "adopt"
    fields = [c["field"] for c in action["changes"]]
    assert not [f for f in fields if f.startswith(("bindings.", "migrations."))], fields
