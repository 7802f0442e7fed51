"""The arXiv API and RSS listings over HTTP, with arXiv's rules: one request every 3 seconds,
a descriptive User-Agent, paging, and retries with backoff on errors, 429 and 503.

Responses are parsed by the same functions as saved files (bot.ingest.formats).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from bot.errors import PaperbotError
from bot.ingest.formats import parse_atom, parse_rss
from bot.ingest.seeds import ParsedPaper
from bot.models import Skipped

log = logging.getLogger(__name__)
API_URL = "https://export.arxiv.org/api/query"
RSS_URL = "https://rss.arxiv.org/rss/{category}"
RETRY_STATUS = {429, 500, 502, 503, 504}


class FetchError(PaperbotError):
    """arXiv could not be reached or kept refusing (after the retries)."""


class RateLimiter:
    """At most one call every ``interval`` seconds (the clock and sleep are injectable for tests)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            remaining = self.interval - (self.clock() - self._last)
            if remaining > 0:
                self.sleep(remaining)
        self._last = self.clock()


def build_query(
    categories: list[str] | None = None,
    authors: list[str] | None = None,
    text: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> str:
    """An arXiv ``search_query``: (cat OR cat) AND (au OR au) AND all:"text" AND submittedDate."""

    def quoted(value: str) -> str:
        return '"' + value.replace('"', " ").strip() + '"'

    parts = []
    if categories:
        parts.append("(" + " OR ".join(f"cat:{c.strip()}" for c in categories) + ")")
    if authors:
        parts.append("(" + " OR ".join(f"au:{quoted(a)}" for a in authors) + ")")
    if text:
        parts.append(f"all:{quoted(text)}")
    if since or until:
        start = (since or dt.date(1991, 1, 1)).strftime("%Y%m%d") + "0000"
        end = (until or dt.date.today()).strftime("%Y%m%d") + "2359"
        parts.append(f"submittedDate:[{start} TO {end}]")
    return " AND ".join(parts) or "all:*"


class ArxivClient:
    def __init__(
        self,
        user_agent: str,
        delay: float = 3.0,
        retries: int = 4,
        http: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        backoff: float = 2.0,
        api_url: str = API_URL,
        rss_url: str = RSS_URL,
    ) -> None:
        self.api_url, self.rss_url = api_url, rss_url
        self.http = http or httpx.Client(timeout=30.0, follow_redirects=True)
        self.headers = {"User-Agent": user_agent}
        self.limiter = limiter or RateLimiter(delay)
        self.retries = retries
        self.backoff = backoff

    def get(self, url: str, params: dict[str, Any] | None = None) -> bytes:
        """One polite GET: rate-limited, retried with exponential backoff (and Retry-After)."""
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            self.limiter.wait()
            try:
                response = self.http.get(url, params=params, headers=self.headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                wait = delay
            else:
                if response.status_code < 400:
                    return response.content
                if response.status_code not in RETRY_STATUS:
                    raise FetchError(f"arXiv answered {response.status_code} for {url}")
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response) or delay
            if attempt == self.retries:
                raise FetchError(
                    f"arXiv did not answer after {self.retries} {'try' if self.retries == 1 else 'tries'} ({problem})"
                )
            log.warning("arXiv: %s; retrying in %.0f s", problem, wait)
            self.limiter.sleep(wait)
            delay *= 2
        raise FetchError("unreachable")  # pragma: no cover

    def search(
        self,
        query: str,
        page_size: int = 100,
        max_results: int = 1000,
        since: dt.date | None = None,
    ) -> Iterator[ParsedPaper | Skipped]:
        """Newest first, page by page, until a page is short, ``max_results``, or older than ``since``."""
        start = 0
        while start < max_results:
            size = min(page_size, max_results - start)
            params = {
                "search_query": query,
                "start": start,
                "max_results": size,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
            }
            data = self.get(self.api_url, params)
            items = list(parse_atom(data, f"arxiv-api-{start}.xml"))
            papers = [i for i in items if isinstance(i, ParsedPaper)]
            yield from items
            if len(papers) < size:
                return
            oldest = min((p.paper.date for p in papers if p.paper.date), default=None)
            if since and oldest and oldest < since:
                return
            start += size

    def by_ids(self, arxiv_ids: list[str]) -> list[ParsedPaper | Skipped]:
        """The papers with these arXiv ids (one request; ids arXiv does not know are absent)."""
        data = self.get(self.api_url, {"id_list": ",".join(arxiv_ids), "max_results": len(arxiv_ids)})
        return list(parse_atom(data, "arxiv-api-ids.xml"))

    def listing(self, category: str) -> Iterator[ParsedPaper | Skipped]:
        """Today's RSS announcement listing of one category."""
        yield from parse_rss(self.get(self.rss_url.format(category=category)), f"rss-{category}.xml")

    def close(self) -> None:
        self.http.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
