"""Hostile manifests (issue 11): each one ends in one sentence with its location and exit 1,
within a memory cap and a deadline, never a traceback, a MemoryError or a hang.

Each attack runs `python -m reconciler validate` in a subprocess whose address space is capped
with RLIMIT_AS (a whole read of the 3 GB file, or the alias bomb's expansion, cannot fit in it)
and with a deadline well under a minute (a blocking open of a FIFO would never return).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.file_policy import MAX_MANIFEST_BYTES, MAX_SCRIPT_BYTES
from reconciler.yamlpos import MAX_DEPTH, MAX_VALUES

# Python, pydantic, PyYAML and click take about 250 MB of address space; a 3 GB read, or a
# bomb's gigabytes, cannot fit in what is left.
MEMORY_CAP = 768 * 1024 * 1024
DEADLINE_S = 30.0
HUGE = 3 * 1024**3  # sparse: takes no disk space, but reads as 3 GB of zero bytes

STORE = "stores: [{name: s}]\n"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def validate(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`reconciler validate ARGS` under the memory cap and the deadline."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        preexec_fn=_cap_memory,
    )


def refused(result: subprocess.CompletedProcess[str], expected: str) -> str:
    """Exit 1 with one problem line containing `expected`; returns that line."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    for bad in ("Traceback", "MemoryError", "RecursionError"):
        assert bad not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "Error: 1 problem in the manifests", lines
    assert expected in lines[0], lines
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def sparse(path: Path, size: int = HUGE) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_the_memory_cap_leaves_room_for_a_normal_run(tmp_path: Path) -> None:
    """Without this, every refusal below could be the cap killing a run that needed more."""
    write(tmp_path / "w.js", "export default {}\n")
    write(tmp_path / "m.yaml", "workers: [{name: w, script: w.js}]\n")
    result = validate(tmp_path, "m.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Valid: 0 stores, 0 secrets, 1 worker")


def test_the_memory_cap_stops_a_whole_read_of_the_huge_file(tmp_path: Path) -> None:
    """The cap is real: reading the 3 GB file whole in the same interpreter fails."""
    sparse(tmp_path / "big")
    code = "import pathlib, sys; pathlib.Path(sys.argv[1]).read_bytes()"
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "big")],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        preexec_fn=_cap_memory,
    )
    assert result.returncode != 0 and "MemoryError" in result.stderr


# --- files a manifest names -------------------------------------------------------------


def test_script_dev_zero_is_refused_as_absolute_and_as_a_device(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", "workers: [{name: w, script: /dev/zero}]\n")
    line = refused(
        validate(tmp_path, "m.yaml"), "leaves the manifest's directory (an absolute path)"
    )
    assert line.startswith("m.yaml:1:29: script file /dev/zero")
    allowed = validate(tmp_path, "m.yaml", "--allow-outside-files")
    refused(allowed, "script file /dev/zero is a device, not a regular file")


def test_script_etc_passwd_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", "workers: [{name: w, script: /etc/passwd}]\n")
    refused(validate(tmp_path, "m.yaml"), "script file /etc/passwd leaves the manifest's directory")


def test_module_linked_to_proc_environ_is_refused(tmp_path: Path) -> None:
    """The reported attack: a module symlinked to /proc/self/environ uploaded the job's env."""
    write(tmp_path / "w.js", "export default {}\n")
    (tmp_path / "lib.js").symlink_to("/proc/self/environ")
    write(tmp_path / "m.yaml", "workers: [{name: w, script: w.js, modules: [lib.js]}]\n")
    line = refused(validate(tmp_path, "m.yaml", env={"LEAK_ME": "environ-sentinel"}), "lib.js")
    assert "symbolic link" in line and "leads outside the manifest's directory" in line
    assert line.startswith("m.yaml:1:45: module file lib.js")


def test_a_link_that_stays_inside_the_directory_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "src" / "w.js", "export default {}\n")
    (tmp_path / "w.js").symlink_to("src/w.js")
    write(tmp_path / "m.yaml", "workers: [{name: w, script: w.js}]\n")
    assert validate(tmp_path, "m.yaml").returncode == 0


@pytest.mark.parametrize("field", ["script", "module", "value"])
def test_a_fifo_is_refused_without_hanging(tmp_path: Path, field: str) -> None:
    os.mkfifo(tmp_path / "pipe")
    write(tmp_path / "w.js", "export default {}\n")
    manifest = {
        "script": "workers: [{name: w, script: pipe}]\n",
        "module": "workers: [{name: w, script: w.js, modules: [pipe]}]\n",
        "value": STORE
        + "secrets: [{name: K, store: s, value_from: {file: pipe}, scopes: [workers]}]\n",
    }[field]
    write(tmp_path / "m.yaml", manifest)
    refused(validate(tmp_path, "m.yaml"), "pipe is a FIFO (named pipe), not a regular file")
    # With the location rule lifted, the type rule still holds.
    refused(validate(tmp_path, "m.yaml", "--allow-outside-files"), "is a FIFO (named pipe)")


def test_a_directory_or_socket_is_not_a_script(tmp_path: Path) -> None:
    (tmp_path / "dir.js").mkdir()
    write(tmp_path / "m.yaml", "workers: [{name: w, script: dir.js}]\n")
    refused(validate(tmp_path, "m.yaml"), "script file dir.js is a directory, not a regular file")


def test_a_huge_script_is_refused_without_reading_it(tmp_path: Path) -> None:
    sparse(tmp_path / "w.js")
    write(tmp_path / "m.yaml", "workers: [{name: w, script: w.js}]\n")
    refused(validate(tmp_path, "m.yaml"), "is larger than 10 MiB, the Workers script size limit")


def test_a_script_at_the_limit_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "w.js").write_bytes(b"export default {};" + b" " * (MAX_SCRIPT_BYTES - 18))
    write(tmp_path / "m.yaml", "workers: [{name: w, script: w.js}]\n")
    assert validate(tmp_path, "m.yaml").returncode == 0
    (tmp_path / "w.js").write_bytes(b" " * (MAX_SCRIPT_BYTES + 1))
    refused(validate(tmp_path, "m.yaml"), "larger than 10 MiB")


def test_a_huge_value_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    sparse(tmp_path / "v.txt")
    write(
        tmp_path / "m.yaml",
        STORE + "secrets: [{name: K, store: s, value_from: {file: v.txt}, scopes: [workers]}]\n",
    )
    refused(validate(tmp_path, "m.yaml"), "the file v.txt holds more than 65,536 bytes")


def test_a_huge_manifest_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    sparse(tmp_path / "m.yaml")
    line = refused(validate(tmp_path, "m.yaml"), "this manifest file is larger than 8 MiB")
    assert line.startswith("m.yaml: ")
    assert MAX_MANIFEST_BYTES == 8 * 1024 * 1024


def test_a_fifo_named_as_the_manifest_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "m.yaml")
    refused(validate(tmp_path, "m.yaml"), "m.yaml: this manifest file is a FIFO")


def test_a_manifest_link_leaving_the_directory_is_refused(tmp_path: Path) -> None:
    """A `*.yaml` link to a credentials file would be parsed and its keys echoed."""
    write(tmp_path / "creds", "CLOUDFLARE_API_TOKEN: leaked\n")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "creds.yaml").symlink_to(tmp_path / "creds")
    line = refused(
        validate(tmp_path, "m"), "this manifest file is a symbolic link that leads outside m;"
    )
    assert "leaked" not in line and "CLOUDFLARE_API_TOKEN" not in line


# --- YAML itself --------------------------------------------------------------------------


def _bomb(levels: int = 9) -> str:
    lines = ['x-lol: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join(f"*l{i - 1}" for _ in range(10))
        lines.append(f"x-l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n" + STORE


def test_billion_laughs_under_an_ignored_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", _bomb())
    line = refused(
        validate(tmp_path, "m.yaml"), f"expand the file to more than {MAX_VALUES:,} values"
    )
    assert line.startswith("m.yaml:5:")  # the first alias past the limit (x-l4: 111,111 values)


def test_aliases_within_the_limit_still_work(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", _bomb(levels=3))  # 11,111 values: fine
    assert validate(tmp_path, "m.yaml").returncode == 0


@pytest.mark.parametrize("shape", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_with_its_location(tmp_path: Path, shape: str) -> None:
    depth = 100_000
    if shape == "- ":
        text = "".join("  " * i + "-\n" for i in range(200)) + "  " * 200 + "- x\n"
    else:
        text = "x-deep: " + shape * depth + "1" + ("]" if shape == "[" else "}") * depth + "\n"
    write(tmp_path / "m.yaml", text)
    line = refused(
        validate(tmp_path, "m.yaml"), f"YAML nested too deep (the limit is {MAX_DEPTH} levels)"
    )
    assert line.startswith("m.yaml:")


def test_many_plain_values_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", "x-many: [" + "1," * (MAX_VALUES + 10) + "1]\n")
    refused(validate(tmp_path, "m.yaml"), f"holds more than {MAX_VALUES:,} YAML values")
