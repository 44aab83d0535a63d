"""Bindings of every type, checked against Cloudflare's vendored OpenAPI schema."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from reconciler.manifest.models import (
    BINDING_TYPES,
    OWN_BINDING_TYPES,
    UNDECLARABLE_BINDINGS,
    MigrationStep,
    manifest_json_schema,
)
from reconciler.openapi.bindings import KINDS, SCHEMAS, SOURCE, TYPES, check, normal_form
from tests.binding_samples import SAMPLES, sample_bindings
from tests.manifest.conftest import Write, load, problems_of

WORKER = "workers:\n  - name: w\n    script: w.js\n    bindings:\n"


@pytest.fixture
def base(write: Write) -> Write:
    write("w.js", "export default { fetch() { return new Response('x') } }\n")
    return write


def test_types_come_from_the_vendored_schema_with_their_source() -> None:
    mapping = SCHEMAS["workers_binding_item"]["discriminator"]["mapping"]
    assert set(TYPES) == set(mapping) and len(TYPES) >= 35
    assert {"d1", "r2_bucket", "queue", "browser", "version_metadata", "workflow"} <= set(TYPES)
    for item, commit in SOURCE["items"].items():
        assert item in SCHEMAS and re.fullmatch(r"[0-9a-f]{40}", commit), item
    assert set(SOURCE["items"]) == set(SCHEMAS)
    # d1's id is required under its new name; the old one is read as it
    assert KINDS["d1"].required == ("database_id",) and KINDS["d1"].aliases == {"id": "database_id"}


def test_every_declarable_type_has_a_sample_and_loads(base: Write) -> None:
    declarable = set(BINDING_TYPES) - set(OWN_BINDING_TYPES)
    assert set(SAMPLES) == declarable
    assert set(BINDING_TYPES) | set(UNDECLARABLE_BINDINGS) == set(TYPES)
    doc = {"workers": [{"name": "w", "script": "w.js", "bindings": sample_bindings()}]}
    base("m.yaml", yaml.safe_dump(doc))
    worker = load("m.yaml").state.workers["w"]
    got = {b.type: b.params for b in worker.bindings}
    assert got == SAMPLES


def test_migration_steps_take_the_schemas_fields() -> None:
    step = set(SCHEMAS["workers_migration_step"]["properties"])
    assert set(MigrationStep.model_fields) - {"tag"} == step


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        (
            "      - {type: r2_bucket, name: B}\n",
            "m.yaml:5:9: missing required key 'bucket_name' for a r2_bucket binding",
        ),
        (
            "      - {type: r2_bucket, name: B, bucket_name: u, bucket_nme: x}\n",
            "m.yaml:5:52: unknown key 'bucket_nme' for a r2_bucket binding; did you mean "
            "'bucket_name'? it takes type, name, bucket_name, jurisdiction",
        ),
        (
            "      - {type: r2_bucket, name: B, bucket_name: u, jurisdiction: us}\n",
            "m.yaml:5:66: jurisdiction: expected one of eu, fedramp, fedramp-high; got 'us'",
        ),
        (
            "      - {type: queue, name: Q, queue_name: 2024}\n",
            "m.yaml:5:44: queue_name: YAML reads 2024 as a number; write it in quotes",
        ),
        (
            "      - type: ratelimit\n        name: R\n        namespace_id: '1'\n"
            "        simple: {limit: lots, period: 60}\n",
            "m.yaml:8:25: limit: expected a number, got the text 'lots'",
        ),
        (
            "      - type: ratelimit\n        name: R\n        namespace_id: '1'\n"
            "        simple: {period: 60}\n",
            "m.yaml:8:17: simple: missing required key 'limit'",
        ),
        (
            "      - {type: send_email, name: E, destination_address: not-an-address}\n",
            "m.yaml:5:58: destination_address: expected an email address; got 'not-an-address'",
        ),
        (
            "      - {type: d2, name: X}\n",
            "m.yaml:5:16: unknown binding type 'd2'; expected one of: ai, ai_search, "
            "ai_search_namespace, analytics_engine, browser, d1,",
        ),
        (
            "      - {type: inherit, name: X}\n",
            "m.yaml:5:16: a inherit binding cannot be declared: it points at a previous "
            "version's binding",
        ),
        (
            "      - {type: secret_key, name: X, format: raw, algorithm: {}, usages: [sign]}\n",
            "m.yaml:5:16: a secret_key binding cannot be declared: its key material",
        ),
        (
            "      - {type: hyperdrive, name: 'bad name', id: x}\n",
            "m.yaml:5:34: a binding name is a JavaScript identifier",
        ),
        (
            "      - {type: service, name: S, service: null}\n",
            "m.yaml:5:43: service: null is not a value here; leave the key out instead",
        ),
    ],
)
def test_schema_problems_name_the_spot(base: Write, binding: str, expected: str) -> None:
    base("m.yaml", WORKER + binding)
    problems = problems_of("m.yaml")
    assert any(p.startswith(expected) for p in problems), problems


def test_one_bad_binding_reports_every_problem_and_rejects_the_worker(base: Write) -> None:
    base(
        "m.yaml",
        WORKER
        + "      - {type: r2_bucket, name: B}\n"
        + "      - {type: vectorize, name: V, index: x}\n",
    )
    problems = problems_of("m.yaml")
    assert len(problems) == 3, problems  # bucket_name; index_name missing; index unknown


def test_deprecated_d1_id_is_accepted_and_compares_as_database_id(base: Write) -> None:
    base("m.yaml", WORKER + "      - {type: d1, name: DB, id: abc}\n")
    (binding,) = load("m.yaml").state.workers["w"].bindings
    assert binding.params == {"id": "abc"}
    assert normal_form("d1", binding.params) == normal_form("d1", {"database_id": "abc"})


def test_emulator_mode_ignores_unknown_keys_but_not_shapes() -> None:
    assert check({"type": "queue", "name": "Q", "queue_name": "q", "extra": 1}, strict=False) == []
    (issue,) = check({"type": "queue", "name": "Q", "queue_name": 5}, strict=False)
    assert issue.message == "queue_name: expected text, got the number 5"


def test_editor_schema_covers_every_declarable_type() -> None:
    schema = manifest_json_schema()
    items = schema["$defs"]["WorkerSpec"]["properties"]["bindings"]["items"]["oneOf"]
    consts = {i["properties"]["type"]["const"] for i in items if "properties" in i}
    assert consts == set(BINDING_TYPES) - set(OWN_BINDING_TYPES)
    r2 = next(i for i in items if i.get("title") == "r2_bucket binding")
    assert r2["required"] == ["type", "name", "bucket_name"]
    assert r2["properties"]["jurisdiction"]["enum"] == ["eu", "fedramp", "fedramp-high"]
    assert r2["additionalProperties"] is False
    assert "migrations" in schema["$defs"]["WorkerSpec"]["properties"]
    json.dumps(schema)  # plain JSON
