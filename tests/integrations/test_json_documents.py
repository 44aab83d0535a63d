"""Every reporting command's `--format json`: one JSON document on stdout, valid against the
JSON Schema shipped in the package (reconciler/schemas/), with the text mode's exit codes;
progress and notices stay on stderr."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from reconciler import documents
from reconciler.cli import cli
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer
from tests.checkout import LOCAL_STATE

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "reconciler" / "schemas"


def shipped_schema(command: str) -> dict[str, Any]:
    schema = json.loads((SHIPPED / f"{command}.schema.json").read_text())
    assert isinstance(schema, dict)
    return schema


def document(result: Result, command: str) -> dict[str, Any]:
    """The one JSON document on stdout, checked against the command's shipped schema."""
    doc = json.loads(result.stdout)  # the whole of stdout is one document
    jsonschema.validate(doc, shipped_schema(command))
    assert isinstance(doc, dict)
    return doc


@dataclass
class Account:
    server: EmulatorServer
    env: dict[str, str]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env={**self.env, **(env or {})})


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "manifests", "manifests", ignore=LOCAL_STATE)
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "RECONCILER_MAX_STORES"):
        monkeypatch.delenv(name, raising=False)
    server = EmulatorServer().start()
    try:
        yield Account(
            server,
            {
                "CLOUDFLARE_API_TOKEN": DEFAULT_TOKEN,
                "CLOUDFLARE_API_BASE_URL": server.base_url,
                "CLOUDFLARE_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
                "RECONCILER_FINGERPRINT_KEY": "json-documents-test-key-0123456789",
            },
        )
    finally:
        server.stop()


def test_the_shipped_schemas_are_those_of_the_models() -> None:
    """Regenerate with `python -m reconciler.documents` after changing a document."""
    assert sorted(p.name for p in SHIPPED.glob("*.schema.json")) == sorted(
        f"{c}.schema.json" for c in documents.DOCUMENTS
    )
    for command in documents.DOCUMENTS:
        assert (SHIPPED / f"{command}.schema.json").read_text() == documents.schema_text(command)
        jsonschema.Draft202012Validator.check_schema(shipped_schema(command))


def test_plan_json_is_the_plan_document(account: Account) -> None:
    result = account("plan", "manifests", "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    doc = document(result, "plan")
    assert doc["summary"]["create"] > 0
    conflicted = account("plan", "manifests", "--format", "json", "--max-stores", "0")
    assert conflicted.exit_code == 3
    assert document(conflicted, "plan")["conflicts"][0]["kind"] == "store_limit"


def test_drift_json_is_the_drift_document(account: Account) -> None:
    result = account("drift", "manifests", "--format", "json", "--fail-on", "unmanaged")
    assert result.exit_code == 2, result.output
    doc = document(result, "drift")
    assert doc["options"] == {"fail_on": "unmanaged"}
    # A plan document is not a drift document: the options tell them apart.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, shipped_schema("plan"))
