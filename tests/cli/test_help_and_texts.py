"""What a newcomer reads: help texts whole and described, counts in the right number,
typos refused rather than ignored."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli import cli

REPO = Path(__file__).resolve().parents[2]


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_top_level_help_shows_every_summary_whole() -> None:
    for args in ([], ["emulator"]):
        shown = CliRunner().invoke(cli, [*args, "--help"], terminal_width=80).output
        commands = shown.split("Commands:", 1)[1]  # the usage line's ARGS... is click's own
        assert "..." not in commands and "…" not in commands, shown
    shown = " ".join(CliRunner().invoke(cli, ["--help"], terminal_width=80).output.split())
    assert "exit 0 in sync, 2 on drift, 3 on conflicts." in shown


@pytest.mark.parametrize("name,command", _commands(cli), ids=lambda v: str(v))
def test_every_option_is_described(name: str, command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"reconciler {name} {param.opts[0]} has no description"


def test_export_does_not_offer_the_store_limit() -> None:
    assert "--max-stores" not in CliRunner().invoke(cli, ["export", "--help"]).output
    for command in ("plan", "apply", "drift"):
        assert "--max-stores" in CliRunner().invoke(cli, [command, "--help"]).output


def test_drift_help_and_readme_agree_on_exit_3() -> None:
    assert "3 on conflicts" in " ".join(CliRunner().invoke(cli, ["drift", "--help"]).output.split())
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `reconciler drift"))
    assert "3 when the comparison has conflicts" in row


@pytest.fixture
def one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("CLOUDFLARE_API_TOKEN", "RECONCILER_FINGERPRINT_KEY", "RECONCILER_MAX_STORES"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "m"
    path.mkdir()
    (path / "reconciler.yaml").write_text(yaml.safe_dump({"stores": [{"name": "only"}]}))
    return path


def test_one_change_is_one_change(one_store: Path) -> None:
    result = CliRunner().invoke(cli, ["apply", "--local", str(one_store), "--auto-approve"])
    assert result.exit_code == 0, result.output
    assert "Apply complete: 1 change made." in result.output


def test_a_replace_naming_nothing_is_an_error(one_store: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--local", str(one_store), "--replace", "NOPE"])
    assert result.exit_code == 1
    assert "Error: --replace NOPE matches no declared secret" in result.stderr
    assert "Plan:" not in result.stdout
