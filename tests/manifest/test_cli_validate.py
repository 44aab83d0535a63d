"""`reconciler validate` and `reconciler schema` through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import cli
from tests.manifest.conftest import Write

REPO = Path(__file__).resolve().parents[2]


def test_default_manifests_are_valid(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Valid: 1 store, 2 secrets, 2 workers in 2 files."


def test_broken_manifest_exits_1_with_one_line_per_problem(write: Write) -> None:
    write("w.js", "export default {}\n")
    write(
        "m.yaml",
        """
        stores: [{name: prod}]
        secrets:
          - {name: K, store: nope, value_from: {env: K}, scopes: [workers]}
        workers:
          - {name: BAD NAME, script: w.js}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "m.yaml:5:12: a worker name is lowercase a-z, 0-9 and '-', not starting or ending with "
        "'-', at most 63 characters; 'BAD NAME' contains a space",
        "m.yaml:3:22: store 'nope' is not declared; add it under `stores:`",
        "Error: 2 problems in the manifests",
    ]


def test_secret_values_never_reach_validate_output(write: Write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    value = "TOPSECRET-" + "z" * 70_000
    monkeypatch.setenv("HUGE", value)
    write("v.txt", "TOPSECRET-file-value\n")
    write(
        "m.yaml",
        """
        stores: [{name: prod}]
        secrets:
          - {name: A, store: prod, value_from: {env: HUGE}, scopes: [workers]}
          - {name: B, store: prod, value_from: {file: v.txt}, scopes: [wrong]}
          - {name: C, store: prod, value: TOPSECRET-literal, scopes: [workers]}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert "TOPSECRET" not in result.output
    assert len(result.output.strip().splitlines()) == 4


def test_schema_is_json_schema_of_the_format() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema["properties"]) == {"account_id", "stores", "secrets", "workers"}
    assert schema["additionalProperties"] is False


def test_committed_schema_file_is_in_sync() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert (REPO / "manifests" / "schema.json").read_text() == result.output


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Valid:")
