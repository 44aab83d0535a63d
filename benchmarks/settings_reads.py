"""What the settings keys cost a no-change plan: API calls with none declared and with all six.

For N workers (plus 100 secrets, no triggers) the account is applied from manifests that
declare no settings, then the same workers declaring every settings key (observability
with logs and traces, logpush, a tail consumer, Smart Placement, CPU limits, the usage
model). After each apply, `reconciler plan` runs cold (empty `.reconciler/cache`) and warm,
as a user runs it (a fresh process each time). Counts come from the emulator's request log
and are exact; the target is at most N + 10 calls for a cold plan. Writes nothing into the
repository.

    .venv/bin/python benchmarks/settings_reads.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

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

SECRETS = 100
SETTINGS: dict[str, Any] = {
    "observability": {
        "enabled": True,
        "head_sampling_rate": 0.5,
        "logs": {"invocation_logs": True, "head_sampling_rate": 0.25},
        "traces": {"enabled": True, "head_sampling_rate": 0.1},
    },
    "logpush": True,
    "placement": {"mode": "smart"},
    "limits": {"cpu_ms": 50},
    "usage_model": "standard",
}


def declare_settings(manifests: Path) -> None:
    """Every worker sets every key; each names the first worker as its Tail Worker."""
    path = manifests / "manifest.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = doc["workers"][0]["name"]
    for worker in doc["workers"]:
        worker.update(SETTINGS)
        worker["tail_consumers"] = [] if worker["name"] == first else [{"service": first}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def plan_calls(emu: ServedEmulator, manifests: Path, cwd: Path, *, cold: bool) -> int:
    if cold:
        shutil.rmtree(cwd / ".reconciler" / "cache", ignore_errors=True)
    emu.clear_requests()
    run = run_cli(["plan", str(manifests), "--detailed-exitcode"], cwd=cwd, env=cli_env(emu))
    if run.returncode != 0:
        raise SystemExit(f"plan was not a no-change plan (exit {run.returncode}):\n{run.stderr}")
    return api_calls(emu.requests())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 workers only")
    args = parser.parse_args()
    sizes = (10, 100) if args.quick else (10, 100, 500)
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="settings-reads-") as tmp:
        for workers in sizes:
            work = Path(tmp) / f"w{workers}"
            manifests = write_manifests(work / "manifests", workers=workers, secrets=SECRETS)
            with served_emulator(work / "emulator", emulator_config()) as emu:
                for label in ("none declared", "all six declared"):
                    if label != "none declared":
                        declare_settings(manifests)
                    applied = run_cli(
                        ["apply", str(manifests), "--auto-approve"], cwd=work, env=cli_env(emu)
                    )
                    if applied.returncode != 0:
                        raise SystemExit(f"apply failed:\n{applied.stderr}")
                    cold = plan_calls(emu, manifests, work, cold=True)
                    warm = plan_calls(emu, manifests, work, cold=False)
                    bound = workers + 10
                    verdict = "yes" if cold <= bound else "NO"
                    rows.append([workers, SECRETS, label, cold, warm, bound, verdict])
                    print(
                        f"{workers:4d} workers, settings {label}: cold {cold} calls, "
                        f"warm {warm} (bound {bound})",
                        flush=True,
                    )
    print()
    print(
        table(
            [
                *("workers", "secrets", "settings keys", "cold plan: API calls"),
                *("warm plan: API calls", "bound N + 10", "within"),
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
