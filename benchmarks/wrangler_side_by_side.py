"""Side by side: one `reconciler apply` of 20 workers vs 20 sequential `wrangler deploy`
runs, against the same kind of served emulator (a fresh one each), new workers first, then
a redeploy with changed code. Prints API calls per worker and wall time, and the ratios.

Every reconciler figure says its cache state: "new" runs in a fresh directory (cold);
the redeploy runs twice, once in the directory of the run before it (warm: that apply's
read cache) and once, with the code changed again, in a fresh directory (cold, as a CI
runner without a cache). wrangler keeps no such cache.

The workers are identical for both tools: an ES module and one plain-text variable.
wrangler is the pinned copy in tests/wrangler (`npm ci --prefix tests/wrangler`).

    .venv/bin/python benchmarks/wrangler_side_by_side.py [--quick] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    WRANGLER,
    ServedEmulator,
    api_calls,
    cli_env,
    emulator_config,
    run_cli,
    run_wrangler,
    served_emulator,
    table,
    worker_script,
    write_manifests,
)


def wrangler_projects(base: Path, workers: int, generation: int) -> list[Path]:
    """One project per worker, the same code and variable as the reconciler's manifests."""
    projects = []
    for i in range(workers):
        project = base / f"p{i:04d}"
        (project / "src").mkdir(parents=True, exist_ok=True)
        code = worker_script(i) + f"// generation {generation}\n"
        (project / "src" / "index.js").write_text(code, encoding="utf-8")
        (project / "wrangler.toml").write_text(
            f'name = "bench-worker-{i:04d}"\nmain = "src/index.js"\n'
            f'compatibility_date = "2025-01-01"\n[vars]\nINDEX = "{i}"\n',
            encoding="utf-8",
        )
        projects.append(project)
    return projects


def wrangler_round(emu: ServedEmulator, projects: list[Path], home: Path) -> tuple[int, float]:
    emu.clear_requests()
    start = time.perf_counter()
    for project in projects:
        proc = run_wrangler(["deploy"], cwd=project, base_url=emu.base_url, home=home)
        if proc.returncode != 0:
            raise SystemExit(f"wrangler deploy failed in {project}:\n{proc.stdout}{proc.stderr}")
    return api_calls(emu.requests()), time.perf_counter() - start


def reconciler_round(emu: ServedEmulator, manifests: Path, cwd: Path) -> tuple[int, float]:
    emu.clear_requests()
    run = run_cli(["apply", str(manifests), "--auto-approve"], cwd=cwd, env=cli_env(emu))
    if run.returncode != 0:
        raise SystemExit(f"reconciler apply failed:\n{run.stderr[-3000:]}")
    return api_calls(emu.requests()), run.seconds


def regenerate(manifests: Path, workers: int, generation: int) -> None:
    write_manifests(manifests, workers=workers, secrets=0)
    for i in range(workers):
        path = manifests / "workers" / f"w{i:04d}.js"
        path.write_text(worker_script(i) + f"// generation {generation}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 workers")
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()
    workers = 5 if args.quick else args.workers
    if not WRANGLER.exists():
        raise SystemExit(f"wrangler is not installed at {WRANGLER}: npm ci --prefix tests/wrangler")

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp:
        base = Path(tmp)
        results: dict[str, dict[str, tuple[int, float]]] = {"new": {}, "redeploy": {}}
        with served_emulator(base / "emu-wrangler", emulator_config()) as emu:
            for generation, phase in enumerate(("new", "redeploy")):
                projects = wrangler_projects(base / "wrangler", workers, generation)
                results[phase]["wrangler"] = wrangler_round(emu, projects, base / "home")
        reconciler: list[tuple[str, str, tuple[int, float]]] = []
        with served_emulator(base / "emu-reconciler", emulator_config()) as emu:
            manifests = base / "manifests"
            runs = [
                ("new", "cold", "job-1"),
                ("redeploy", "warm", "job-1"),
                ("redeploy", "cold", "job-2"),
            ]
            for generation, (phase, cache, job) in enumerate(runs):
                regenerate(manifests, workers, generation)
                cwd = base / job
                cwd.mkdir(exist_ok=True)
                reconciler.append((phase, cache, reconciler_round(emu, manifests, cwd)))
        for phase, cache, (r_calls, r_s) in reconciler:
            w_calls, w_s = results[phase]["wrangler"]
            rows.append(
                [
                    f"{workers} workers, {phase}",
                    cache,
                    f"{w_calls / workers:.2f}",
                    f"{r_calls / workers:.2f}",
                    f"{w_calls / r_calls:.1f}x",
                    f"{w_s:.1f}",
                    f"{r_s:.2f}",
                    f"{w_s / r_s:.1f}x",
                ]
            )
            print(
                f"{phase} ({cache} cache): wrangler {w_calls} calls in {w_s:.1f} s; "
                f"reconciler {r_calls} calls in {r_s:.2f} s",
                flush=True,
            )
    print()
    print(
        table(
            [
                "run",
                "reconciler cache",
                "wrangler calls/worker",
                "reconciler calls/worker",
                "calls ratio",
                "wrangler wall (s)",
                "reconciler wall (s)",
                "time ratio",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
