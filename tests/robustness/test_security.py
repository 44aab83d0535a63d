"""Security: no secret value or token anywhere a run writes; value_from stays inside the
manifest directory; plain http only to loopback; private files are owner-only.

The sentinel values and token are distinctive strings; every check looks for them (and
their base64 and hex forms) in stdout, stderr, exception text and every file a run wrote,
`.reconciler/local.db` included: the emulator keeps only a salted digest of each value, so
no exclusion is needed. Inputs (the manifests' value files) are not scanned.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from benchmarks._common import cli_env, run_cli
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import Backoff, ClientConfig, check_base_url
from reconciler.emulator.config import DEFAULT_ACCOUNT_ID
from reconciler.errors import ConfigError, ManifestError, ReconcilerError
from reconciler.manifest.merge import load_manifests
from reconciler.plan.model import PlanOptions
from reconciler.workflow import Connection, Session

from .conftest import EmulatorFactory

TOKEN = "tok-SENTINEL-7f3a9c1e5b2d4680"
VALUES = [f"val-SENTINEL-{i}-c0ffee{i}d15ea5e" for i in range(4)]
ROTATED = "val-SENTINEL-rotated-0ddba11fee"
ENV_VALUE = "val-SENTINEL-env-5ca1ab1e"
# Worker script secrets (secret_text): one from a file, one from the environment.
WORKER_VALUE = "val-SENTINEL-worker-file-b01dface"
WORKER_ENV_VALUE = "val-SENTINEL-worker-env-deadbea7"
WORKER_ROTATED = "val-SENTINEL-worker-rotated-feedf00d"
SENTINELS = [TOKEN, *VALUES, ROTATED, ENV_VALUE, WORKER_VALUE, WORKER_ENV_VALUE, WORKER_ROTATED]


def _forms(sentinel: str) -> list[bytes]:
    raw = sentinel.encode()
    return [raw, base64.b64encode(raw), raw.hex().encode()]


def assert_clean(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    for sentinel in SENTINELS:
        for form in _forms(sentinel):
            assert form not in data, f"a secret value or the token leaked into {where}"


def write_manifest_set(root: Path) -> Path:
    manifests = root / "manifests"
    (manifests / "values").mkdir(parents=True)
    (manifests / "workers").mkdir()
    secrets = []
    for i, value in enumerate(VALUES):
        (manifests / "values" / f"v{i}.txt").write_text(value + "\n")
        secrets.append(
            {
                "name": f"KEY_{i}",
                "store": "main",
                "value_from": {"file": f"values/v{i}.txt"},
                "scopes": ["workers"],
                "comment": f"key {i}",
            }
        )
    secrets.append(
        {"name": "FROM_ENV", "store": "main", "value_from": {"env": "SENTINEL_ENV_VALUE"},
         "scopes": ["workers"]}
    )  # fmt: skip
    (manifests / "values" / "worker.txt").write_text(WORKER_VALUE + "\n")
    (manifests / "workers" / "api.js").write_text(
        "export default { async fetch(r, env) { return new Response('ok'); } };\n"
    )
    doc = {
        "stores": [{"name": "main"}],
        "secrets": secrets,
        "workers": [
            {
                "name": "api",
                "script": "workers/api.js",
                "compatibility_date": "2025-01-01",
                "bindings": [
                    {
                        "type": "secrets_store_secret",
                        "name": "KEY",
                        "store": "main",
                        "secret": "KEY_0",
                    },
                    {"type": "plain_text", "name": "MODE", "text": "prod"},
                    {
                        "type": "secret_text",
                        "name": "API_TOKEN",
                        "value_from": {"file": "values/worker.txt"},
                    },
                    {
                        "type": "secret_text",
                        "name": "WEBHOOK",
                        "value_from": {"env": "SENTINEL_WORKER_ENV"},
                    },
                ],
            }
        ],
    }
    (manifests / "main.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return manifests


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def scan_written(root: Path, inputs: dict[str, bytes]) -> list[str]:
    """Every file under `root` a run created or changed; returns their relative paths."""
    scanned = []
    for rel, data in snapshot(root).items():
        if inputs.get(rel) == data:
            continue
        if rel.startswith("manifests/values/"):  # the test's own inputs (value files)
            continue
        assert_clean(data, f"file {rel}")
        scanned.append(rel)
    return scanned


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_full_run_writes_no_value_or_token(
    emulator_process: EmulatorFactory, workdir: Path
) -> None:
    emu = emulator_process(token=TOKEN)
    manifests = write_manifest_set(workdir)
    inputs = snapshot(workdir)
    env = cli_env(
        emu,
        CLOUDFLARE_API_TOKEN=TOKEN,
        SENTINEL_ENV_VALUE=ENV_VALUE,
        SENTINEL_WORKER_ENV=WORKER_ENV_VALUE,
    )
    outputs: list[tuple[list[str], int]] = []

    def run(*args: str, expect: int | None = 0, drop: str = "") -> None:
        run_env = {k: v for k, v in env.items() if k != drop}
        result = run_cli(list(args), cwd=workdir, env=run_env, timeout_s=120)
        assert_clean(result.stdout, f"stdout of {args}")
        assert_clean(result.stderr, f"stderr of {args}")
        if expect is not None:
            assert result.returncode == expect, (args, result.stdout, result.stderr)
        outputs.append((list(args), result.returncode))

    run("validate", "manifests")
    run("plan", "manifests", "-vv", "--out", "plan.json")
    run("apply", "manifests", "--plan", "plan.json", "--auto-approve", "-vv")
    for fmt in ("text", "json", "markdown"):
        run("plan", "manifests", "-vv", "--format", fmt, "--detailed-exitcode")
        run("drift", "manifests", "-vv", "--format", fmt)
    # A value change, written with the PATCH strategy (the API refuses it; falls back).
    (manifests / "values" / "v1.txt").write_text(ROTATED + "\n")
    (manifests / "values" / "worker.txt").write_text(WORKER_ROTATED + "\n")
    run("plan", "manifests", "-vv", "--format", "json", "--out", "rotate.json", expect=None)
    run("apply", "manifests", "--auto-approve", "-vv", "--secret-update", "patch")
    run("apply", "manifests", "--auto-approve", "-vv", "--replace", "KEY_2")
    # Failures must not leak either: every API call fails, and a bad value source.
    emu.set_faults(error_rate=1.0, seed=7)
    (manifests / "values" / "v3.txt").write_text(ROTATED + "-again\n")
    run("apply", "manifests", "--auto-approve", "-vv", "--concurrency", "2", expect=1)
    emu.set_faults(error_rate=0.0)
    # Then the apply that finishes it; then one whose env value is missing (a conflict).
    run("apply", "manifests", "--auto-approve", "-vv")
    run("apply", "manifests", "--auto-approve", "-vv", expect=3, drop="SENTINEL_ENV_VALUE")
    run("export", "-vv", expect=None)

    state = emu.state()
    assert {s["name"] for s in state["secrets"]} == {"KEY_0", "KEY_1", "KEY_2", "KEY_3",
                                                     "FROM_ENV"}  # fmt: skip
    (api,) = state["scripts"]
    worker_secrets = {b["name"] for b in api["settings"]["bindings"] if b["type"] == "secret_text"}
    assert worker_secrets == {"API_TOKEN", "WEBHOOK"}
    assert_clean(json.dumps(state), "the emulator's state dump")
    scanned = scan_written(workdir, inputs)
    assert "plan.json" in scanned and "rotate.json" in scanned
    cache_files = list((workdir / ".reconciler" / "cache").iterdir())
    assert cache_files, "the run should have written its cache"
    assert all(str(p.relative_to(workdir)) in scanned for p in cache_files)


def test_local_mode_files_are_private_and_hold_no_values(workdir: Path) -> None:
    write_manifest_set(workdir)
    inputs = snapshot(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RECONCILER_"))}
    env["SENTINEL_ENV_VALUE"] = ENV_VALUE
    env["SENTINEL_WORKER_ENV"] = WORKER_ENV_VALUE
    for args in (
        ["apply", "manifests", "--local", "--auto-approve", "-vv"],
        ["plan", "manifests", "--local", "-vv", "--out", "plan.json", "--detailed-exitcode"],
        ["drift", "manifests", "--local", "-vv", "--format", "json"],
        ["drift", "manifests", "--local", "-vv", "--format", "markdown"],
    ):
        result = run_cli(args, cwd=workdir, env=env, timeout_s=120)
        assert result.returncode == 0, (args, result.stderr)
        assert_clean(result.stdout + result.stderr, f"output of {args}")
    scanned = scan_written(workdir, inputs)
    # --local keeps its state beside the manifests.
    assert "manifests/.reconciler/local.db" in scanned and "plan.json" in scanned

    private = workdir / "manifests" / ".reconciler"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for path in [private / "local.db", private / "local-fingerprint.key"]:
        assert path.exists() and owner_only(path), f"{path.name} is readable by others"
    cache = private / "cache"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = list(cache.iterdir())
    assert files and all(owner_only(p) for p in files)


def test_exceptions_carry_no_values(emulator_process: EmulatorFactory, workdir: Path) -> None:
    """In process, with every write failing: the errors and the report never show a value."""
    emu = emulator_process(token=TOKEN)
    manifests = write_manifest_set(workdir)
    os.environ["SENTINEL_ENV_VALUE"] = ENV_VALUE
    os.environ["SENTINEL_WORKER_ENV"] = WORKER_ENV_VALUE
    try:
        loaded = load_manifests([str(manifests)])

        async def attempt() -> list[str]:
            config = ClientConfig(
                token=TOKEN, base_url=emu.base_url, max_retries=1, backoff=Backoff(base_s=0.01)
            )
            async with CloudflareClient(config) as client:
                session = Session(client, DEFAULT_ACCOUNT_ID, Connection())
                plan, live = await session.plan(loaded, PlanOptions())
                emu.set_faults(error_rate=1.0, seed=3)
                report = await session.apply(plan, loaded, live, secret_update="replace")
                texts = [repr(config), repr(client.config)]
                for outcome in report.outcomes:
                    if outcome.error is not None:
                        texts += [str(outcome.error), repr(outcome.error)]
                return texts

        texts = asyncio.run(attempt())
    finally:
        del os.environ["SENTINEL_ENV_VALUE"]
        del os.environ["SENTINEL_WORKER_ENV"]
    assert any("failed" in t for t in texts)
    for text in texts:
        assert_clean(text, "an exception message")


def test_a_literal_value_in_a_manifest_is_refused_without_echoing_it(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        yaml.safe_dump(
            {
                "stores": [{"name": "main"}],
                "secrets": [
                    {"name": "K", "store": "main", "value": VALUES[0], "scopes": ["workers"]}
                ],
            }
        )
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(tmp_path)])
    assert "literal `value:` is not allowed" in str(caught.value)
    assert_clean(str(caught.value), "the manifest error")
    (tmp_path / "w.yaml").write_text(
        yaml.safe_dump(
            {
                "workers": [
                    {
                        "name": "api",
                        "script": "api.js",
                        "bindings": [{"type": "secret_text", "name": "K", "text": VALUES[1]}],
                    }
                ]
            }
        )
    )
    (tmp_path / "api.js").write_text("export default {};\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(tmp_path)])
    assert "takes no literal `text:`" in str(caught.value)
    assert_clean(str(caught.value), "the manifest error")
    result = run_cli(["validate", str(tmp_path)], cwd=tmp_path, env=dict(os.environ))
    assert result.returncode == 1
    assert_clean(result.stdout + result.stderr, "validate output")


# --- value_from files stay inside the manifest directory ---------------------------------


def _secret_manifest(root: Path, file: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    doc = {
        "stores": [{"name": "main"}],
        "secrets": [
            {"name": "K", "store": "main", "value_from": {"file": file}, "scopes": ["workers"]}
        ],
    }
    (root / "m.yaml").write_text(yaml.safe_dump(doc))
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside.txt"
    secret.write_text(VALUES[0] + "\n")
    return secret


def test_dotdot_is_refused_by_default(tmp_path: Path, outside: Path) -> None:
    manifests = _secret_manifest(tmp_path / "m", "../outside.txt")
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(manifests)])
    assert "leaves the manifest's directory" in str(caught.value)
    assert_clean(str(caught.value), "the manifest error")
    allowed = load_manifests([str(manifests)], allow_outside_files=True)
    secret = allowed.state.secrets[("main", "K")]
    assert secret.value_from is not None and secret.value_from.read() == VALUES[0]


def test_absolute_path_is_refused_by_default(tmp_path: Path, outside: Path) -> None:
    manifests = _secret_manifest(tmp_path / "m", str(outside))
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(manifests)])
    assert "leaves the manifest's directory" in str(caught.value)


@pytest.mark.parametrize("link_at", ["file", "directory"])
def test_symlinks_are_refused_by_default(tmp_path: Path, outside: Path, link_at: str) -> None:
    root = tmp_path / "m"
    root.mkdir()
    if link_at == "file":
        (root / "value.txt").symlink_to(outside)
        relative = "value.txt"
    else:
        (root / "linked").symlink_to(outside.parent, target_is_directory=True)
        relative = "linked/outside.txt"
    manifests = _secret_manifest(root, relative)
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(manifests)])
    assert "symbolic link" in str(caught.value)
    assert load_manifests([str(manifests)], allow_outside_files=True).state.secrets


def test_cli_refuses_outside_files_unless_allowed(tmp_path: Path, outside: Path) -> None:
    manifests = _secret_manifest(tmp_path / "m", "../outside.txt")
    env = dict(os.environ)
    refused = run_cli(["validate", str(manifests)], cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "--allow-outside-files" in refused.stderr
    allowed = run_cli(["validate", str(manifests), "--allow-outside-files"], cwd=tmp_path, env=env)
    assert allowed.returncode == 0, allowed.stderr


# --- plain http only to loopback ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.cloudflare.com/client/v4",
        "http://10.0.0.1:8787/client/v4",
        "http://localhost.example.com/client/v4",
        "http://127.0.0.1.example.com/client/v4",
        "http://[fe80::1]/client/v4",
        "ftp://127.0.0.1/client/v4",
        "127.0.0.1:8787/client/v4",
    ],
)
def test_insecure_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.cloudflare.com/client/v4",
        "http://127.0.0.1:8787/client/v4",
        "http://127.9.9.9/client/v4",
        "http://localhost:8787/client/v4",
        "http://[::1]:8787/client/v4",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    check_base_url(url)


def test_cli_refuses_plain_http_to_a_remote_host_before_any_request(workdir: Path) -> None:
    manifests = write_manifest_set(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update(
        CLOUDFLARE_API_TOKEN=TOKEN,
        CLOUDFLARE_ACCOUNT_ID=DEFAULT_ACCOUNT_ID,
        # TEST-NET-1: never routed, so a request attempt would hang until a timeout.
        CLOUDFLARE_API_BASE_URL="http://192.0.2.1/client/v4",
        SENTINEL_ENV_VALUE=ENV_VALUE,
    )
    result = run_cli(["plan", str(manifests), "-vv"], cwd=workdir, env=env, timeout_s=30)
    assert result.returncode == 1
    assert "refusing plain http://" in result.stderr
    assert result.seconds < 10
    assert_clean(result.stdout + result.stderr, "the refusal")


def test_config_repr_hides_the_token() -> None:
    config = ClientConfig(token=TOKEN)
    assert_clean(repr(config), "repr(ClientConfig)")
    with pytest.raises(ReconcilerError) as caught:
        ClientConfig(token=TOKEN, base_url="http://example.com/client/v4")
    assert_clean(str(caught.value), "the ConfigError")
