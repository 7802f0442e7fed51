"""The arXiv client against recorded responses (respx): spacing, paging, retries, fetch."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.ingest.arxiv import API_URL, ArxivClient, FetchError, RateLimiter, build_query
from bot.ingest.seeds import ParsedPaper
from tests.conftest import FIXTURES

ATOM = (FIXTURES / "arxiv" / "api_response.xml").read_bytes()
RSS = (FIXTURES / "arxiv" / "rss_cs_lg.xml").read_bytes()


class FakeClock:
    """A clock that only moves when the code sleeps: spacing is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(clock: FakeClock, retries: int = 4) -> ArxivClient:
    return ArxivClient(
        "paperbot-test/1.0 (mailto:test@example.org)",
        retries=retries,
        limiter=RateLimiter(3.0, clock, clock.sleep),
        backoff=2.0,
    )


def test_build_query() -> None:
    query = build_query(
        ["cs.LG", "stat.ML"],
        ["Nino Vieillard"],
        'reward "model"',
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 24),
    )
    assert query == (
        '(cat:cs.LG OR cat:stat.ML) AND (au:"Nino Vieillard") AND all:"reward  model" '
        "AND submittedDate:[202611200000 TO 202611242359]"
    )


@respx.mock
def test_requests_are_three_seconds_apart_and_identify_themselves() -> None:
    clock = FakeClock()
    route = respx.get(API_URL).mock(return_value=httpx.Response(200, content=ATOM))
    arxiv = client(clock)
    for _ in range(3):
        arxiv.get(API_URL)
    assert route.call_count == 3
    assert clock.sleeps == [3.0, 3.0]
    assert route.calls[0].request.headers["User-Agent"].startswith("paperbot-test/1.0")


@respx.mock
def test_paging_stops_on_a_short_page() -> None:
    clock = FakeClock()
    route = respx.get(API_URL).mock(return_value=httpx.Response(200, content=ATOM))  # 3 entries a page
    items = list(client(clock).search("cat:cs.LG", page_size=3, max_results=9))
    starts = [int(call.request.url.params["start"]) for call in route.calls]
    assert starts == [0, 3, 6] and sum(isinstance(i, ParsedPaper) for i in items) == 9
    assert route.calls[0].request.url.params["sortBy"] == "submittedDate"
    route.mock(return_value=httpx.Response(200, content=ATOM))
    items = list(client(FakeClock()).search("cat:cs.LG", page_size=10, max_results=50))
    assert len([i for i in items if isinstance(i, ParsedPaper)]) == 3  # short page: done


@respx.mock
def test_paging_stops_before_the_window() -> None:
    route = respx.get(API_URL).mock(return_value=httpx.Response(200, content=ATOM))
    list(client(FakeClock()).search("cat:cs.LG", page_size=3, max_results=30, since=dt.date(2026, 1, 1)))
    assert route.call_count == 1  # the page already reaches back to 1999


@respx.mock
def test_retries_on_429_and_503_then_succeeds() -> None:
    clock = FakeClock()
    route = respx.get(API_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "10"}),
            httpx.Response(503),
            httpx.ConnectError("reset"),
            httpx.Response(200, content=ATOM),
        ]
    )
    assert client(clock).get(API_URL) == ATOM
    assert route.call_count == 4
    waits = [s for s in clock.sleeps if s != 3.0]
    assert waits[0] == 10.0  # Retry-After is honoured
    assert waits[1:] == [4.0, 8.0]  # then exponential backoff


@respx.mock
def test_gives_up_with_a_clear_error() -> None:
    respx.get(API_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(FetchError, match="after 3 tries"):
        client(FakeClock(), retries=3).get(API_URL)
    respx.get(API_URL).mock(return_value=httpx.Response(400))
    with pytest.raises(FetchError, match="400"):
        client(FakeClock()).get(API_URL)


@respx.mock
def test_fetch_command_stores_and_prints_what_is_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_ARXIV_DELAY_SECONDS", "0")
    db = tmp_path / "db.sqlite"
    respx.get(API_URL).mock(return_value=httpx.Response(200, content=ATOM))
    respx.get("https://rss.arxiv.org/rss/cs.LG").mock(return_value=httpx.Response(200, content=RSS))
    runner = CliRunner()
    first = runner.invoke(app, ["--db", str(db), "fetch", "--category", "cs.LG", "--days", "30", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["added"] == 3 and {p["arxiv_id"] for p in summary["new"]} >= {"2611.04321", "2401.12187"}
    again = runner.invoke(app, ["--db", str(db), "fetch", "--category", "cs.LG", "--rss"])
    assert again.exit_code == 0, again.output
    assert "new  2611.08888" in again.stdout and "1 updated" in again.stdout  # WARM v2 replaced in place


@respx.mock
def test_fetch_without_network_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_ARXIV_DELAY_SECONDS", "0")
    respx.get(API_URL).mock(side_effect=httpx.ConnectError("no route to host"))
    result = CliRunner().invoke(
        app, ["--db", str(tmp_path / "db.sqlite"), "fetch", "--author", "Nino Vieillard"]
    )
    assert result.exit_code != 0
