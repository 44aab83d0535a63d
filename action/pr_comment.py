"""Post the plan as ONE pull-request comment, or edit the one posted before (action.yml).

The comment is found by the hidden marker that `reconciler plan --format markdown` writes
on its first line, among comments written by a bot (the workflow's token): a person who
quotes the marker is never edited. Standard library only: it runs before, and apart from,
whatever reconciler version the action installed.

Reads GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH and GITHUB_TOKEN; writes
`comment-id` and `comment-url` to GITHUB_OUTPUT. Usage: pr_comment.py REPORT.md
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MARKER = "<!-- reconciler-plan -->"
# GitHub refuses comments over 65,536 characters; the renderer already stays under 60,000.
LIMIT = 65_000
TRUNCATED = "\n\n**Plan truncated.** The whole plan is in the job's `json-file` output.\n"
MAX_PAGES = 50  # 5,000 comments: past that, a new comment rather than an endless listing
MAX_ANSWER = 10 * 1024 * 1024
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(Exception):
    """The GitHub API refused or failed a call; the message says which and why."""


def _call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            payload = answer.read(MAX_ANSWER + 1)
            link = answer.headers.get("Link", "")
    except urllib.error.HTTPError as exc:
        hint = " (the token needs `pull-requests: write`)" if exc.code in (401, 403, 404) else ""
        raise GitHubError(f"{method} {url} answered HTTP {exc.code}{hint}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise GitHubError(f"{method} {url} failed: {exc}") from None
    if len(payload) > MAX_ANSWER:
        raise GitHubError(f"{method} {url} answered more than {MAX_ANSWER} bytes")
    found = _NEXT.search(link)
    return json.loads(payload or b"null"), (found.group(1) if found else None)


def pull_request_number(event_path: str | None) -> int | None:
    """The pull request this run is for (pull_request events, or a comment on one)."""
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number")
        if isinstance(number, int):
            return number
    return None


def find_ours(comments: list[Any]) -> dict[str, Any] | None:
    for comment in comments:
        user = comment.get("user") or {}
        if user.get("type") == "Bot" and (comment.get("body") or "").startswith(MARKER):
            return dict(comment)
    return None


def post(report: str, *, api: str, repository: str, number: int, token: str) -> dict[str, Any]:
    body = report if report.startswith(MARKER) else f"{MARKER}\n{report}"
    if len(body) > LIMIT:
        body = body[: LIMIT - len(TRUNCATED)] + TRUNCATED
    issue = f"{api}/repos/{repository}/issues/{number}"
    url: str | None = f"{issue}/comments?per_page=100"
    ours = None
    for _ in range(MAX_PAGES):
        if url is None:
            break
        page, url = _call("GET", url, token)
        ours = find_ours(page if isinstance(page, list) else [])
        if ours is not None:
            break
    if ours is not None:
        comment_id = int(ours["id"])
        answer, _ = _call(
            "PATCH", f"{api}/repos/{repository}/issues/comments/{comment_id}", token, {"body": body}
        )
    else:
        answer, _ = _call("POST", f"{issue}/comments", token, {"body": body})
    return dict(answer)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: pr_comment.py REPORT.md", file=sys.stderr)
        return 1
    number = pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
    if number is None:
        print("Not a pull request run: no plan comment posted.")
        return 0
    token = os.environ.get("GITHUB_TOKEN", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not token or not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        print("::error::GITHUB_TOKEN and GITHUB_REPOSITORY are needed to post the plan comment")
        return 1
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    report = Path(argv[1]).read_text(encoding="utf-8")
    try:
        comment = post(report, api=api, repository=repository, number=number, token=token)
    except GitHubError as exc:
        print(f"::error::the plan comment could not be posted: {exc}")
        return 1
    print(f"Plan comment: {comment.get('html_url', comment.get('id'))}")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"comment-id={comment.get('id', '')}\n")
            handle.write(f"comment-url={comment.get('html_url', '')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
