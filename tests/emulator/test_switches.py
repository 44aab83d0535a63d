"""Behaviour switches for the newer public facts: list shape, pending secrets, name rule,
per-account secret limit, and the RECONCILER_EMULATOR_BEHAVIOUR defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.emulator.config import BEHAVIOUR_ENV, EmulatorConfig
from reconciler.errors import ConfigError
from tests.emulator.conftest import A, Api, envelope_error, in_process, make_config

S = f"{A}/secrets_store/stores"


@pytest.fixture
def switched(request: pytest.FixtureRequest) -> Iterator[Api]:
    """An in-process emulator with the behaviour (and account) given by the test's param."""
    raw: dict[str, Any] = request.param
    with in_process(make_config(**raw)) as client:
        yield Api(client)


def _secrets(api: Api, store: str, query: str = "") -> Any:
    r = api.req("GET", f"{S}/{store}/secrets{query}")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("switched", "has_total_pages"),
    [
        ({"behaviour": {"list_result_info": "with_total_pages"}}, True),
        ({"behaviour": {"list_result_info": "count_only"}}, False),
    ],
    indirect=["switched"],
)
def test_list_result_info_shape(switched: Api, has_total_pages: bool) -> None:
    store = switched.create_store()
    for i in range(3):
        switched.create_secret(store, f"K{i}")
    for body, total in (
        (_secrets(switched, store, "?per_page=2"), 3),
        (switched.req("GET", S).json(), 1),
    ):
        info = body["result_info"]
        assert ("total_pages" in info) is has_total_pages
        assert info["total_count"] == total
    info = _secrets(switched, store, "?per_page=2&page=2")["result_info"]
    assert (info["count"], info["page"], info["per_page"], info["total_count"]) == (1, 2, 2, 3)
    if has_total_pages:
        assert info["total_pages"] == 2


@pytest.mark.parametrize(
    "switched", [{"behaviour": {"pending_secrets": {"reads": 2}}}], indirect=True
)
def test_pending_for_a_number_of_reads(switched: Api) -> None:
    store = switched.create_store()
    created = switched.create_secret(store, "API_KEY")
    assert created["status"] == "pending"  # the create answer does not count as a read
    sid = created["id"]
    one = switched.req("GET", f"{S}/{store}/secrets/{sid}").json()["result"]["status"]
    two = [s["status"] for s in _secrets(switched, store)["result"]]
    three = switched.req("GET", f"{S}/{store}/secrets/{sid}").json()["result"]["status"]
    assert (one, two, three) == ("pending", ["pending"], "active")
    # Inspection never counts: a fresh secret stays pending in the state dump.
    fresh = switched.create_secret(store, "OTHER")
    for _ in range(3):
        (st,) = [s for s in switched.state()["secrets"] if s["id"] == fresh["id"]]
        assert st["status"] == "pending"


@pytest.mark.parametrize(
    "switched", [{"behaviour": {"pending_secrets": {"reads": 5}}}], indirect=True
)
def test_a_list_page_counts_only_for_the_secrets_it_shows(switched: Api) -> None:
    store = switched.create_store()
    ids = [switched.create_secret(store, f"K{i}")["id"] for i in range(3)]
    for _ in range(5):
        _secrets(switched, store, "?per_page=1&page=1")  # shows K0 only
    statuses = {s["id"]: s["status"] for s in _secrets(switched, store)["result"]}
    assert statuses == {ids[0]: "active", ids[1]: "pending", ids[2]: "pending"}


@pytest.mark.parametrize(
    "switched", [{"behaviour": {"pending_secrets": {"seconds": 3600}}}], indirect=True
)
def test_pending_for_seconds_and_usable_meanwhile(switched: Api) -> None:
    store = switched.create_store()
    sid = switched.create_secret(store, "API_KEY")["id"]
    for _ in range(4):
        r = switched.req("GET", f"{S}/{store}/secrets/{sid}")
        assert r.json()["result"]["status"] == "pending"
    # A pending secret exists: its name is taken, PATCH and bindings work, delete removes it.
    body = [{"name": "API_KEY", "value": "v", "scopes": ["workers"]}]
    r = switched.req("POST", f"{S}/{store}/secrets", json=body)
    assert r.status_code == 400 and envelope_error(r) == (1003, "secret_name_already_exists")
    r = switched.req("PATCH", f"{S}/{store}/secrets/{sid}", json={"comment": "c"})
    assert r.status_code == 200 and r.json()["result"]["comment"] == "c"
    md = {"main_module": "index.js", "bindings": [
        {"type": "secrets_store_secret", "name": "K", "store_id": store, "secret_name": "API_KEY"}
    ]}  # fmt: skip
    assert switched.upload_module("w", **md).status_code == 200
    assert switched.req("DELETE", f"{S}/{store}/secrets/{sid}").status_code == 202
    assert switched.req("GET", f"{S}/{store}/secrets/{sid}").status_code == 404


@pytest.mark.parametrize(
    "switched", [{"behaviour": {"pending_secrets": {"seconds": 0.05}}}], indirect=True
)
def test_pending_ends_after_its_seconds(switched: Api) -> None:
    store = switched.create_store()
    sid = switched.create_secret(store, "API_KEY")["id"]
    time.sleep(0.2)
    assert switched.req("GET", f"{S}/{store}/secrets/{sid}").json()["result"]["status"] == "active"


@pytest.mark.parametrize("name", ["a.b", "50%", "naïve", "with space", "a/b", "x+y"])
@pytest.mark.parametrize("switched", [{}], indirect=True)
def test_secret_name_rule_default_pattern(switched: Api, name: str) -> None:
    store = switched.create_store()
    body = [{"name": name, "value": "v", "scopes": ["workers"]}]
    r = switched.req("POST", f"{S}/{store}/secrets", json=body)
    assert r.status_code == 400
    code, message = envelope_error(r)
    assert code == 1001 and message.startswith("invalid_secret_name")
    assert switched.state()["secrets"] == []
    for ok in ("A-z_0-9", "API_KEY", "k-1"):
        switched.create_secret(store, ok)


@pytest.mark.parametrize("switched", [{"behaviour": {"secret_names": "no_spaces"}}], indirect=True)
def test_secret_name_rule_no_spaces(switched: Api) -> None:
    store = switched.create_store()
    switched.create_secret(store, "a.b%c")
    r = switched.req(
        "POST", f"{S}/{store}/secrets", json=[{"name": "a b", "value": "v", "scopes": ["workers"]}]
    )
    assert envelope_error(r)[1].startswith("secret_name_invalid")


@pytest.mark.parametrize(
    "switched",
    [{"accounts": [{"id": "023e105f4ecef8ad9ca31a8372d0c353", "max_secrets": 3}]}],
    indirect=True,
)
def test_per_account_secret_limit(switched: Api) -> None:
    store = switched.create_store()
    for i in range(3):
        switched.create_secret(store, f"K{i}")
    r = switched.req(
        "POST", f"{S}/{store}/secrets", json=[{"name": "K3", "value": "v", "scopes": ["workers"]}]
    )
    assert r.status_code == 400 and envelope_error(r) == (1003, "maximum_secrets_exceeded")
    q = switched.req("GET", f"{A}/secrets_store/quota").json()["result"]
    assert q == {"secrets": {"quota": 3, "usage": 3}}


def test_default_limit_is_100_and_value_64_kib(api: Api) -> None:
    store = api.create_store()
    body = [{"name": f"K{i}", "value": "v", "scopes": ["workers"]} for i in range(100)]
    assert api.req("POST", f"{S}/{store}/secrets", json=body).status_code == 200
    r = api.req("POST", f"{S}/{store}/secrets", json=[{**body[0], "name": "K100"}])
    assert envelope_error(r) == (1003, "maximum_secrets_exceeded")
    api.req("DELETE", f"{S}/{store}/secrets", json={"ids": [api.state()["secrets"][0]["id"]]})
    big = [{"name": "BIG", "value": "é" * 32_768, "scopes": ["workers"]}]  # 65,536 bytes
    assert api.req("POST", f"{S}/{store}/secrets", json=big).status_code == 200
    too_big = [{"name": "BIGGER", "value": "x" * 65_537, "scopes": ["workers"]}]
    r = api.req("POST", f"{S}/{store}/secrets", json=too_big)
    assert envelope_error(r)[1].startswith("secret_value_too_large")


def test_environment_sets_defaults_the_config_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        BEHAVIOUR_ENV, '{"list_result_info": "count_only", "pending_secrets": {"reads": 1}}'
    )
    cfg = EmulatorConfig()
    assert cfg.behaviour.list_result_info == "count_only"
    assert cfg.behaviour.pending_secrets.reads == 1
    cfg = EmulatorConfig.model_validate({"behaviour": {"list_result_info": "with_total_pages"}})
    assert cfg.behaviour.list_result_info == "with_total_pages"  # the config wins
    assert cfg.behaviour.pending_secrets.reads == 1
    monkeypatch.setenv(BEHAVIOUR_ENV, "patch_secret: accept")  # YAML works too
    assert EmulatorConfig.load(None).behaviour.patch_secret == "accept"


@pytest.mark.parametrize(
    ("value", "needle"),
    [("[1, 2]", "mapping"), ("{nope: 1}", "nope"), ("{patch_secret: maybe}", "patch_secret")],
)
def test_bad_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, value: str, needle: str
) -> None:
    monkeypatch.setenv(BEHAVIOUR_ENV, value)
    with pytest.raises(ConfigError, match=needle):
        EmulatorConfig.load(None)
