"""Static assets at scale: hashing a 10,000-file directory, and a no-change plan of it.

1. Hashing in process (`asset_files.read_tree`, what `validate` and `plan` run): wall time
   and peak Python memory (tracemalloc) for 10,000 small files, and for the same directory
   with one 24 MiB file added: files are hashed as they stream, so the peak stays a few
   chunks whatever the file sizes.
2. The CLI as a user runs it (a fresh process per command) against the served emulator:
   `apply` of one Worker with the directory, then a no-change `plan` cold (empty
   `.reconciler/cache`) and warm, then a plan after one file changed and the apply that
   uploads it. API calls from the emulator's request log (exact), asset uploads counted
   apart. Writes nothing into the repository.

    .venv/bin/python benchmarks/assets_scaling.py [--quick] [--files N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
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
)
from reconciler.asset_files import read_tree

CODE = "export default { async fetch(request, env) { return env.ASSETS.fetch(request); } };\n"


def make_site(public: Path, files: int) -> int:
    """`files` files of 200 B to 8 KiB in 100 directories; returns the total size."""
    total = 0
    rng = __import__("random").Random(25)
    for i in range(files):
        sub = public / f"section{i % 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        size = rng.randint(200, 8192)
        ext = ("html", "css", "js", "png", "svg")[i % 5]
        (sub / f"file{i:05d}.{ext}").write_bytes(os.urandom(size))
        total += size
    return total


def hash_once(public: Path, root: Path) -> tuple[float, int, int]:
    tracemalloc.start()
    start = time.perf_counter()
    tree, problems = read_tree(public, root)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if problems:
        raise SystemExit(f"unexpected problems: {problems[:3]}")
    return seconds, peak, len(tree.files)


def step(emu: ServedEmulator, args: list[str], cwd: Path, ok: tuple[int, ...]) -> list[object]:
    emu.clear_requests()
    run = run_cli(args, cwd=cwd, env=cli_env(emu), timeout_s=1800)
    if run.returncode not in ok:
        raise SystemExit(f"{args[0]} exited {run.returncode}:\n{run.stderr}\n{run.stdout}")
    requests = emu.requests()
    uploads = sum(1 for r in requests if str(r["path"]).endswith("/workers/assets/upload"))
    sessions = sum(1 for r in requests if str(r["path"]).endswith("/assets-upload-session"))
    return [f"{run.seconds:.2f}", api_calls(requests), sessions, uploads]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 files")
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    files = 1000 if args.quick else args.files
    with tempfile.TemporaryDirectory(prefix="assets-scaling-") as tmp:
        work = Path(tmp)
        manifests = work / "manifests"
        public = manifests / "public"
        total = make_site(public, files)
        (manifests / "index.js").write_text(CODE)
        (manifests / "site.yaml").write_text(
            "workers:\n  - name: site\n    script: index.js\n"
            "    compatibility_date: '2025-01-01'\n"
            "    assets: {directory: public, binding: ASSETS}\n"
        )
        print(f"{files:,} files, {total / 2**20:.1f} MiB", flush=True)
        hashing: list[list[object]] = []
        seconds, peak, count = hash_once(public, manifests)
        hashing.append([f"{count:,}", f"{total / 2**20:.1f}", f"{seconds:.2f}", peak // 1024])
        big = public / "big.bin"
        big.write_bytes(os.urandom(24 * 2**20))
        seconds, peak, count = hash_once(public, manifests)
        hashing.append(
            [f"{count:,} (one of 24 MiB)", f"{(total + 24 * 2**20) / 2**20:.1f}",
             f"{seconds:.2f}", peak // 1024]
        )  # fmt: skip
        big.unlink()
        print(table(["files", "MiB", "hash s", "peak KiB (tracemalloc)"], hashing), flush=True)

        rows: list[list[object]] = []
        plan = ["plan", str(manifests), "--detailed-exitcode"]
        apply = ["apply", str(manifests), "--auto-approve"]
        with served_emulator(work / "emulator", emulator_config()) as emu:
            rows.append(["apply (new worker)", *step(emu, apply, work, (0,))])
            rows.append(["no-change plan, warm", *step(emu, plan, work, (0,))])
            shutil.rmtree(work / ".reconciler" / "cache", ignore_errors=True)
            rows.append(["no-change plan, cold (no cache)", *step(emu, plan, work, (0,))])
            html = sorted(public.rglob("*.html"))
            html[0].write_bytes(b"<h1>changed</h1>")
            rows.append(["plan, one file changed, no cache", *step(emu, plan, work, (2,))])
            rows.append(["apply, one file changed", *step(emu, apply, work, (0,))])
            html[1].write_bytes(b"<h1>changed too</h1>")
            rows.append(["plan, one file changed, cache", *step(emu, plan, work, (2,))])
            rows.append(["apply, one file changed", *step(emu, apply, work, (0,))])
            rows.append(["no-change plan, warm", *step(emu, plan, work, (0,))])
        print()
        print(table(["command", "wall s", "API calls", "upload sessions", "upload buckets"], rows))


if __name__ == "__main__":
    main()
