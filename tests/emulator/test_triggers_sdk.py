"""Triggers and reachability with the official Python SDK (cloudflare 5.9.0) against the
served emulator: zones, cron schedules, zone routes, custom domains, the workers.dev subdomain."""

from __future__ import annotations

from collections.abc import Iterator

import cloudflare
import httpx
import pytest
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.emulator.server import EmulatorServer
from tests.emulator.conftest import MODULE_JS, make_config

A = DEFAULT_ACCOUNT_ID
OTHER = "f" * 32
ZONE = "a" * 32
ZONE2 = "b" * 32
FOREIGN = "c" * 32  # a zone of an account the token cannot see
# Twelve zones past the first two: three pages of five.
MORE = [{"id": f"{i:032x}", "name": f"z{i:02d}.test", "account": A} for i in range(1, 13)]


@pytest.fixture
def cf(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Cloudflare, EmulatorServer]]:
    for var in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_TOKEN",
                "CLOUDFLARE_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    cfg = make_config(
        accounts=[{"id": A, "name": "Main"}, {"id": OTHER, "name": "Other"}],
        tokens=[{"token": DEFAULT_TOKEN, "accounts": [A]}],
        zones=[
            {"id": ZONE, "name": "example.com", "account": A},
            {"id": ZONE2, "name": "example.org", "account": A},
            {"id": FOREIGN, "name": "foreign.net", "account": OTHER},
            *MORE,
        ],
    )
    with EmulatorServer(config=cfg) as srv:
        client = Cloudflare(base_url=srv.base_url, api_token=DEFAULT_TOKEN, max_retries=0)
        for name in ("api", "other"):
            client.workers.scripts.update(
                name,
                account_id=A,
                metadata={"main_module": "index.js", "compatibility_date": "2025-01-01"},
                files=[("index.js", MODULE_JS, "application/javascript+module")],
            )
        yield client, srv
        client.close()


def test_zones_list_filters_by_name_and_pages(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, srv = cf
    (zone,) = client.zones.list(name="example.com")
    assert zone.id == ZONE and zone.name == "example.com" and zone.account.id == A
    assert list(client.zones.list(name="foreign.net")) == []  # another account's zone
    assert [z.name for z in client.zones.list(name="ends_with:.org")] == ["example.org"]
    names = [z.name for z in client.zones.list(per_page=5)]
    assert names == sorted(names) and len(names) == 14
    queries = [e["query"] for e in httpx.get(srv.root_url + "/__emulator/requests").json()]
    assert queries[-1] == "per_page=5&page=4"  # the empty page ends the SDK's paging
    assert client.zones.get(zone_id=ZONE).name == "example.com"  # type: ignore[union-attr]


def test_schedules_replace_the_whole_list(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf
    sched = client.workers.scripts.schedules
    assert sched.get("api", account_id=A).schedules == []  # type: ignore[union-attr]
    put = sched.update("api", account_id=A, body=[{"cron": "*/5 * * * *"}, {"cron": "0 3 * * 1"}])
    assert [s.cron for s in put.schedules] == ["*/5 * * * *", "0 3 * * 1"]  # type: ignore[union-attr]
    first = put.schedules[0].created_on  # type: ignore[union-attr]
    again = sched.update("api", account_id=A, body=[{"cron": "*/5 * * * *"}])
    assert [s.cron for s in again.schedules] == ["*/5 * * * *"]  # type: ignore[union-attr]
    assert again.schedules[0].created_on == first  # type: ignore[union-attr]
    got = sched.get("api", account_id=A)
    assert [s.cron for s in got.schedules] == ["*/5 * * * *"]  # type: ignore[union-attr]
    with pytest.raises(cloudflare.BadRequestError):
        sched.update("api", account_id=A, body=[{"cron": "every five minutes"}])
    with pytest.raises(cloudflare.NotFoundError):
        sched.get("missing", account_id=A)


def test_zone_routes_crud_and_one_pattern_per_zone(
    cf: tuple[Cloudflare, EmulatorServer],
) -> None:
    client, _ = cf
    routes = client.workers.routes
    made = routes.create(zone_id=ZONE, pattern="api.example.com/*", script="api")
    assert made.pattern == "api.example.com/*" and made.script == "api" and made.id
    listed = list(routes.list(zone_id=ZONE))
    assert [(r.id, r.pattern, r.script) for r in listed] == [(made.id, made.pattern, "api")]
    with pytest.raises(cloudflare.ConflictError) as dup:
        routes.create(zone_id=ZONE, pattern="api.example.com/*", script="other")
    assert dup.value.body["errors"][0]["code"] == 10020  # type: ignore[index]
    with pytest.raises(cloudflare.BadRequestError) as outside:
        routes.create(zone_id=ZONE, pattern="api.example.org/*", script="api")
    assert outside.value.body["errors"][0]["code"] == 10022  # type: ignore[index]
    with pytest.raises(cloudflare.BadRequestError) as missing:
        routes.create(zone_id=ZONE, pattern="x.example.com/*", script="nope")
    assert missing.value.body["errors"][0]["code"] == 10019  # type: ignore[index]
    moved = routes.update(made.id, zone_id=ZONE, pattern="api.example.com/*", script="other")
    assert moved.script == "other"
    assert routes.get(made.id, zone_id=ZONE).script == "other"
    listed_scripts = {s.id: s.routes for s in client.workers.scripts.list(account_id=A)}
    assert [r.pattern for r in listed_scripts["other"] or []] == ["api.example.com/*"]
    assert not listed_scripts["api"]
    routes.delete(made.id, zone_id=ZONE)
    assert list(routes.list(zone_id=ZONE)) == []
    with pytest.raises(cloudflare.NotFoundError) as gone:
        routes.delete(made.id, zone_id=ZONE)
    assert gone.value.body["errors"][0]["code"] == 10009  # type: ignore[index]
    with pytest.raises(cloudflare.PermissionDeniedError):  # a zone of another account
        list(routes.list(zone_id=FOREIGN))


def test_custom_domains_one_worker_per_hostname(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf
    domains = client.workers.domains
    d = domains.update(account_id=A, hostname="api.example.com", service="api", zone_id=ZONE)
    assert (d.hostname, d.service, d.zone_id, d.zone_name) == (
        "api.example.com", "api", ZONE, "example.com"
    )  # fmt: skip
    again = domains.update(account_id=A, hostname="api.example.com", service="api", zone_id=ZONE)
    assert again.id == d.id  # attaching it again changes nothing
    by_name = domains.update(account_id=A, hostname="example.org", service="api",
                             zone_name="example.org")  # fmt: skip
    assert by_name.zone_id == ZONE2
    with pytest.raises(cloudflare.ConflictError) as held:
        domains.update(account_id=A, hostname="api.example.com", service="other", zone_id=ZONE)
    assert held.value.body["errors"][0]["code"] == 100116  # type: ignore[index]
    with pytest.raises(cloudflare.BadRequestError):
        domains.update(account_id=A, hostname="api.example.org", service="api", zone_id=ZONE)
    assert [x.hostname for x in domains.list(account_id=A, service="api")] == [
        "api.example.com", "example.org"
    ]  # fmt: skip
    assert domains.get(d.id, account_id=A).hostname == "api.example.com"
    domains.delete(d.id, account_id=A)
    assert [x.hostname for x in domains.list(account_id=A)] == ["example.org"]
    with pytest.raises(cloudflare.NotFoundError) as gone:
        domains.get(d.id, account_id=A)
    assert gone.value.body["errors"][0]["code"] == 100114  # type: ignore[index]


def test_subdomain_create_get_delete(cf: tuple[Cloudflare, EmulatorServer]) -> None:
    client, _ = cf
    sub = client.workers.scripts.subdomain
    got = sub.get("api", account_id=A)
    assert (got.enabled, got.previews_enabled) == (False, False)
    on = sub.create("api", account_id=A, enabled=True, previews_enabled=False)
    assert (on.enabled, on.previews_enabled) == (True, False)
    assert sub.get("api", account_id=A).enabled is True
    off = sub.delete("api", account_id=A)
    assert (off.enabled, off.previews_enabled) == (False, False)


def test_deleting_a_worker_takes_its_routes_and_domains(
    cf: tuple[Cloudflare, EmulatorServer],
) -> None:
    client, srv = cf
    client.workers.routes.create(zone_id=ZONE, pattern="api.example.com/*", script="api")
    client.workers.routes.create(zone_id=ZONE, pattern="o.example.com/*", script="other")
    client.workers.domains.update(account_id=A, hostname="api.example.com", service="api")
    client.workers.scripts.delete("api", account_id=A)
    state = httpx.get(srv.root_url + "/__emulator/state").json()
    assert [r["pattern"] for r in state["routes"]] == ["o.example.com/*"]
    assert state["domains"] == []
