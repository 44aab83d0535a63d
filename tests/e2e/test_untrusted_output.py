"""Untrusted text from the live account and from API errors reaches stdout and stderr
neutralised (issue 21): through the real CLI, against a served emulator or a lying server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tests.cloudflare.test_hostile_server import cli_env
from tests.e2e.conftest import Env
from tests.hostile import HostileServer, Seen, head, run_capped

HOSTILE = "hi\n```\n</details>\n<details><summary>fake</summary>\x1b[2J\x1b]0;owned\x07\rX\x9b1m"
BAD = ("\x1b", "\r", "\x07", "\x9b")


def _seed_hostile_worker(env: Env) -> None:
    """The quick start's classic worker, uploaded by hand with a hostile plain_text binding."""
    metadata = json.dumps(
        {
            "body_part": "script",
            "bindings": [{"type": "plain_text", "name": "GREETING", "text": HOSTILE}],
        }
    )
    with env.api() as api:
        api.put(
            "/workers/scripts/hello-classic",
            files={
                "metadata": (None, metadata, "application/json"),
                "script": ("script", b"addEventListener('fetch', () => {})", "text/javascript"),
            },
        ).raise_for_status()


def test_a_live_binding_text_is_neutralised_in_text_and_markdown(env: Env) -> None:
    _seed_hostile_worker(env)
    text = env.run("plan")
    assert text.exit_code == 0, text.output
    assert "GREETING" in text.output
    for bad in BAD:
        assert bad not in text.output, (bad, text.output)
    assert r"\x1b[2J" in text.output
    markdown = env.run("plan", "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    lines = markdown.output.splitlines()
    assert not any(line.lstrip().startswith("```") for line in lines)
    assert "<summary>fake" not in markdown.output
    assert markdown.output.count("<details>") == markdown.output.count("</details>")
    for bad in BAD:
        assert bad not in markdown.output


def test_an_api_error_message_is_neutralised_on_stderr(tmp_path: Path) -> None:
    def lying(seen: Seen) -> Iterator[bytes]:
        body = json.dumps(
            {"success": False, "errors": [{"code": 1000, "message": "oops\r" + HOSTILE}]}
        ).encode()
        yield head("400 Bad Request", len(body)) + body

    root = tmp_path / "m"
    root.mkdir()
    (root / "stores.yaml").write_text("stores:\n  - name: main\n")
    with HostileServer(lying) as server:
        code, out, err, _ = run_capped(
            ["plan", str(root), "-v"], cwd=str(tmp_path), env=cli_env(server), memory_bytes=1 << 30
        )
    assert code == 1, err
    assert "oops" in err and "Traceback" not in err
    for bad in BAD:
        assert bad not in err, (bad, err)
        assert bad not in out
    assert r"oops\r" in err
