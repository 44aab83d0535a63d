"""The triggers keys of a worker: loaded into the state model, left-out keys as None (not
managed), every problem at its file:line:column."""

from __future__ import annotations

import pytest

from reconciler.state import DomainSpec, RouteSpec
from tests.manifest.conftest import Write, load, problems_of

ZONE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def base(write: Write) -> Write:
    write("w.js", "export default { fetch() { return new Response('x') } }\n")
    return write


def test_keys_load_and_left_out_keys_stay_unmanaged(base: Write) -> None:
    base(
        "m.yaml",
        f"""
        workers:
          - name: api
            script: w.js
            crons: ["*/5   * * * *", "0 3 * * 1"]
            routes:
              - {{pattern: "api.example.com/*", zone: example.com}}
              - {{pattern: "*.example.org/v1/*", zone_id: {ZONE_ID}}}
            domains: [{{hostname: shop.example.com, zone: example.com}}]
            workers_dev: false
            preview_urls: true
          - name: plain
            script: w.js
          - name: cleared
            script: w.js
            crons: []
            routes: []
            domains: []
        """,
    )
    workers = load("m.yaml").state.workers
    api = workers["api"]
    assert api.crons == ("*/5 * * * *", "0 3 * * 1")  # spacing normalised
    assert api.routes == (
        RouteSpec("api.example.com/*", zone="example.com"),
        RouteSpec("*.example.org/v1/*", zone_id=ZONE_ID),
    )
    assert api.domains == (DomainSpec("shop.example.com", zone="example.com"),)
    assert (api.workers_dev, api.preview_urls) == (False, True)
    plain = workers["plain"]
    assert (plain.crons, plain.routes, plain.domains, plain.workers_dev, plain.preview_urls) == (
        None, None, None, None, None
    )  # fmt: skip
    cleared = workers["cleared"]
    assert (cleared.crons, cleared.routes, cleared.domains) == ((), (), ())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('crons: ["every 5 minutes"]', "m.yaml:4:13: a cron is five fields"),
        (
            'routes: [{pattern: "api.example.org/*", zone: example.com}]',
            "m.yaml:4:14: route pattern 'api.example.org/*' is not in zone example.com",
        ),
        ('routes: [{pattern: "api.example.com/*"}]', "m.yaml:4:14: give the zone by name"),
        (
            'routes: [{pattern: "/*", zone: example.com}]',
            "m.yaml:4:24: a route pattern starts with a hostname",
        ),
        (
            "domains: [{hostname: shop.example.org, zone: example.com}]",
            "m.yaml:4:15: custom domain 'shop.example.org' is not in zone example.com",
        ),
        ("domains: [{hostname: Shop.Example.com, zone: example.com}]", "is a lowercase domain"),
        ('routes: [{pattern: "a.example.com/*", zone_id: nothex}]', "a zone_id is 32"),
        ("workers_dev: sometimes", "m.yaml:4:18:"),
    ],
)
def test_each_problem_names_the_spot(base: Write, body: str, expected: str) -> None:
    base("m.yaml", f"workers:\n  - name: api\n    script: w.js\n    {body}\n")
    problems = problems_of("m.yaml")
    assert any(expected in p for p in problems), problems


def test_a_cron_route_or_domain_listed_twice_is_a_problem_at_the_second(base: Write) -> None:
    base(
        "m.yaml",
        """
        workers:
          - name: api
            script: w.js
            crons: ["0 * * * *", "0  * * * *"]
            routes:
              - {pattern: "a.example.com/*", zone: example.com}
              - {pattern: "a.example.com/*", zone: example.com}
            domains:
              - {hostname: a.example.com, zone: example.com}
              - {hostname: a.example.com, zone: example.com}
        """,
    )
    problems = problems_of("m.yaml")
    assert len(problems) == 3, problems
    assert problems[0].startswith("m.yaml:4:26: duplicate cron '0 * * * *'")
    assert problems[1].startswith("m.yaml:7:9: duplicate route 'a.example.com/*'")
    assert problems[2].startswith("m.yaml:10:9: duplicate custom domain a.example.com")
