"""No-change plan over 10, 100 and 500 workers plus 100 secrets, through a served emulator.

For each size the account is first brought in line with the manifests (apply at 0 ms),
then `reconciler plan` runs as a user runs it (a fresh process each time):
cold (empty `.reconciler/cache`) and warm (cache from the previous run), at 0 and 50 ms
of injected latency per request, each row `--repeat` times (default 5: single runs on this
machine vary by about 0.15 s). Prints API calls and the median and fastest wall time;
writes nothing into the repository.

    .venv/bin/python benchmarks/plan_scaling.py [--quick] [--concurrency N] [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    CliRun,
    ServedEmulator,
    api_calls,
    cli_env,
    emulator_config,
    run_cli,
    served_emulator,
    table,
    write_manifests,
)

SECRETS = 100
LATENCIES_MS = (0, 50)
NO_LIMIT = {"requests": 1_000_000, "window_s": 300.0}


def startup_seconds(cwd: Path) -> float:
    """Interpreter start plus imports: the floor under every CLI wall time."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run = run_cli(["--version"], cwd=cwd, env={"PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr
        best = min(best, time.perf_counter() - start)
    return best


def measured_plan(
    emu: ServedEmulator, manifests: Path, cwd: Path, *, cold: bool, extra: list[str]
) -> tuple[CliRun, int]:
    if cold:
        shutil.rmtree(cwd / ".reconciler" / "cache", ignore_errors=True)
    emu.clear_requests()
    run = run_cli(
        ["plan", str(manifests), "--detailed-exitcode", *extra], cwd=cwd, env=cli_env(emu)
    )
    if run.returncode != 0:
        raise SystemExit(f"plan was not a no-change plan (exit {run.returncode}):\n{run.stderr}")
    return run, api_calls(emu.requests())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 workers only")
    parser.add_argument("--concurrency", type=int, help="passed to plan (default: the CLI's)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per row; the median and fastest are shown"
    )
    args = parser.parse_args()
    sizes = (10, 100) if args.quick else (10, 100, 500)
    extra = ["--concurrency", str(args.concurrency)] if args.concurrency else []

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="plan-scaling-") as tmp:
        base = Path(tmp)
        print(f"CLI start-up (python -m reconciler --version): {startup_seconds(base):.2f} s")
        for workers in sizes:
            work = base / f"w{workers}"
            manifests = write_manifests(work / "manifests", workers=workers, secrets=SECRETS)
            with served_emulator(work / "emulator", emulator_config()) as emu:
                seed = run_cli(
                    ["apply", str(manifests), "--auto-approve"], cwd=work, env=cli_env(emu)
                )
                if seed.returncode != 0:
                    raise SystemExit(f"seeding apply failed:\n{seed.stderr}")
                for latency in LATENCIES_MS:
                    # The server's limit stays lifted (setting faults replaces them all):
                    # repeated cold reads of one token would otherwise wait for its window.
                    emu.set_faults(latency_ms=latency, rate_limit=NO_LIMIT)
                    for cold in (True, False):
                        seconds, counts = [], set()
                        for _ in range(args.repeat):
                            run, calls = measured_plan(emu, manifests, work, cold=cold, extra=extra)
                            seconds.append(run.seconds)
                            counts.add(calls)
                        (calls,) = counts  # every run of a row makes the same calls
                        label = "cold" if cold else "warm"
                        median = statistics.median(seconds)
                        fastest = f"{min(seconds):.2f}"
                        rows.append(
                            [workers, SECRETS, latency, label, calls, f"{median:.2f}", fastest]
                        )
                        print(
                            f"{workers:4d} workers, {SECRETS} secrets, {latency:2d} ms, {label}: "
                            f"{calls:5d} API calls, median {median:6.2f} s of {args.repeat}",
                            flush=True,
                        )
    print()
    print(
        table(
            [
                *("workers", "secrets", "latency (ms)", "cache", "API calls"),
                *(f"wall time, median of {args.repeat} (s)", "fastest (s)"),
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
