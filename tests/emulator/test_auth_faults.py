"""Tokens and permissions, the request log, rate limiting, injected faults and latency."""

from __future__ import annotations

import time

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID
from tests.emulator.conftest import A, Api, envelope_error, in_process, make_config

OTHER = "c" * 32
CFG = {
    "accounts": [{"id": DEFAULT_ACCOUNT_ID, "name": "Acme"}, {"id": OTHER, "name": "Other"}],
    "tokens": [
        {"token": "reader", "accounts": [DEFAULT_ACCOUNT_ID],
         "permissions": ["Workers Scripts Read", "Secrets Store Read"]},
        {"token": "workers-only", "accounts": [DEFAULT_ACCOUNT_ID],
         "permissions": ["Workers Scripts Write"]},
        {"token": "both", "accounts": [DEFAULT_ACCOUNT_ID, OTHER]},
    ],
}  # fmt: skip


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_malformed_and_unknown_tokens(api: Api) -> None:
    r = api.c.get("/client/v4/accounts")
    assert r.status_code == 400 and envelope_error(r)[0] == 9106
    r = api.c.get("/client/v4/accounts", headers={"Authorization": "Basic xyz"})
    assert r.status_code == 400 and envelope_error(r)[0] == 6003
    assert r.json()["errors"][0]["error_chain"][0]["code"] == 6111
    r = api.c.get("/client/v4/accounts", headers=bearer("nope"))
    assert r.status_code == 401 and envelope_error(r) == (10000, "Authentication error")
    r = api.req("GET", "/client/v4/user/tokens/verify")
    assert envelope_error(r)[0] == 9109


def test_permissions_and_accounts() -> None:
    with in_process(make_config(**CFG)) as c:
        api = Api(c)
        stores = f"{A}/secrets_store/stores"
        # Read permission reads, cannot write.
        assert api.req("GET", stores, headers=bearer("reader")).status_code == 200
        r = api.req("POST", stores, json={"name": "s"}, headers=bearer("reader"))
        assert r.status_code == 403 and envelope_error(r) == (10000, "Authentication error")
        # Workers permission does not reach Secrets Store.
        r = api.req("GET", stores, headers=bearer("workers-only"))
        assert r.status_code == 403 and envelope_error(r)[0] == 10000
        # An account the token lacks.
        r = api.req("GET", f"/client/v4/accounts/{OTHER}/workers/scripts", headers=bearer("reader"))
        assert r.status_code == 403 and envelope_error(r)[0] == 10000
        # A malformed account id is a routing error.
        r = api.req("GET", "/client/v4/accounts/xyz/workers/scripts", headers=bearer("both"))
        assert r.status_code == 404 and envelope_error(r)[0] == 7003
        # /accounts lists only what the token sees, paged with per_page >= 5.
        ids = [a["id"] for a in api.req("GET", "/client/v4/accounts",
                                        headers=bearer("both")).json()["result"]]  # fmt: skip
        assert ids == [DEFAULT_ACCOUNT_ID, OTHER]
        r = api.req("GET", "/client/v4/accounts", headers=bearer("reader"), params={"page": 2})
        assert r.json()["result"] == []
        assert api.state()["stores"] == []


def test_request_log_in_order_and_clear(api: Api) -> None:
    api.req("GET", "/client/v4/accounts", params={"page": "1"})
    api.req("GET", f"{A}/workers/scripts/missing")
    api.req("GET", "/client/v4/nowhere")
    log = api.c.get("/__emulator/requests").json()
    times = [entry.pop("at") for entry in log]
    assert times == sorted(times), "each entry says when its answer was ready"
    assert log == [
        {"method": "GET", "path": "/client/v4/accounts", "query": "page=1", "status": 200},
        {"method": "GET", "path": f"{A}/workers/scripts/missing", "query": "", "status": 404},
        {"method": "GET", "path": "/client/v4/nowhere", "query": "", "status": 404},
    ]
    assert api.c.request("DELETE", "/__emulator/requests").status_code == 204
    assert api.c.get("/__emulator/requests").json() == []


def test_rate_limit_429_with_retry_after() -> None:
    cfg = make_config(faults={"rate_limit": {"requests": 3, "window_s": 60}})
    with in_process(cfg) as c:
        api = Api(c)
        first = api.req("GET", "/client/v4/accounts")
        assert first.headers["Ratelimit"] == '"default";r=2;t=60'
        assert first.headers["Ratelimit-Policy"] == '"default";q=3;w=60'
        for _ in range(2):
            assert api.req("GET", "/client/v4/accounts").status_code == 200
        r = api.req("POST", f"{A}/secrets_store/stores", json={"name": "s"})
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert envelope_error(r)[0] == 971
        assert api.state()["stores"] == []
        assert [e["status"] for e in c.get("/__emulator/requests").json()][-1] == 429
        # Another token has its own budget.
        assert c.get("/client/v4/accounts").status_code == 400


def test_passing_the_limit_blocks_for_a_whole_window_from_then() -> None:
    """The real API blocks all calls for the next window, not just until the old one ends."""
    cfg = make_config(faults={"rate_limit": {"requests": 2, "window_s": 1.0}})
    with in_process(cfg) as c:
        api = Api(c)
        for _ in range(2):
            assert api.req("GET", "/client/v4/accounts").status_code == 200
        time.sleep(0.6)
        assert api.req("GET", "/client/v4/accounts").status_code == 429  # blocked until ~1.6 s
        time.sleep(0.6)  # the first window is over (1.2 s), the block is not
        blocked = api.req("GET", "/client/v4/accounts")
        assert blocked.status_code == 429
        assert blocked.headers["Ratelimit"].startswith('"default";r=0;')
        time.sleep(0.6)
        assert api.req("GET", "/client/v4/accounts").status_code == 200


def test_seeded_faults_change_nothing_and_repeat() -> None:
    def run() -> list[int]:
        with in_process(make_config(faults={"error_rate": 0.5, "seed": 7})) as c:
            api = Api(c)
            statuses = []
            for i in range(20):
                r = api.req("POST", f"{A}/secrets_store/stores", json={"name": f"s{i}"})
                statuses.append(r.status_code)
                if r.status_code >= 500:
                    assert r.json()["success"] is False
            # Only successful requests changed state (limit 1: one store, then 1003s).
            stores = api.state()["stores"]
            assert len(stores) == (1 if 200 in statuses else 0)
            return statuses

    first = run()
    assert first == run()
    assert {s for s in first if s >= 500} <= {500, 502, 503}
    assert any(s >= 500 for s in first) and any(s < 500 for s in first)


def test_faults_endpoint_turns_faults_and_latency_on_and_off(api: Api) -> None:
    r = api.c.request("PUT", "/__emulator/faults", json={"error_rate": 1.0, "seed": 1})
    assert r.status_code == 200
    assert api.req("GET", "/client/v4/accounts").status_code in {500, 502, 503}
    api.c.request("PUT", "/__emulator/faults", json={"error_rate": 0.0, "latency_ms": 80})
    t0 = time.monotonic()
    assert api.req("GET", "/client/v4/accounts").status_code == 200
    assert time.monotonic() - t0 >= 0.05
    r = api.c.request("PUT", "/__emulator/faults", json={"error_rate": 3})
    assert r.status_code == 400
    assert api.c.get("/__emulator/faults").json()["latency_ms"] == 80
