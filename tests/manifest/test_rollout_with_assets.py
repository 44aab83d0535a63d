"""`rollout` beside `assets` on one worker is refused at its line, not applied half-managed.

A version upload does not carry the proof of the assets it sent, so such a worker planned its
assets again after every apply (the convergence property test found it); until it does, the
manifest says so instead.
"""

from __future__ import annotations

from tests.manifest.conftest import Write, load, problems_of

WORKER = "workers:\n  - name: site\n    script: w.js\n    assets: {directory: public}\n"


def test_rollout_with_assets_is_refused_at_the_rollout_line(write: Write) -> None:
    write("w.js", "export default { fetch() { return new Response('') } }\n")
    write("public/index.html", "<h1>hi</h1>\n")
    write("m.yaml", WORKER + "    rollout: {percentage: 10}\n")
    problems = problems_of("m.yaml")
    assert len(problems) == 1, problems
    assert "m.yaml:5" in problems[0]
    assert "rollout and assets on one worker are not supported yet" in problems[0]


def test_assets_without_rollout_still_load(write: Write) -> None:
    write("w.js", "export default { fetch() { return new Response('') } }\n")
    write("public/index.html", "<h1>hi</h1>\n")
    write("m.yaml", WORKER)
    assert load("m.yaml").state.workers["site"].assets is not None
