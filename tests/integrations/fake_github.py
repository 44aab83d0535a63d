"""A stand-in for the GitHub REST API's issue comments, on a loopback port, recording calls."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT = {"login": "github-actions[bot]", "type": "Bot"}


@dataclass
class FakeGitHub:
    """Comments of one repository's issues; `calls` holds (method, path, body) per request."""

    token: str
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    next_id: int = 1000

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.calls if m != "GET"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length", "0"))
                return json.loads(self.rfile.read(length)) if length else None

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                body = self._body() if method != "GET" else None
                fake.calls.append((method, url.path, body))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, {"message": "Bad credentials"})
                    return
                parts = url.path.strip("/").split("/")
                # /repos/{owner}/{repo}/issues/{n}/comments
                if len(parts) == 6 and parts[3] == "issues" and parts[5] == "comments":
                    number = int(parts[4])
                    if method == "GET":
                        query = parse_qs(url.query)
                        per_page = int(query.get("per_page", ["30"])[0])
                        page = int(query.get("page", ["1"])[0])
                        items = fake.comments.get(number, [])
                        chunk = items[(page - 1) * per_page : page * per_page]
                        headers = {}
                        if page * per_page < len(items):
                            nxt = f"{fake.url}{url.path}?per_page={per_page}&page={page + 1}"
                            headers["Link"] = f'<{nxt}>; rel="next"'
                        self._send(200, chunk, headers)
                        return
                    if method == "POST":
                        fake.next_id += 1
                        comment = {
                            "id": fake.next_id,
                            "body": body["body"],
                            "user": BOT,
                            "html_url": f"https://github.invalid/o/r/pull/{number}#c{fake.next_id}",
                        }
                        fake.comments.setdefault(number, []).append(comment)
                        self._send(201, comment)
                        return
                # /repos/{owner}/{repo}/issues/comments/{id}
                if len(parts) == 6 and parts[3:5] == ["issues", "comments"] and method == "PATCH":
                    for items in fake.comments.values():
                        for comment in items:
                            if comment["id"] == int(parts[5]):
                                comment["body"] = body["body"]
                                self._send(200, comment)
                                return
                self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

        return Handler
