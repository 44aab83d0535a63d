"""`reconciler validate` and `reconciler schema` through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from tests.checkout import LOCAL_STATE
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
    shutil.copytree(REPO / "manifests", tmp_path / "manifests", ignore=LOCAL_STATE)
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Valid:")


def test_an_unset_env_value_is_a_located_warning_not_an_error(write: Write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: `validate` said Valid where plan then reported missing_value. It stays exit 0
    (a PR job often validates without the secrets) but says so, with the location."""
    monkeypatch.delenv("NOT_SET_IN_THIS_JOB", raising=False)
    write(
        "m.yaml",
        """
        stores: [{name: prod}]
        secrets:
          - {name: K, store: prod, value_from: {env: NOT_SET_IN_THIS_JOB}, scopes: [workers]}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: m.yaml:3:40: the environment variable NOT_SET_IN_THIS_JOB is not set here; "
        "plan and apply report missing_value unless it is set when they run"
    ]
    assert (
        result.stdout.strip() == "Valid: 1 store, 1 secret, 0 workers in 1 file (1 warning above)."
    )
    monkeypatch.setenv("NOT_SET_IN_THIS_JOB", "v")
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.stderr == "" and "warning" not in result.stdout


def test_a_bad_worker_name_does_not_hide_its_missing_script(write: Write) -> None:
    write(
        "m.yaml",
        """
        workers:
          - {name: Bad_Name, script: missing.js, modules: [gone.js]}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "m.yaml:2:12: a worker name is lowercase a-z, 0-9 and '-', not starting or ending with "
        "'-', at most 63 characters; got 'Bad_Name'",
        "m.yaml:2:30: script file missing.js does not exist",
        "m.yaml:2:52: module file gone.js does not exist",
        "Error: 3 problems in the manifests",
    ]


def test_a_bad_secret_name_does_not_hide_its_missing_value_file(write: Write) -> None:
    write(
        "m.yaml",
        """
        stores: [{name: prod}]
        secrets:
          - {name: a.b, store: prod, value_from: {file: nope.txt}, scopes: [workers]}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "m.yaml:3:12: a name is letters, digits, '_' and '-' (no spaces), not empty; got 'a.b'",
        "m.yaml:3:42: value_from: the file nope.txt does not exist",
    ]


def test_a_tab_indent_is_named(write: Write) -> None:
    write("m.yaml", "stores:\n\t- name: x\n")
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("m.yaml:2:1: malformed YAML: ")
    assert "line 2 is indented with a tab; YAML indents with spaces only: replace the tab" in first


@pytest.mark.parametrize(
    "name",
    [
        "dot.name",
        "per%cent",
        "ümlaut",
        "\uff46\uff55\uff4c\uff4c",
        "tab\tname",
        "new\nline",
        "\u0663",
    ],
)
def test_the_secrets_store_name_rule_with_its_location(write: Write, name: str) -> None:
    """Issue 13: names are ^[A-Za-z0-9_-]+$ (ASCII); '.' and '%' are invalid_secret_name."""
    write(
        "m.yaml",
        f"stores: [{{name: prod}}]\nsecrets:\n  - name: {json.dumps(name)}\n"
        "    store: prod\n    value_from: {env: X}\n    scopes: [workers]\n",
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("m.yaml:3:11: a name is letters, digits")


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("\uff12\uff10\uff12\uff15-01-01", "compatibility_date is a date written YYYY-MM-DD"),
        (
            "\u0662\u0660\u0662\u0665-\u0660\u0661-\u0660\u0661",
            "compatibility_date is a date written YYYY-MM-DD",
        ),
        ("2025-02-30", "compatibility_date '2025-02-30' is not a calendar date"),
    ],
)
def test_compatibility_date_is_ascii_and_real(write: Write, date: str, message: str) -> None:
    write("w.js", "export default {}\n")
    write("m.yaml", f'workers: [{{name: w, script: w.js, compatibility_date: "{date}"}}]\n')
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()[0]


def test_a_secret_text_binding_takes_a_value_source_like_a_secret(write: Write) -> None:
    write("w.js", "export default {}\n")
    write("key.txt", "worker-secret-value\n")
    write(
        "m.yaml",
        """
        workers:
          - name: api
            script: w.js
            bindings:
              - {type: secret_text, name: FROM_FILE, value_from: {file: key.txt}}
              - {type: secret_text, name: FROM_ENV, value_from: {env: RECON_UNSET_WORKER_VAR}}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 0, result.output
    assert "RECON_UNSET_WORKER_VAR is not set" in result.output
    assert "worker-secret-value" not in result.output


def test_a_bad_worker_does_not_hide_its_secret_texts_missing_file(write: Write) -> None:
    write(
        "m.yaml",
        """
        workers:
          - name: Bad_Name
            script: missing.js
            bindings:
              - {type: secret_text, name: K, value_from: {file: nope.txt}}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert any(
        line.endswith("value_from: the file nope.txt does not exist")
        for line in result.stderr.splitlines()
    ), result.stderr


def test_a_literal_secret_text_is_refused(write: Write) -> None:
    write("w.js", "export default {}\n")
    write(
        "m.yaml",
        """
        workers:
          - {name: api, script: w.js, bindings: [{type: secret_text, name: K, text: s3cr3t-lit}]}
        """,
    )
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.exit_code == 1
    assert "takes no literal `text:`" in result.stderr
    assert "s3cr3t-lit" not in result.output
