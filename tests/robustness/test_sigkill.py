"""Real process kills: `reconciler apply` SIGKILLed at seeded random moments during a
100-resource apply (and during a rotation of 25 values), against an emulator served in its
own process. After each kill the account holds no duplicate; a final rerun converges, no
declared secret is missing, and a plan afterwards shows no changes.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks._common import ServedEmulator, cli_env, run_cli, write_manifests

from .conftest import EmulatorFactory

WORKERS, SECRETS = 50, 49  # + 1 store = 100 resources
KILLS = 4
SEED = 8  # the kill points are seeded


def start_apply(emu: ServedEmulator, manifests: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(manifests), "--auto-approve"],
        cwd=cwd,
        env=cli_env(emu),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_no_duplicates(emu: ServedEmulator) -> dict[str, int]:
    state = emu.state()
    assert len(state["stores"]) <= 1, state["stores"]
    secrets = Counter(s["name"] for s in state["secrets"])
    scripts = Counter(s["id"] for s in state["scripts"])
    assert all(n == 1 for n in secrets.values()), secrets
    assert all(n == 1 for n in scripts.values()), scripts
    return {"secrets": len(secrets), "scripts": len(scripts)}


def writes(emu: ServedEmulator) -> int:
    return sum(1 for r in emu.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE"))


def kill_at_random(
    emu: ServedEmulator, manifests: Path, cwd: Path, rng: random.Random, expected_writes: int
) -> list[dict[str, int]]:
    """Start apply and SIGKILL it once it has sent a random number of writes, KILLS times.

    Returns the resource counts after each kill.
    """
    seen = []
    for _ in range(KILLS):
        target = rng.randint(1, expected_writes - 1)
        emu.clear_requests()
        process = start_apply(emu, manifests, cwd)
        deadline = time.monotonic() + 30
        while process.poll() is None and writes(emu) < target and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        seen.append(assert_no_duplicates(emu))
    return seen


def converge(emu: ServedEmulator, manifests: Path, cwd: Path) -> None:
    final = run_cli(["apply", str(manifests), "--auto-approve"], cwd=cwd, env=cli_env(emu))
    assert final.returncode == 0, final.stderr[-3000:]
    check = run_cli(["plan", str(manifests), "--detailed-exitcode"], cwd=cwd, env=cli_env(emu))
    assert check.returncode == 0, f"not converged:\n{check.stdout[-3000:]}"
    state = emu.state()
    assert {s["name"] for s in state["secrets"]} == {f"SECRET_{i:04d}" for i in range(SECRETS)}
    assert {s["id"] for s in state["scripts"]} == {f"bench-worker-{i:04d}" for i in range(WORKERS)}
    assert len(state["stores"]) == 1
    assert_no_duplicates(emu)


def test_sigkill_during_apply_then_rerun_converges(
    emulator_process: EmulatorFactory, workdir: Path
) -> None:
    rng = random.Random(SEED)
    emu = emulator_process(latency_ms=5)  # so a kill can land between two calls
    manifests = write_manifests(workdir / "manifests", workers=WORKERS, secrets=SECRETS)

    # The first kill lands in a fresh apply: 1 store + 49 secrets + 50 workers = 100 writes.
    counts = kill_at_random(emu, manifests, workdir, rng, expected_writes=100)
    assert 0 < counts[0]["secrets"] + counts[0]["scripts"] < SECRETS + WORKERS, counts
    converge(emu, manifests, workdir)

    # Rotate 25 values (delete then recreate each) and kill in the middle of that too.
    write_manifests(workdir / "manifests", workers=WORKERS, secrets=SECRETS, rotate=25)
    changed = run_cli(
        ["plan", str(manifests), "--detailed-exitcode"], cwd=workdir, env=cli_env(emu)
    )
    assert changed.returncode == 2, "the rotation should be a change"
    # 25 deletes and 25 creates: a kill between the two leaves a secret absent for now.
    kill_at_random(emu, manifests, workdir, rng, expected_writes=50)
    converge(emu, manifests, workdir)
