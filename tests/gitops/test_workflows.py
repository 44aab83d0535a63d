"""The CI recipes parse, call only real commands and flags, and keep their promises.

Every `reconciler ...` command line in a workflow is parsed by the click command
objects themselves, so an unknown subcommand, flag or choice fails here, not in CI.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler import __version__
from reconciler.cli import cli

from .conftest import EXAMPLES

GITHUB = sorted((EXAMPLES / "github-actions").glob("*.yml"))
GITLAB = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
SHELL_STOP = {"|", "||", "&&", ";", ")", "then", "fi", "do", "done"}
# owner/repo@sha, or an action in a sub-directory (actions/cache/restore@sha).
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w.-]+)*@[0-9a-f]{40}$")
# Not on the package index: our distribution from its git repository at a release tag.
INSTALL = 'pip install "cf-reconciler @ git+${RECONCILER_GIT}@${RECONCILER_TAG}"'
# The GitHub recipes use reconciler's own action (action.yml), from its repository at a tag.
OUR_ACTION = f"your-org/reconciler@v{__version__}"


def _load(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), path
    return doc


def github_scripts(path: Path) -> list[str]:
    doc = _load(path)
    return [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]


def gitlab_scripts(path: Path) -> list[str]:
    scripts: list[str] = []
    for name, job in _load(path).items():
        if not isinstance(job, dict) or name in ("variables", "stages"):
            continue
        for key in ("before_script", "script", "after_script"):
            scripts.extend(job.get(key, []))
    return scripts


def action_steps(path: Path) -> list[dict[str, Any]]:
    doc = _load(path)
    return [s for job in doc["jobs"].values() for s in job["steps"] if s.get("uses") == OUR_ACTION]


def action_command(inputs: dict[str, str]) -> list[str]:
    """The command line action.yml's run step builds from a step's `with:` inputs."""
    command = inputs.get("command", "plan")
    args = [command, *inputs.get("manifests", "manifests").split(), *inputs.get("args", "").split()]
    if command in ("plan", "drift"):
        return [*args, "--format", "markdown", "--out", "report.json"]
    return [*args, "--format", "json"]


def reconciler_commands(script: str) -> list[list[str]]:
    """Argument lists of each `reconciler` call in a shell script (continuations joined)."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        if not re.search(r"(^|[\s;&|(])reconciler\s", line):
            continue
        tokens = shlex.split(line, comments=True)
        for i, token in enumerate(tokens):
            if token == "reconciler" and (i == 0 or tokens[i - 1] in SHELL_STOP | {"$("}):
                args: list[str] = []
                for t in tokens[i + 1 :]:
                    if t in SHELL_STOP or t.startswith((">", "2>", "<")):
                        break
                    args.append(t)
                commands.append(args)
    return commands


def check_command(args: list[str]) -> click.Command:
    """Parse like the real CLI would (unknown commands, flags and choices raise)."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="reconciler")
    rest = list(args)
    while isinstance(command, click.Group):
        if not rest:
            raise click.UsageError("missing command")
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            raise click.UsageError(f"no such command {rest[0]!r}")
        ctx = click.Context(sub, info_name=rest[0], parent=ctx)
        command, rest = sub, rest[1:]
    command.make_context(command.name, rest, parent=ctx.parent)
    return command


ALL_SCRIPTS = [(p.name, s) for p in GITHUB for s in github_scripts(p)] + [
    (GITLAB.name, s) for s in gitlab_scripts(GITLAB)
]
ALL_COMMANDS = [
    (p.name, action_command(step.get("with", {}))) for p in GITHUB for step in action_steps(p)
] + [(source, args) for source, script in ALL_SCRIPTS for args in reconciler_commands(script)]


def test_there_are_three_github_workflows_and_a_gitlab_pipeline() -> None:
    assert [p.name for p in GITHUB] == [
        "reconciler-apply.yml",
        "reconciler-drift.yml",
        "reconciler-plan.yml",
    ]
    assert GITLAB.is_file()


def test_each_workflow_calls_reconciler_with_real_commands_and_flags() -> None:
    used: dict[str, set[str]] = {}
    for source, args in ALL_COMMANDS:
        try:
            command = check_command(args)
        except click.ClickException as exc:
            pytest.fail(f"{source}: `reconciler {shlex.join(args)}`: {exc.format_message()}")
        used.setdefault(source, set()).add(command.name or "")
    assert used["reconciler-plan.yml"] == {"plan"}
    assert used["reconciler-apply.yml"] == {"apply"}
    assert used["reconciler-drift.yml"] == {"drift"}
    assert used[".gitlab-ci.yml"] == {"plan", "apply", "drift"}


@pytest.mark.parametrize(
    "bad",
    [
        ["plan", "--no-such-flag"],
        ["plna", "manifests"],
        ["drift", "--format", "html"],
        ["drift", "--fail-on", "everything"],
        ["emulator", "serve", "--bogus"],
    ],
)
def test_the_checker_rejects_what_the_cli_would_reject(bad: list[str]) -> None:
    with pytest.raises(click.ClickException):
        check_command(bad)


def test_the_extractor_finds_commands_in_shell() -> None:
    script = (
        "set +e\nreconciler plan manifests --format markdown \\\n  --out plan.json > plan.md\n"
        'echo "reconciler apply is next" && reconciler apply --plan plan.json --auto-approve\n'
        'python -m pip install "cf-reconciler @ git+${G}@${T}"\n'
    )
    assert reconciler_commands(script) == [
        ["plan", "manifests", "--format", "markdown", "--out", "plan.json"],
        ["apply", "--plan", "plan.json", "--auto-approve"],
    ]


def test_actions_and_versions_are_pinned() -> None:
    """Others' actions by commit; reconciler's own by its release tag, which is also the
    version it installs (the action installs its own checkout)."""
    for path in GITHUB:
        doc = _load(path)
        for job in doc["jobs"].values():
            for step in job["steps"]:
                if "uses" in step and step["uses"] != OUR_ACTION:
                    assert PINNED_ACTION.match(step["uses"]), (path.name, step["uses"])
        assert action_steps(path), f"{path.name} does not use reconciler's action"
        assert "pip install" not in path.read_text(), path.name  # the action installs
    gitlab = GITLAB.read_text()
    assert re.search(r"image: python:\d+\.\d+\.\d+-", gitlab)
    assert f'RECONCILER_TAG: "v{__version__}"' in gitlab
    assert INSTALL in gitlab


def test_token_and_fingerprint_key_come_from_ci_secrets() -> None:
    for path in GITHUB:
        env = {k: v for job in _load(path)["jobs"].values() for k, v in job.get("env", {}).items()}
        assert env["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}", path.name
        assert env["RECONCILER_FINGERPRINT_KEY"] == "${{ secrets.RECONCILER_FINGERPRINT_KEY }}"
        # Every secret value variable is a CI secret too, never a literal.
        for name, value in env.items():
            if name not in ("CLOUDFLARE_ACCOUNT_ID",):
                assert value == f"${{{{ secrets.{name} }}}}", (path.name, name)
    gitlab = _load(GITLAB)
    assert "CLOUDFLARE_API_TOKEN" not in gitlab["variables"]
    assert "RECONCILER_FINGERPRINT_KEY" not in gitlab["variables"]


def test_two_applies_never_run_at_once() -> None:
    apply = _load(EXAMPLES / "github-actions/reconciler-apply.yml")
    assert apply["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    gitlab = _load(GITLAB)
    assert gitlab["apply"]["resource_group"] == "reconciler-apply"
    assert gitlab["apply"]["rules"][0]["when"] == "manual"


def test_apply_on_merge_applies_the_reviewed_plan_file() -> None:
    plan_wf = _load(EXAMPLES / "github-actions/reconciler-plan.yml")
    apply_wf = _load(EXAMPLES / "github-actions/reconciler-apply.yml")
    upload = next(
        s for s in plan_wf["jobs"]["plan"]["steps"] if "upload-artifact" in s.get("uses", "")
    )
    download = next(
        s for s in apply_wf["jobs"]["apply"]["steps"] if "download-artifact" in s.get("uses", "")
    )
    assert upload["with"]["name"] == download["with"]["name"] == "reconciler-plan"
    assert "plan.json" in upload["with"]["path"]
    # The PR's plan run is looked up by the workflow file name this directory ships.
    assert "--workflow reconciler-plan.yml" in "\n".join(
        github_scripts(EXAMPLES / "github-actions/reconciler-apply.yml")
    )
    steps = action_steps(EXAMPLES / "github-actions/reconciler-apply.yml")
    on_merge = [s for s in steps if s["if"] == "github.event_name == 'pull_request'"]
    assert [action_command(s["with"]) for s in on_merge] == [
        ["apply", "manifests", "--plan", "plan.json", "--auto-approve", "--format", "json"]
    ]
    # True for the YAML key `on` (PyYAML reads it as a boolean).
    triggers = apply_wf[True]
    assert triggers["pull_request"]["types"] == ["closed"]
    assert apply_wf["jobs"]["apply"]["if"].count("merged == true") == 1


def test_drift_runs_on_a_schedule_fails_on_exit_2_and_uploads_the_report() -> None:
    drift = _load(EXAMPLES / "github-actions/reconciler-drift.yml")
    assert drift[True]["schedule"][0]["cron"]
    steps = drift["jobs"]["drift"]["steps"]
    (detect,) = action_steps(EXAMPLES / "github-actions/reconciler-drift.yml")
    assert detect["with"]["command"] == "drift"
    # No ok-exit-codes: exit 2 fails the step and the job.
    assert "ok-exit-codes" not in detect["with"]
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    keep = next(s for s in steps if s.get("name") == "Keep the report")
    assert upload["if"] == keep["if"] == "always()"
    assert upload["with"]["path"] == "drift.md" and "drift.md" in keep["run"]
    gitlab = _load(GITLAB)
    assert gitlab["drift"]["artifacts"]["when"] == "always"
    assert gitlab["drift"]["rules"][0]["if"].startswith('$CI_PIPELINE_SOURCE == "schedule"')


def _cache_steps(name: str) -> list[dict[str, Any]]:
    doc = _load(EXAMPLES / "github-actions" / name)
    (job,) = doc["jobs"].values()
    return [s for s in job["steps"] if "actions/cache" in s.get("uses", "")]


def test_read_cache_is_kept_and_pull_requests_never_feed_main() -> None:
    """Plan (pull request) restores its own or main's and saves as its own; apply restores
    main's only and saves nothing; drift (main) restores and saves main's."""
    acct = "${{ vars.CLOUDFLARE_ACCOUNT_ID }}"
    (plan,) = _cache_steps("reconciler-plan.yml")
    (apply,) = _cache_steps("reconciler-apply.yml")
    (drift,) = _cache_steps("reconciler-drift.yml")
    for step in (plan, apply, drift):
        assert step["with"]["path"] == ".reconciler/cache"
    assert plan["uses"].split("@")[0] == "actions/cache"
    assert plan["with"]["key"].startswith(f"reconciler-read-{acct}-pr-")
    assert apply["uses"].split("@")[0] == "actions/cache/restore", "apply never saves"
    assert drift["uses"].split("@")[0] == "actions/cache"
    assert drift["with"]["key"].startswith(f"reconciler-read-{acct}-main-")
    for step in (apply, drift):
        assert step["with"]["restore-keys"].splitlines() == [f"reconciler-read-{acct}-main-"]
    gitlab = yaml.safe_load(GITLAB.read_text())
    assert gitlab["apply"]["cache"]["key"] == gitlab["drift"]["cache"]["key"]
    assert "$CI_DEFAULT_BRANCH" in gitlab["apply"]["cache"]["key"]
    assert "$CI_COMMIT_REF_SLUG" in gitlab["plan"]["cache"]["key"]
    for job in ("plan", "apply", "drift"):
        assert gitlab[job]["cache"]["paths"] == [".reconciler/cache/"]
