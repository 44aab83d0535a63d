"""Nothing tells users to install the bare name `reconciler`: on the package index that name
belongs to an unrelated project, which would run with the Cloudflare token in its environment.

Our distribution is `cf-reconciler`; the import package and the command stay `reconciler`.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTION = "cf-reconciler"
# Where installers are told what to install: pip, pipx, uv, poetry, pdm, requirements lines.
INSTALLER = re.compile(
    r"\b(?:pip3?(?:\.exe)?\s+install|pipx\s+(?:install|run)|uv\s+(?:pip\s+install|add|tool\s+"
    r"install)|uvx|poetry\s+add|pdm\s+add)\b(?P<rest>.*)",
)
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".reconciler",
    "build",
    "dist",
}
TEXT_SUFFIXES = {".md", ".yml", ".yaml", ".toml", ".py", ".txt", ".cfg", ".sh", ".json", ""}


def _normal(name: str) -> str:
    """The package index's name normalization (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def bare_reconciler_installs(text: str) -> list[str]:
    """Every installer line in `text` that would fetch the index's `reconciler`."""
    found: list[str] = []
    for line in text.splitlines():
        match = INSTALLER.search(line)
        if match is None:
            continue
        # In Markdown prose the command ends with its inline code span.
        rest = match.group("rest").split("`")[0]
        try:
            words = shlex.split(rest, comments=True)
        except ValueError:
            words = rest.split()
        for word in words:
            if word in {"|", "||", "&&", ";"}:
                break
            if word.startswith("-"):
                continue
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", word)
            if name and _normal(name.group()) == "reconciler":
                found.append(line.strip())
    return found


def _files() -> list[Path]:
    out: list[Path] = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path.stat().st_size < 1_000_000:
            out.append(path)
    return out


def test_no_file_tells_users_to_install_the_bare_name() -> None:
    offenders = []
    for path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{path.relative_to(REPO)}: {line}" for line in bare_reconciler_installs(text)
        ]
    assert offenders == []


def test_the_scan_covers_the_docs_and_recipes() -> None:
    scanned = {str(p.relative_to(REPO)) for p in _files()}
    assert {"README.md", "examples/gitlab-ci/.gitlab-ci.yml", "pyproject.toml"} <= scanned
    assert "examples/github-actions/reconciler-apply.yml" in scanned


# The name is built from parts so this file never holds the lines it looks for.
BARE = "recon" + "ciler"


@pytest.mark.parametrize(
    "line",
    [
        f"pip install {BARE}",
        f'python -m pip install "{BARE}==0.1.0"',
        f"pip3 install --upgrade {BARE}[test]",
        f"pipx install {BARE.upper()}",
        f"uv add {BARE}>=0.1",
        f"  - python -m pip install '{BARE} @ git+https://example.invalid/r.git@v1'",
        f"Then run `pip install {BARE}` and go.",
    ],
)
def test_the_scan_finds_bare_installs(line: str) -> None:
    assert bare_reconciler_installs(line) == [line.strip()]


@pytest.mark.parametrize(
    "line",
    [
        "pip install -e .",
        "pip install -e '.[test]'",
        f'python -m pip install "{DISTRIBUTION} @ git+${{RECONCILER_GIT}}@${{RECONCILER_TAG}}"',
        f"pip install {DISTRIBUTION}==0.1.0",
        f"pip install cf_{BARE}",
        f"{BARE} apply --local  # after pip install -e .",
        f"install it from a checkout (`pip install .`) or from {BARE}'s git repository",
    ],
)
def test_the_scan_leaves_our_installs_alone(line: str) -> None:
    assert bare_reconciler_installs(line) == []


def test_the_distribution_has_its_own_name_and_keeps_the_command() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert _normal(project["name"]) != BARE
    assert project["scripts"] == {BARE: "reconciler.cli:main"}
