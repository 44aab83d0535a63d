"""Time of `format: auto` detection (module or classic) on real JavaScript.

Every plan detects the format of every `format: auto` script, so its speed is paid per
plan, per MiB of code. Reads a JavaScript file (default: miniflare's 3.7 MiB bundle from
`npm ci --prefix tests/wrangler`) and prints the best of five runs.

    .venv/bin/python benchmarks/format_detection.py [FILE.js]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.cloudflare.upload import detect_format

DEFAULT = Path("tests/wrangler/node_modules/miniflare/dist/src/index.js")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.is_file():
        raise SystemExit(f"{path} not found (npm ci --prefix tests/wrangler, or pass a file)")
    source = path.read_text(encoding="utf-8", errors="replace")
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        fmt = detect_format(source)
        best = min(best, time.perf_counter() - start)
    mib = len(source.encode()) / 2**20
    print(f"{path}: {mib:.2f} MiB, {fmt}, {best:.3f} s ({mib / best:.0f} MiB/s, best of 5)")


if __name__ == "__main__":
    main()
