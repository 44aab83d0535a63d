"""The GitOps cycle back to back under the real rate limit: pull-request plan, merge apply of
one changed secret, drift; each job a fresh CLI process in its own directory (a fresh runner).

An account of 500 workers and 200 secrets (or `--workers`/`--secrets`) is set up with the
emulator's limit lifted (and the client's own budget lifted to match); then
the emulator enforces Cloudflare's limit (1200 requests / 300 s per token) at 100 ms
latency and the three jobs run one after another, as the example workflows do:

* cold: every job starts with an empty `.reconciler/cache` (no CI cache);
* cached: every job restores the cache the previous job saved (the recipes' CI cache; the
  first job restores the one a drift job left before the cycle).

Prints per job: API calls, wall time, limiter waits (the lines the CLI prints), 429 answers.

    .venv/bin/python benchmarks/gitops_cycle.py [--quick] [--workers N] [--secrets N] [--cold-only]

At 2000 workers the cold jobs are the figure that matters: each must fit the example
workflows' `timeout-minutes` (plan and drift 15, apply 30), printed beside each job.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    ServedEmulator,
    api_calls,
    cli_env,
    emulator_config,
    run_cli,
    served_emulator,
    table,
    write_manifests,
)

LIMIT, WINDOW_S, LATENCY_MS = 1200, 300.0, 100
CACHE = Path(".reconciler/cache")
# The example workflows' timeout-minutes per job (examples/github-actions/*.yml).
RECIPE_LIMIT_S = {"PR plan": 15 * 60, "merge apply": 30 * 60, "drift": 15 * 60}


def job(
    emu: ServedEmulator, name: str, args: list[str], cwd: Path, restore: Path | None
) -> list[object]:
    """One CI job in a fresh directory; `restore`: the job directory whose cache it restores."""
    cwd.mkdir(parents=True)
    if restore is not None and (restore / CACHE).exists():
        shutil.copytree(restore / CACHE, cwd / CACHE)
    emu.clear_requests()
    run = run_cli(args, cwd=cwd, env=cli_env(emu), timeout_s=3600)
    if run.returncode not in (0, 2):
        raise SystemExit(f"{name} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    log = emu.requests()
    waits = [line for line in run.stderr.splitlines() if line.startswith("waiting ")]
    n429 = sum(1 for r in log if r.get("status") == 429)
    limit = RECIPE_LIMIT_S.get(name)
    fits = "" if limit is None else ("yes" if run.seconds < limit else "**no**")
    print(f"  {name}: {api_calls(log)} calls, {run.seconds:.1f} s, waits {waits}, {n429} x 429")
    return [name, api_calls(log), f"{run.seconds:.1f}", len(waits), n429, fits]


def cycle(base: Path, workers: int, secrets: int, cached: bool) -> list[list[object]]:
    manifests = write_manifests(base / "repo", workers=workers, secrets=secrets)
    with served_emulator(base / "emulator", emulator_config(max_secrets=1000)) as emu:
        # No limit on the emulator yet: the client's own budget is lifted to match.
        setup_args = ["apply", str(manifests), "--auto-approve", "--rate-limit", "1000000"]
        setup = run_cli(setup_args, cwd=base, env=cli_env(emu), timeout_s=3600)
        if setup.returncode != 0:
            raise SystemExit(f"setup failed:\n{setup.stderr[-2000:]}")
        seed = base / "jobs" / "0-previous-drift"
        job(emu, "previous drift (not counted)", ["drift", str(manifests)], seed, None)
        emu.set_faults(rate_limit={"requests": LIMIT, "window_s": WINDOW_S}, latency_ms=LATENCY_MS)
        # The pull request changes one secret's value.
        write_manifests(manifests, workers=workers, secrets=secrets, rotate=1)
        jobs = base / "jobs"
        plan_dir, apply_dir, drift_dir = jobs / "1-plan", jobs / "2-apply", jobs / "3-drift"
        plan_args = ["plan", str(manifests), "--format", "markdown", "--out", "plan.json"]
        rows = [job(emu, "PR plan", plan_args, plan_dir, seed if cached else None)]
        # The apply job downloads the plan artifact; here it reads it where the plan job left it.
        apply_args = ["apply", str(manifests), "--plan", str(plan_dir / "plan.json")]
        rows.append(job(emu, "merge apply", apply_args, apply_dir, plan_dir if cached else None))
        drift_args = ["drift", str(manifests)]
        rows.append(job(emu, "drift", drift_args, drift_dir, apply_dir if cached else None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 workers, 20 secrets")
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--cold-only", action="store_true", help="skip the cached cycle")
    args = parser.parse_args()
    workers, secrets = (50, 20) if args.quick else (args.workers, args.secrets)
    out = []
    with tempfile.TemporaryDirectory(prefix="gitops-cycle-") as tmp:
        for cached in (False,) if args.cold_only else (True, False):
            label = "cache carried job to job" if cached else "cold (fresh directories)"
            print(label, flush=True)
            rows = cycle(Path(tmp) / ("cached" if cached else "cold"), workers, secrets, cached)
            total_calls = sum(int(str(r[1])) for r in rows)
            total_s = sum(float(str(r[2])) for r in rows)
            waits = sum(int(str(r[3])) for r in rows)
            n429 = sum(int(str(r[4])) for r in rows)
            out += [[label, *r] for r in rows]
            out.append([label, "**cycle**", total_calls, f"{total_s:.1f}", waits, n429, ""])
    print()
    print(
        f"{workers} workers + {secrets} secrets, {LATENCY_MS} ms latency, "
        f"limit {LIMIT} / {WINDOW_S:g} s, one token shared by the jobs"
    )
    headers = ["cache", "job", "API calls", "wall time (s)", "limiter waits", "429", "fits recipe"]
    print(table(headers, out))


if __name__ == "__main__":
    main()
