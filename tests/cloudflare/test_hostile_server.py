"""A hostile or broken server cannot hang a run, fill its memory or loop it forever.

Each case starts its own loopback server (tests/hostile.py) that drips, floods,
stalls or ignores ?page, and checks the run ends in bounded time with one sentence.
Deadlines are generous (a loaded 2-core machine) but far below what the bug cost.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import count
from pathlib import Path

import pytest

from reconciler.cloudflare.budget import WaitBudget, WaitBudgetError
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import MAX_PAGES, Backoff, ClientConfig, Timeouts
from reconciler.cloudflare.explain import explain
from reconciler.errors import ApiError

from ..hostile import Behaviour, HostileServer, Seen, endless, envelope, head, run_capped

TOKEN = "hostile-test-token"
ACCOUNT = "a" * 32
ACCOUNT_JSON = {"id": ACCOUNT, "name": "acct", "type": "standard"}
FAST = Backoff(base_s=0.01, cap_s=0.05)


def config(server: HostileServer, **overrides: object) -> ClientConfig:
    base = ClientConfig(token=TOKEN, base_url=server.base_url, backoff=FAST)
    return replace(base, **overrides)  # type: ignore[arg-type]


def list_accounts(cfg: ClientConfig) -> tuple[list[str], CloudflareClient]:
    async def run() -> tuple[list[str], CloudflareClient]:
        async with CloudflareClient(cfg) as client:
            return [a.id for a in await client.list_accounts()], client

    return asyncio.run(run())


def cli_env(server: HostileServer | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RECONCILER_"))}
    env.update(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_ACCOUNT_ID=ACCOUNT, PYTHONUNBUFFERED="1")
    if server is not None:
        env["CLOUDFLARE_API_BASE_URL"] = server.base_url
    env.update(extra)
    return env


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "stores.yaml").write_text("stores:\n  - name: main\n")
    return root


# --- a request has a deadline ------------------------------------------------------------


def drip(seen: Seen) -> Iterator[bytes]:
    """A valid answer, one byte a second: every single read is quick, the whole is not."""
    answer = envelope([ACCOUNT_JSON])
    for i in range(len(answer)):
        yield answer[i : i + 1]
        time.sleep(1.0)


def test_a_dripping_server_is_cut_off_at_the_request_deadline() -> None:
    with HostileServer(drip) as server:
        cfg = config(server, timeouts=Timeouts.uniform(1.0), max_retries=1)
        start = time.monotonic()
        with pytest.raises(ApiError) as caught:
            list_accounts(cfg)
        elapsed = time.monotonic() - start
    # Two attempts of 1 s each (and a short backoff); per-read timeouts never fired before.
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert len(server.seen) == 2
    sentence = explain(caught.value)
    assert "timed out" in sentence and "RequestTimeout" in sentence
    assert "--timeout SECONDS" in sentence


def test_cli_timeout_bounds_the_whole_run_against_a_drip(manifests: Path) -> None:
    with HostileServer(drip) as server:
        code, _out, err, seconds = run_capped(
            ["plan", str(manifests), "--timeout", "2"],
            cwd=str(manifests.parent),
            env=cli_env(server),
            memory_bytes=1 << 30,
            timeout_s=120,
        )
    # 5 attempts x 2 s + backoff 0.5+1+2+4 s: about 18 s, not the 90 s+ of per-read timeouts.
    assert seconds < 45, f"took {seconds:.1f} s"
    assert code == 1, err
    assert "timed out" in err and "Traceback" not in err
    assert len(server.seen) == 5


# --- answers are read only up to a limit -------------------------------------------------


def flood_announced(seen: Seen) -> Iterator[bytes]:
    yield head("200 OK", 10 * 1024**3)
    yield from endless(b"[" * 65536)


def flood_chunked(seen: Seen) -> Iterator[bytes]:
    yield head("200 OK", None, "Transfer-Encoding: chunked")
    chunk = b"x" * 65536
    yield from endless(b"%x\r\n%s\r\n" % (len(chunk), chunk))


@pytest.mark.parametrize("flood", [flood_announced, flood_chunked], ids=["10GB", "chunked"])
def test_a_huge_answer_is_refused_under_a_memory_cap(manifests: Path, flood: object) -> None:
    with HostileServer(flood) as server:  # type: ignore[arg-type]
        code, _out, err, seconds = run_capped(
            ["plan", str(manifests)],
            cwd=str(manifests.parent),
            env=cli_env(server),
            memory_bytes=512 * 1024**2,
            timeout_s=120,
        )
    assert code == 1, err
    assert "Traceback" not in err and "MemoryError" not in err
    assert "larger than 64 MiB" in err
    assert len(server.seen) == 1  # not retried: a second try would be as large
    assert seconds < 60


def test_json_nested_too_deep_is_not_an_envelope() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    def answer(seen: Seen) -> Iterator[bytes]:
        yield head("200 OK", len(deep)) + deep

    with HostileServer(answer) as server, pytest.raises(ApiError) as caught:
        list_accounts(config(server, max_retries=0))
    assert "not a JSON envelope" in str(caught.value)


# --- Retry-After is capped and the run has a wait budget ---------------------------------


def always_429(retry_after: str) -> object:
    def answer(seen: Seen) -> Iterator[bytes]:
        body = b'{"success":false,"errors":[{"code":971,"message":"slow down"}]}'
        yield head("429 Too Many Requests", len(body), f"Retry-After: {retry_after}") + body

    return answer


def test_retry_after_300_stops_at_the_wait_budget_instead_of_waiting() -> None:
    with HostileServer(always_429("300")) as server:  # type: ignore[arg-type]
        cfg = config(server, backoff=Backoff(base_s=0.01, cap_s=0.05, max_total_wait_s=5))
        start = time.monotonic()
        with pytest.raises(WaitBudgetError) as caught:
            list_accounts(cfg)
        elapsed = time.monotonic() - start
    assert elapsed < 5
    assert len(server.seen) == 1
    message = str(caught.value)
    assert "rate limited" not in message or "429" in message
    assert "HTTP 429 (Retry-After: 300 s)" in message
    assert "--max-wait SECONDS" in message and "RECONCILER_MAX_WAIT" in message


def test_short_retry_afters_are_honoured_until_the_budget_is_spent() -> None:
    with HostileServer(always_429("1")) as server:  # type: ignore[arg-type]
        cfg = config(
            server, max_retries=10, backoff=Backoff(base_s=0.01, cap_s=0.05, max_total_wait_s=2.5)
        )
        start = time.monotonic()
        with pytest.raises(WaitBudgetError, match=r"already waited 2 s of its 2 s"):
            list_accounts(cfg)
        elapsed = time.monotonic() - start
    # Two waits of 1 s fit in 2.5 s; the third would not, so the run stops after 3 requests.
    assert len(server.seen) == 3
    assert 1.9 <= elapsed < 15


def test_the_cap_on_one_retry_after_is_documented_in_the_defaults() -> None:
    assert Backoff().max_retry_after_s == 300
    assert Backoff().max_total_wait_s == 300


def test_overlapping_waits_are_charged_once() -> None:
    now = [100.0]
    budget = WaitBudget(10, clock=lambda: now[0])
    budget.charge(6, "a")
    budget.charge(6, "b")  # the same six seconds, waited by another request
    now[0] += 6
    budget.charge(4, "c")
    assert budget.spent_s == 10
    budget.charge(2, "overlaps c")  # still inside c's wait: free
    now[0] += 4
    with pytest.raises(WaitBudgetError, match="already waited 10 s of its 10 s"):
        budget.charge(0.5, "d")


def test_cli_max_wait_flag_and_variable(manifests: Path) -> None:
    with HostileServer(always_429("300")) as server:  # type: ignore[arg-type]
        for args, extra in (
            (["--max-wait", "1"], {}),
            ([], {"RECONCILER_MAX_WAIT": "1"}),
        ):
            code, _out, err, seconds = run_capped(
                ["plan", str(manifests), *args],
                cwd=str(manifests.parent),
                env=cli_env(server, **extra),
                memory_bytes=1 << 30,
            )
            assert code == 1, err
            assert seconds < 30
            assert "wait budget" in err and "--max-wait SECONDS" in err
            assert "Traceback" not in err
        code, _out, err, seconds = run_capped(
            ["plan", str(manifests)],
            cwd=str(manifests.parent),
            env=cli_env(server, RECONCILER_MAX_WAIT="soon"),
            memory_bytes=1 << 30,
        )
        assert code == 1 and "RECONCILER_MAX_WAIT must be a number of seconds" in err


# --- a server that ignores ?page ---------------------------------------------------------


def test_the_same_page_forever_is_stopped_at_page_2() -> None:
    def same(seen: Seen) -> Iterator[bytes]:
        yield envelope([ACCOUNT_JSON])

    with HostileServer(same) as server, pytest.raises(ApiError) as caught:
        list_accounts(config(server))
    assert len(server.seen) == 2
    assert "page 2 held only items of earlier pages" in explain(caught.value)
    assert "ignore ?page" in explain(caught.value)


def test_endless_fresh_pages_stop_at_the_page_cap() -> None:
    ids = count()

    def fresh(seen: Seen) -> Iterator[bytes]:
        yield envelope([{"id": f"{next(ids):032x}", "name": "n", "type": "standard"}])

    with HostileServer(fresh) as server, pytest.raises(ApiError) as caught:
        list_accounts(config(server, max_pages=25))
    assert len(server.seen) == 25
    assert "did not end after 25 pages" in str(caught.value)
    assert MAX_PAGES <= 1000  # the default cap: minutes at most, never 10,000 pages


def test_an_item_repeated_on_the_next_page_is_kept_once() -> None:
    pages = {
        1: [ACCOUNT_JSON, {"id": "b" * 32, "name": "b", "type": "standard"}],
        2: [{"id": "b" * 32, "name": "b", "type": "standard"},
            {"id": "c" * 32, "name": "c", "type": "standard"}],
        3: [],
    }  # fmt: skip

    def shifted(seen: Seen) -> Iterator[bytes]:
        page = int(seen.target.split("page=")[1].split("&")[0])
        yield envelope(pages[page])

    with HostileServer(shifted) as server:
        ids, _ = list_accounts(config(server))
    assert ids == [ACCOUNT, "b" * 32, "c" * 32]


# --- connection errors name the URL and where it came from -------------------------------


def test_a_port_where_nothing_listens_names_the_flag_and_the_url(
    manifests: Path, tmp_path: Path
) -> None:
    with HostileServer(lambda seen: iter(())) as server:
        url = server.base_url
    # The server is closed: nothing listens on its port any more.
    code, _out, err, _ = run_capped(
        ["plan", str(manifests), "--api-base-url", url],
        cwd=str(tmp_path),
        env=cli_env(CLOUDFLARE_API_BASE_URL="https://api.example.test/client/v4"),
        memory_bytes=1 << 30,
    )
    assert code == 1
    assert f"nothing answered at {url} (from --api-base-url)" in err
    assert "CLOUDFLARE_API_BASE_URL" not in err
    code, _out, err, _ = run_capped(
        ["plan", str(manifests)],
        cwd=str(tmp_path),
        env=cli_env(CLOUDFLARE_API_BASE_URL=url),
        memory_bytes=1 << 30,
    )
    assert code == 1
    assert f"nothing answered at {url} (from CLOUDFLARE_API_BASE_URL)" in err


def test_a_dead_port_with_a_small_wait_budget_says_nothing_answered(
    manifests: Path, tmp_path: Path
) -> None:
    """Issue 26, item 5: with --max-wait 1 the error blamed the wait budget ("a retry would
    wait 1 s ... raise it with --max-wait") instead of saying nothing answered there."""
    with HostileServer(lambda seen: iter(())) as server:
        url = server.base_url
    code, _out, err, _ = run_capped(
        ["plan", str(manifests), "--api-base-url", url, "--max-wait", "1"],
        cwd=str(tmp_path),
        env=cli_env(),
        memory_bytes=1 << 30,
    )
    assert code == 1
    assert f"nothing answered at {url} (from --api-base-url)" in err
    assert "--max-wait" not in err and "wait budget" not in err


def test_a_base_url_without_client_v4_gets_a_hint() -> None:
    def not_found(seen: Seen) -> Iterator[bytes]:
        yield b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found"

    with HostileServer(not_found) as server:
        cfg = replace(config(server), base_url=server.root_url, base_url_source="--api-base-url")
        with pytest.raises(ApiError) as caught:
            list_accounts(cfg)
    sentence = explain(caught.value)
    assert sentence.startswith("GET /accounts failed (HTTP 404, code none): Not Found;")
    assert "must end in /client/v4" in sentence
    assert f"at {server.root_url} (from --api-base-url)" in sentence


def test_an_envelope_404_keeps_its_plain_sentence() -> None:
    def with_code(seen: Seen) -> Iterator[bytes]:
        body = json.dumps({"success": False, "errors": [{"code": 1234, "message": "gone"}]})
        yield head("404 Not Found", len(body)) + body.encode()

    with HostileServer(with_code) as server, pytest.raises(ApiError) as caught:
        list_accounts(config(server))
    assert explain(caught.value) == "GET /accounts failed (HTTP 404, code 1234): gone."


def _paged_with(ratelimit: Callable[[int], str]) -> Behaviour:
    def answer(seen: Seen) -> Iterator[bytes]:
        # No totals: pages are read one after another, each answer seen before the next.
        page = int(seen.target.split("page=")[1].split("&")[0])
        items = [{"id": f"{page:032x}", "name": "n", "type": "standard"}] if page <= 6 else []
        yield envelope(items, extra=f"Ratelimit: {ratelimit(page)}", info={"page": page})

    return answer


def test_a_ratelimit_header_with_a_huge_reset_does_not_hang_the_run() -> None:
    """`Ratelimit: r=0;t=<a day>` on every answer: each pause is cut to one rate window, and a
    budget still spent once that window has passed is charged to the wait budget."""
    with HostileServer(_paged_with(lambda page: '"default";r=0;t=86400')) as server:
        cfg = config(
            server,
            rate_window_s=1.0,
            backoff=Backoff(base_s=0.01, cap_s=0.05, max_total_wait_s=1.5),
        )
        start = time.monotonic()
        with pytest.raises(WaitBudgetError, match="allows no more requests, for 86400 s"):
            list_accounts(cfg)
        elapsed = time.monotonic() - start
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert 2 <= len(server.seen) <= 4


def test_a_window_that_ends_and_resets_costs_no_wait_budget() -> None:
    def header(page: int) -> str:
        return '"default";r=0;t=1' if page == 1 else '"default";r=100;t=1'

    with HostileServer(_paged_with(header)) as server:
        cfg = config(server, backoff=Backoff(base_s=0.01, cap_s=0.05, max_total_wait_s=0))
        ids, _ = list_accounts(cfg)
    assert len(ids) == 6
