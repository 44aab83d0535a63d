"""Run a program for a value: no shell, a deadline, capped output, a short masked stderr.

Used by the `command` source and by `sops`. The program's standard output is the secret, so
it never reaches a message; its standard error may echo it, so what is shown is cut to a few
lines and every resolved value in it is masked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import IO

from reconciler.errors import ValueSourceError

STDERR_LINES = 3
STDERR_LINE_CHARS = 200
_STDERR_CAP = 64 * 1024
MASK = "***"


def _drain(
    pipe: IO[bytes],
    cap: int,
    into: list[bytes],
    over: threading.Event,
    proc: subprocess.Popen[bytes],
) -> None:
    """Keep at most cap + 1 bytes; past the cap, stop the program (it may never end)."""
    total = 0
    while True:
        chunk = pipe.read1(64 * 1024)  # type: ignore[attr-defined]
        if not chunk:
            return
        if total <= cap:
            into.append(chunk[: cap + 1 - total])
        total += len(chunk)
        if total > cap:
            over.set()
            _kill(proc)
            return


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """The program and anything it started (it runs in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def stderr_excerpt(raw: bytes, masks: frozenset[str]) -> str:
    """The last few lines of a program's stderr, each cut short, resolved values masked."""
    text = raw.decode("utf-8", "replace")
    for value in sorted(masks, key=len, reverse=True):
        if value:
            text = text.replace(value, MASK)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > STDERR_LINES:  # the first line says what failed, the last ones why
        lines = [lines[0], "…", *lines[-(STDERR_LINES - 1) :]]
    shown = [
        line if len(line) <= STDERR_LINE_CHARS else line[:STDERR_LINE_CHARS] + "…" for line in lines
    ]
    return " | ".join(shown)


def run_program(
    argv: Sequence[str],
    *,
    what: str,
    timeout_s: float,
    max_output: int,
    masks: frozenset[str],
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
) -> bytes:
    """The program's standard output (at most max_output bytes), or ValueSourceError.

    `what` names the source in every message ("command `op read …` (m.yaml:4:40)").
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=dict(env) if env is not None else None,
        )
    except FileNotFoundError:
        raise ValueSourceError(f"the {what}: program {argv[0]!r} not found on PATH") from None
    except OSError as exc:
        raise ValueSourceError(f"the {what}: cannot start {argv[0]!r}: {exc.strerror}") from None
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []
    over = threading.Event()
    readers = [
        threading.Thread(
            target=_drain, args=(proc.stdout, max_output, out, over, proc), daemon=True
        ),
        threading.Thread(
            target=_drain,
            args=(proc.stderr, _STDERR_CAP, err, threading.Event(), proc),
            daemon=True,
        ),
    ]
    for reader in readers:
        reader.start()
    try:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()
        raise ValueSourceError(
            f"the {what} did not finish within {timeout_s:g} s and was stopped"
        ) from None
    finally:
        for reader in readers:
            reader.join(timeout=5)
    if over.is_set():
        raise ValueSourceError(
            f"the {what} printed more than {max_output:,} bytes, more than a secret can hold"
        )
    stdout = b"".join(out)
    if proc.returncode != 0:
        masks = masks | ({stdout.decode("utf-8", "replace").strip()} if stdout.strip() else set())
        excerpt = stderr_excerpt(b"".join(err), frozenset(masks))
        said = f": {excerpt}" if excerpt else ""
        raise ValueSourceError(f"the {what} failed with exit code {proc.returncode}{said}")
    return stdout
