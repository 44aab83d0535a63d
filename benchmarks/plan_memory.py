"""Peak memory of `reconciler plan` over 2000 workers with 100 KiB scripts (and 100 secrets).

The account is first brought in line with the manifests; then `plan` runs as a fresh
process, cold (empty read cache: the list, then every worker's settings; the code tags
vouch for the code) and warm (cache), and its peak resident set size is read from the
kernel (wait4 rusage, ru_maxrss). The apply that seeded the account is measured the same
way. The target (issue 12): a plan under 150 MiB at 2000 x 100 KiB. Writes nothing into
the repository.

    .venv/bin/python benchmarks/plan_memory.py [--quick] [--workers N] [--kib N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    ServedEmulator,
    api_calls,
    cli_env,
    emulator_config,
    served_emulator,
    table,
    write_manifests,
)

SECRETS = 100
TARGET_MIB = 150
UNLIMITED = ["--rate-limit", "1000000"]


def peak_rss(args: list[str], cwd: Path, emu: ServedEmulator) -> tuple[int, float, float]:
    """Exit code, peak RSS in MiB, and wall seconds of `python -m reconciler ARGS`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=cli_env(emu),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB.
    return proc.returncode, usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 workers")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--kib", type=int, default=100, help="script size in KiB")
    args = parser.parse_args()
    workers = 100 if args.quick else args.workers

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="plan-memory-") as tmp:
        work = Path(tmp)
        manifests = write_manifests(
            work / "manifests", workers=workers, secrets=SECRETS, script_bytes=args.kib * 1024
        )
        with served_emulator(work / "emulator", emulator_config()) as emu:
            runs = [
                # The emulator has no limit here; the client's own budget is lifted to match.
                ("apply (seed)", ["apply", str(manifests), "--auto-approve", *UNLIMITED], False),
                ("plan, cold", ["plan", str(manifests), "--detailed-exitcode"], True),
                ("plan, warm", ["plan", str(manifests), "--detailed-exitcode"], False),
            ]
            for label, argv, cold in runs:
                if cold:
                    shutil.rmtree(work / ".reconciler" / "cache", ignore_errors=True)
                emu.clear_requests()
                code, mib, seconds = peak_rss(argv, work, emu)
                if code != 0:
                    raise SystemExit(f"{label} exited {code}")
                calls = api_calls(emu.requests())
                rows.append([label, workers, args.kib, calls, f"{seconds:.2f}", f"{mib:.0f}"])
                print(
                    f"{label}: {workers} workers x {args.kib} KiB: peak RSS {mib:.0f} MiB "
                    f"(target < {TARGET_MIB}), {calls} calls, {seconds:.2f} s",
                    flush=True,
                )
    print()
    print(
        table(
            ["run", "workers", "script KiB", "API calls", "wall time (s)", "peak RSS (MiB)"], rows
        )
    )


if __name__ == "__main__":
    main()
