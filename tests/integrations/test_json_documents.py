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
        shipped = (SHIPPED / f"{command}.schema.json").read_text()
        assert shipped == documents.schema_text(command), (
            f"{command}.schema.json is out of date: run `python -m reconciler.documents`"
        )
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


def test_validate_json(account: Account) -> None:
    valid = account("validate", "manifests", "--format", "json")
    assert valid.exit_code == 0, valid.output
    doc = document(valid, "validate")
    assert doc["valid"] is True and doc["counts"]["workers"] > 0 and doc["problems"] == []
    Path("manifests/bad.yaml").write_text("stores:\n  - name: x\n    colour: blue\n")
    invalid = account("validate", "manifests", "--format", "json")
    assert invalid.exit_code == 1
    doc = document(invalid, "validate")
    assert doc["valid"] is False and doc["counts"] is None
    (problem,) = doc["problems"]
    assert (problem["file"], problem["line"], problem["column"]) == ("manifests/bad.yaml", 3, 5)
    assert problem["message"].startswith("unknown key 'colour'")
    assert "manifests/bad.yaml:3:5" in invalid.stderr  # the notice stays on stderr too


def test_apply_json_reports_each_action_and_keeps_progress_on_stderr(account: Account) -> None:
    applied = account("apply", "manifests", "--auto-approve", "--format", "json")
    assert applied.exit_code == 0, applied.output
    doc = document(applied, "apply")
    assert doc["ok"] is True and doc["summary"]["done"] == len(doc["plan"]["actions"]) > 0
    assert {o["status"] for o in doc["outcomes"]} == {"done"}
    assert "done    create" in applied.stderr  # progress and the plan on stderr
    again = account("apply", "manifests", "--auto-approve", "--format", "json")
    assert again.exit_code == 0
    assert document(again, "apply")["outcomes"] == []

    Path("manifests/more.yaml").write_text("stores:\n  - name: another\n")
    conflicted = account("apply", "manifests", "--auto-approve", "--format", "json")
    assert conflicted.exit_code == 3
    doc = document(conflicted, "apply")
    assert doc["ok"] is False and doc["outcomes"] == []
    assert doc["plan"]["conflicts"][0]["kind"] == "store_limit"


def test_apply_patch_says_what_it_did(account: Account) -> None:
    """Issue 26, item 6: under --secret-update patch the plan apply printed said "deletes the
    secret and recreates it", and a PATCH refused (1001, the observed API) then recreated
    left no trace in the result line."""
    assert account("apply", "manifests", "--auto-approve").exit_code == 0
    Path("manifests/dev-secrets/stripe-key.txt").write_text("sk_test_PATCHED\n")
    patched = account(
        "apply", "manifests", "--auto-approve", "--secret-update", "patch", "--format", "json"
    )
    assert patched.exit_code == 0, patched.output
    assert "apply PATCHes the new value in place (same id)" in patched.stderr
    assert "apply deletes the secret and recreates it" not in patched.stderr
    doc = document(patched, "apply")
    (outcome,) = [o for o in doc["outcomes"] if o["kind"] == "secret"]
    accepted = "value written by PATCH (same id)"
    refused = "PATCH with the value was refused (code 1001): deleted and recreated instead (new id)"
    assert outcome["note"] in (accepted, refused)  # CI also runs under `patch_secret: accept`
    assert f"done    replace secret {outcome['store']}/{outcome['name']} ({outcome['note']})" in (
        patched.stderr
    )
    # The closing line says it too (it is the document's message under --format json).
    assert doc["message"] == (
        f"Apply complete: 1 change made (replace secret {outcome['store']}/{outcome['name']}: "
        f"{outcome['note']})."
    )


def test_export_json(account: Account) -> None:
    assert account("apply", "manifests", "--auto-approve").exit_code == 0
    exported = account("export", "exported", "--format", "json")
    assert exported.exit_code == 0, exported.output
    doc = document(exported, "export")
    assert doc["directory"] == "exported" and "exported/reconciler.yaml" in doc["files"]
    assert doc["env_vars"] and doc["next_command"] == "reconciler plan exported"
    assert Path("exported/reconciler.yaml").is_file()


def test_errors_are_the_error_document_with_the_same_exit_code(account: Account) -> None:
    for command in ("plan", "drift", "apply", "validate", "export"):
        args = [command, "nowhere" if command != "export" else "out", "--format", "json"]
        env = {"CLOUDFLARE_API_TOKEN": "wrong-token"} if command == "export" else {}
        result = account(*args, env=env)
        assert result.exit_code == 1, (command, result.output)
        doc = document(result, command)
        if command == "validate":
            assert doc["valid"] is False
            continue
        assert doc["error"]["exit_code"] == 1 and doc["error"]["message"]
        assert doc["command"] == command


def test_drift_out_writes_the_drift_document(account: Account) -> None:
    result = account("drift", "manifests", "--format", "markdown", "--out", "drift.json")
    assert result.exit_code == 2
    written = json.loads(Path("drift.json").read_text())
    jsonschema.validate(written, shipped_schema("drift"))
    assert result.stdout.startswith("<!-- reconciler-drift -->")


def test_schema_document_prints_the_shipped_schema() -> None:
    for command in documents.DOCUMENTS:
        shown = CliRunner().invoke(cli, ["schema", "--document", command])
        assert shown.exit_code == 0
        assert shown.stdout == (SHIPPED / f"{command}.schema.json").read_text()
    manifest = CliRunner().invoke(cli, ["schema"])  # without it: the manifest format, as before
    assert json.loads(manifest.stdout)["title"] == "reconciler manifest"
