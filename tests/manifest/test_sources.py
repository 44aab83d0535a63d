"""The resolver interface and the program runner: once per run, concurrent, bounded, masked."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from reconciler.errors import ManifestError, ValueSourceError
from reconciler.manifest.merge import load_manifests, resolve_all
from reconciler.manifest.sources.command import CommandSource
from reconciler.manifest.sources.program import run_program, stderr_excerpt
from reconciler.values import Resolution, ValueSource

PY = sys.executable


def _run(code: str, *, timeout_s: float = 20.0, max_output: int = 1000) -> bytes:
    return run_program(
        [PY, "-c", code],
        what="command `t`",
        timeout_s=timeout_s,
        max_output=max_output,
        masks=frozenset(),
    )


def test_a_program_runs_without_a_shell() -> None:
    out = run_program(
        ["echo", "$HOME; rm -rf /"], what="c", timeout_s=20, max_output=100, masks=frozenset()
    )
    assert out == b"$HOME; rm -rf /\n"


def test_a_program_past_its_deadline_is_stopped() -> None:
    start = time.monotonic()
    with pytest.raises(ValueSourceError, match=r"did not finish within 1 s and was stopped"):
        _run("import time; time.sleep(60)", timeout_s=1)
    assert time.monotonic() - start < 30


def test_endless_output_is_cut_at_the_cap() -> None:
    """`yes` never ends: the reader stops it past the cap instead of buffering forever."""
    with pytest.raises(ValueSourceError, match=r"printed more than 1,000 bytes"):
        run_program(["yes"], what="c", timeout_s=20, max_output=1000, masks=frozenset())


def test_a_missing_program_is_one_sentence() -> None:
    with pytest.raises(ValueSourceError, match=r"program 'no-such-program-x' not found on PATH"):
        run_program(["no-such-program-x"], what="c", timeout_s=5, max_output=10, masks=frozenset())


def test_stderr_is_cut_and_masked() -> None:
    raw = "\n".join(
        ["first: what failed", *(f"noise {i}" for i in range(20)), "last: hunter2 x" * 30]
    )
    text = stderr_excerpt(raw.encode(), frozenset({"hunter2"}))
    assert text.startswith("first: what failed | … | noise 19 | last: *** x")
    assert "hunter2" not in text and "noise 3 " not in text
    assert len(text) < 500


def test_a_failing_program_masks_its_own_stdout_in_stderr() -> None:
    with pytest.raises(ValueSourceError) as info:
        _run(
            "import sys; print('s3cr3t-v'); sys.stderr.write('bad token s3cr3t-v\\n'); sys.exit(2)"
        )
    assert str(info.value) == "the command `t` failed with exit code 2: bad token ***"


def test_each_source_loads_once_per_run_and_loads_run_concurrently(tmp_path: Path) -> None:
    """Four commands that each wait for all four to have started: they finish only if the
    resolution runs them at the same time (a deadline in each keeps a failure short)."""
    script = (
        "import pathlib, sys, time\n"
        "d = pathlib.Path(sys.argv[1]); (d / sys.argv[2]).touch()\n"
        "end = time.monotonic() + 20\n"
        "while len(list(d.iterdir())) < 4 and time.monotonic() < end: time.sleep(0.02)\n"
        "print('ok' if len(list(d.iterdir())) >= 4 else 'alone', sys.argv[2])\n"
    )
    (tmp_path / "w.py").write_text(script)
    (tmp_path / "started").mkdir()
    resolution = Resolution()
    sources = [
        CommandSource((PY, str(tmp_path / "w.py"), str(tmp_path / "started"), str(i)), "m.yaml:1:1")
        for i in range(4)
    ]
    resolution.prefetch([*sources, *sources])
    assert resolution.loads == 4
    for i, source in enumerate(sources):
        value = ValueSource(external=source, resolution=resolution).read()
        assert value == f"ok {i}"
    assert resolution.loads == 4  # read() used what the prefetch loaded


def test_command_values_follow_the_value_rules(tmp_path: Path) -> None:
    resolution = Resolution()
    empty = CommandSource((PY, "-c", "print()"), "m.yaml:3:5")
    with pytest.raises(ValueSourceError, match=r"command .* \(m.yaml:3:5\) is empty"):
        ValueSource(external=empty, resolution=resolution).read()
    big = CommandSource((PY, "-c", "print('x' * 70000)"), "m.yaml:4:5")
    with pytest.raises(ValueSourceError, match=r"printed more than 65,538 bytes"):
        ValueSource(external=big, resolution=resolution).read()


def test_validate_offline_checks_shape_and_resolves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / "m.yaml").write_text(
        "stores: [{name: s}]\nsecrets:\n"
        f"  - {{name: A, store: s, scopes: [workers], value_from: {{command: [touch, {marker}]}}}}\n"
        "  - {name: B, store: s, scopes: [workers], value_from: {aws_secretsmanager: {key: k}}}\n"
        "  - {name: C, store: s, scopes: [workers], value_from: {sops: {file: x.enc.txt, key: k}}}\n"
        "  - {name: D, store: s, scopes: [workers], value_from: {command: []}}\n"
        "  - {name: E, store: s, scopes: [workers], value_from: {env: X, command: [a]}}\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifests(["m.yaml"], allow_commands=True)
    problems = [str(p) for p in info.value.problems]
    assert any(
        p.startswith("m.yaml:4:") and "missing required key 'secret_id'" in p for p in problems
    ), problems
    assert any(p.startswith("m.yaml:5:") and "x.enc.txt does not exist" in p for p in problems), (
        problems
    )
    assert any(
        p.startswith("m.yaml:5:") and "is not .yaml, .json or .env" in p for p in problems
    ), problems
    assert any(p.startswith("m.yaml:6:") and "at least 1 item" in p for p in problems), problems
    assert any(p.startswith("m.yaml:7:") and "exactly one of" in p for p in problems), problems
    assert not marker.exists()


def test_validate_resolve_reports_each_failure_with_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSET_FOR_RESOLVE", raising=False)
    (tmp_path / "m.yaml").write_text(
        "stores: [{name: s}]\nsecrets:\n"
        "  - {name: A, store: s, scopes: [workers], value_from: {env: UNSET_FOR_RESOLVE}}\n"
        f"  - {{name: B, store: s, scopes: [workers], value_from: {{command: [{PY}, -c, 'exit(3)']}}}}\n"
        "  - {name: C, store: s, scopes: [workers], value_from: {command: [echo, fine]}}\n"
    )
    manifests = load_manifests(["m.yaml"], allow_commands=True)
    assert [str(p) for p in manifests.warnings] == [
        "m.yaml:3:56: the environment variable UNSET_FOR_RESOLVE is not set here; plan and apply "
        "report missing_value unless it is set when they run"
    ]
    problems = [str(p) for p in resolve_all(manifests)]
    assert problems == [
        "m.yaml:3:56: value_from: the environment variable UNSET_FOR_RESOLVE is not set; export it "
        "before running reconciler",
        f"m.yaml:4:56: value_from: the command `{PY} -c 'exit(3)'` (m.yaml:4:56) failed with exit code 3",
    ]
