"""The split a `rollout` key asks for, from the live deployment (plan/facets/deployment.py),
and the default deployment message (the manifests' git commit)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reconciler.apply_steps.deployment import default_message, previous_version
from reconciler.errors import Location
from reconciler.plan.facets.deployment import NEW, pinned, show, target_split
from reconciler.state import LiveDeployment, LiveVersion, Rollout, Worker, rollout_tag

WANT = Worker(name="api", format="module", script_digest="sha256:" + "a" * 64)


def _want(**rollout: object) -> Worker:
    return Worker(**{**WANT.__dict__, "rollout": Rollout(**rollout)})  # type: ignore[arg-type]


def _live(split: list[tuple[str, float]], tags: dict[str, str] | None = None) -> LiveDeployment:
    versions = tuple(
        LiveVersion(id=f"id{n}", number=n, tag=(tags or {}).get(f"id{n}", "")) for n in (3, 2, 1)
    )
    return LiveDeployment(split=tuple(split), versions=versions)


def test_an_upload_gets_its_share_beside_the_version_serving_most() -> None:
    live = _live([("id1", 100)])
    assert target_split(_want(percentage=10), live, True) == (("id1", 90.0), (NEW, 10.0))
    assert show(((("id1", 90.0), (NEW, 10.0))), live) == "v1 90% / v4 10%"
    assert target_split(_want(percentage=100), live, True) == ((NEW, 100.0),)
    assert target_split(_want(percentage=0), live, True) == live.split  # uploaded, not deployed


def test_without_an_upload_the_tagged_version_is_the_one_rolled_out() -> None:
    want = _want(percentage=50)
    live = _live([("id1", 90), ("id2", 10)], {"id2": rollout_tag(want)})
    assert target_split(want, live, False) == (("id1", 50.0), ("id2", 50.0))
    assert target_split(_want(percentage=100), live, False) == (("id2", 100.0),)
    # percentage 0 takes it out again; a version serving alone cannot be split
    assert target_split(_want(percentage=0), live, False) == (("id1", 100.0),)
    alone = _live([("id2", 100)], {"id2": rollout_tag(_want(percentage=10))})
    assert target_split(_want(percentage=10), alone, False) == alone.split


def test_a_pin_names_a_version_by_id_number_or_vN() -> None:
    live = _live([("id3", 100)])
    for pin in ("id1", "1", "v1", "V1"):
        assert pinned(pin, live) == "id1"
        assert target_split(_want(version=pin), live, False) == (("id1", 100.0),)
    assert pinned("9", live) is None and target_split(_want(version="9"), live, False) is None


def test_rollback_default_skips_versions_of_the_same_code() -> None:
    live = _live([("id3", 100)], {"id3": "reconciler x", "id2": "reconciler x"})
    assert previous_version(live) == "id1"
    assert previous_version(_live([("id3", 100)])) == "id2"
    assert previous_version(_live([("id1", 100)])) is None


def test_default_message_is_the_manifests_commit(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    manifest = tmp_path / "workers.yaml"
    worker = Worker(**{**WANT.__dict__, "location": Location(str(manifest), 1, 1)})
    assert default_message(worker) == ""  # not a git checkout
    git("init", "-q")
    manifest.write_text("workers: []\n")
    git("add", "workers.yaml")
    git("commit", "-q", "-m", "payments v2: canary")
    assert default_message(worker) == f"{git('rev-parse', '--short', 'HEAD')} payments v2: canary"
