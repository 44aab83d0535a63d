"""Properties: paging until empty visits every item exactly once, for any sizes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulator.conftest import A, Api, in_process


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=0, max_value=23), per_page=st.integers(min_value=1, max_value=7))
def test_secret_pages_cover_everything_once(n: int, per_page: int) -> None:
    with in_process() as c:
        api = Api(c)
        sid = api.create_store()
        if n:
            body = [{"name": f"K{i:02}", "value": "x", "scopes": ["workers"]} for i in range(n)]
            r = api.req("POST", f"{A}/secrets_store/stores/{sid}/secrets", json=body)
            assert r.status_code == 200
        seen: list[str] = []
        page = 1
        while True:
            r = api.req("GET", f"{A}/secrets_store/stores/{sid}/secrets",
                        params={"page": page, "per_page": per_page, "order": "name"})  # fmt: skip
            chunk = [s["name"] for s in r.json()["result"]]
            if not chunk:
                break
            assert r.json()["result_info"]["total_count"] == n
            seen.extend(chunk)
            page += 1
        assert seen == [f"K{i:02}" for i in range(n)]
        assert page == -(-n // per_page) + 1
