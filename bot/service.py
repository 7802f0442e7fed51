"""The one façade both adapters use (console chat, CLI, Discord cogs). Returns models, not strings."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.answer import build_answer
from bot.errors import NotFound
from bot.ingest.pipeline import ingest_paths
from bot.models import Answer, IngestReport, Paper, SearchHit, Stats
from bot.query import Query, parse_query
from bot.search.build import load_or_build
from bot.search.engine import SearchEngine
from bot.search.filters import Filters
from bot.search.fuzzy import title_scores
from bot.search.semantic import Embedder, load_embedder
from bot.store import Store
from bot.text import words

_ARXIV_ID = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$", re.IGNORECASE)
MAX_QUERY_CHARS = 2000
# An author's list stops here (newest first): a page of Discord embeds, not a dump.
MAX_AUTHOR_PAPERS = 100
# How often the store is asked whether another process changed the corpus.
VERSION_CHECK_SECONDS = 1.0


class PaperService:
    """Search, answers, papers, authors and corpus maintenance over one store.

    The search engine is built lazily and rebuilt when the corpus version in the store
    changes (another process may have ingested). Safe to call from worker threads.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder | bool | None = True,
        rewriter: Callable[[Answer], Answer] | None = None,
    ) -> None:
        self.store = store
        self.rewriter = rewriter
        self._embedder_choice = embedder
        self._embedder: Embedder | None = None
        self._engine: SearchEngine | None = None
        self._version = -1
        self._checked_at = -VERSION_CHECK_SECONDS
        self._lock = threading.Lock()

    # -- engine lifecycle ---------------------------------------------------------------
    @property
    def embedder(self) -> Embedder | None:
        if self._embedder is None and self._embedder_choice is not False:
            choice = self._embedder_choice
            self._embedder = load_embedder() if choice is True or choice is None else choice  # type: ignore[assignment]
            self._embedder_choice = self._embedder or False
        return self._embedder

    @property
    def engine(self) -> SearchEngine:
        now = time.monotonic()
        if self._engine is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return self._engine
        version = self.store.corpus_version()
        if self._engine is None or version != self._version:
            with self._lock:
                if self._engine is None or version != self._version:
                    self._engine = load_or_build(self.store, self.embedder, self.store.index_folder())
                    self._version = version
        self._checked_at = now
        return self._engine

    def invalidate(self) -> None:
        """Look at the corpus version on the next call (after an ingest by this process)."""
        self._checked_at = -VERSION_CHECK_SECONDS

    def warm_up(self) -> None:
        """Build the index now rather than on the first question."""
        self.ask("warm up")

    # -- retrieval ------------------------------------------------------------------------
    def route(self, text: str) -> Query:
        engine = self.engine
        text = text[:MAX_QUERY_CHARS]
        best_title = engine.best_title_score(text)
        return parse_query(text, engine.authors, best_title)

    def retrieve(self, query: Query, k: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        """Ranked hits for a routed query, honouring its intent and any extra filters."""
        engine = self.engine
        filters = (filters or Filters()).model_copy()
        filters.since = filters.since or query.since
        filters.until = filters.until or query.until
        if query.intent == "empty":
            return []
        if query.intent == "similar":
            return self._similar_hits(query.similar_to or query.text, k, filters)
        author_ids = None
        if query.intent == "author" or filters.authors:
            keys = query.author_keys or []
            for name in filters.authors or []:
                keys += engine.authors.resolve(name) or [name]
            author_ids = {pid for key in keys for pid in self.store.papers_by_author(key)}
        if query.topic and (query.intent in ("author", "latest", "topic")):
            return self._topic_hits(query, filters, author_ids, k)
        if query.intent == "author":
            mask = engine.mask(filters, author_ids)
            return self._hits([(i, 1.0) for i in engine.newest(mask, max(k, MAX_AUTHOR_PAPERS))])
        scored = engine.search(query.text, k, filters, author_ids)
        return self._hits([(s.row, s.score) for s in scored])

    def _topic_hits(
        self, query: Query, filters: Filters, author_ids: set[str] | None, k: int
    ) -> list[SearchHit]:
        """Results that all mention the topic: every topic term, relaxed to the rarest ones if none do."""
        engine = self.engine
        terms = sorted(set(engine.query_terms(query.topic or "")), key=engine.lexical.doc_freq)
        mask = None
        for n in range(len(terms), 0, -1):
            mask = engine.mask(filters.model_copy(update={"topic": terms[:n]}), author_ids)
            if mask is not None and mask.any():
                break
        if mask is None or not mask.any():
            return []
        if query.newest_first:
            limit = max(k, MAX_AUTHOR_PAPERS) if query.intent == "author" else k
            ranked = engine.newest(mask)
            if query.intent != "author":  # a phrase match beats scattered words, if there are enough
                ranked = self._prefer_phrase(ranked, query.topic or "", limit or k)
            return self._hits([(i, 1.0) for i in ranked[:limit]])
        scored = engine.search_masked(query.topic or "", k, mask)
        return self._hits([(s.row, s.score) for s in scored])

    def _prefer_phrase(self, ranked: list[int], topic: str, k: int) -> list[int]:
        """Among date-ordered candidates, keep those with the topic as a phrase when 2+ have it."""
        stems = [w[: max(4, len(w) - 2)] for w in words(topic) if len(w) > 2]
        if len(stems) < 2:
            return ranked
        pattern = re.compile(r"\b" + r"\W+".join(re.escape(s) + r"\w*" for s in stems), re.IGNORECASE)
        papers = self.store.get_papers(self.engine.id_at(i) for i in ranked[: k * 20])
        phrase = self.engine.positions(p.id for p in papers if pattern.search(p.label + " " + p.abstract))
        return phrase if len(phrase) >= 2 else ranked

    def _similar_hits(self, reference: str, k: int, filters: Filters) -> list[SearchHit]:
        engine = self.engine
        index = engine.position(self.paper(reference).id)
        if index is None:
            return []
        scored = engine.similar(index, k * 3)
        mask = engine.mask(filters)
        kept = [(s.row, s.score) for s in scored if mask is None or mask[s.row]]
        return self._hits(kept[:k])

    def _hits(self, scored: Iterable[tuple[int, float]]) -> list[SearchHit]:
        scored = list(scored)
        papers = self.store.get_papers(self.engine.id_at(i) for i, _ in scored)
        score_of = {self.engine.id_at(i): s for i, s in scored}
        return [SearchHit(paper=p, score=score_of[p.id]) for p in papers]

    # -- the façade -----------------------------------------------------------------------
    def search(
        self,
        text: str,
        k: int = 10,
        author: str | None = None,
        category: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        has_code: bool | None = None,
    ) -> list[SearchHit]:
        filters = Filters(
            authors=[author] if author else None,
            category=category,
            since=since,
            until=until,
            has_code=has_code,
        )
        try:
            return self.retrieve(self.route(text), k, filters)
        except NotFound:  # "similar to <a title we do not have>": no results, not an error
            return []

    def ask(self, question: str, k: int = 10) -> Answer:
        query = self.route(question)
        try:
            hits = self.retrieve(query, k)
        except NotFound as exc:
            return Answer(intent=query.intent, query=question, text=str(exc), empty_reason=str(exc))
        engine = self.engine
        author_name = engine.authors.display(query.author_keys[0]) if query.author_keys else None
        answer = build_answer(query, hits, engine.lexical.idf, self.embedder, author_name)
        return self.rewriter(answer) if self.rewriter else answer

    def paper(self, reference: str) -> Paper:
        """A paper by id, arXiv id, or (fuzzy) title."""
        reference = reference.strip()
        if found := self.store.get_paper(reference):
            return found
        if (m := _ARXIV_ID.match(reference)) and (found := self.store.find_by_arxiv_id(m.group(1))):
            return found
        engine = self.engine
        scores = title_scores(
            reference,
            engine.titles,
            None if len(engine) <= 2_000 else [s.row for s in engine.search(reference, 50)],
        )
        if not scores:
            raise NotFound(f"No paper titled like '{reference[:80]}'. Try /search with other words.")
        best = max(scores, key=lambda i: scores[i])
        paper = self.store.get_paper(engine.id_at(best))
        assert paper is not None
        return paper

    def author(self, name: str) -> tuple[str, list[Paper]]:
        """(display name, papers newest first) of the author a name resolves to."""
        keys = self.engine.authors.resolve(name)
        if not keys:
            raise NotFound(f"No author named like '{name[:60]}' in the library.")
        engine = self.engine
        ids = {pid for key in keys for pid in self.store.papers_by_author(key)}
        newest = engine.newest(engine.mask(None, ids), MAX_AUTHOR_PAPERS)
        return engine.authors.display(keys[0]), self.store.get_papers(engine.id_at(i) for i in newest)

    def similar(self, reference: str, k: int = 5) -> list[SearchHit]:
        return self._similar_hits(reference, k, Filters())

    def recent(
        self, category: str | None = None, days: int = 30, today: dt.date | None = None, k: int = 25
    ) -> list[Paper]:
        since = (today or dt.date.today()) - dt.timedelta(days=days)
        mask = self.engine.mask(Filters(category=category, since=since))
        return self.store.get_papers(self.engine.id_at(i) for i in self.engine.newest(mask, k))

    def complete_titles(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, paper id) pairs for a title autocomplete box."""
        engine = self.engine
        papers = self.store.get_papers(engine.id_at(i) for i in engine.complete_titles(text, limit))
        return [(p.label, p.id) for p in papers]

    def complete_authors(self, text: str, limit: int = 25) -> list[str]:
        return self.engine.authors.complete(text, limit)

    def stats(self) -> Stats:
        categories: Counter[str] = Counter()
        untitled = 0
        for paper in self.store.iter_papers():
            categories[paper.categories[0] if paper.categories else paper.category or "unknown"] += 1
            untitled += paper.title is None
        last = self.store.last_ingest()
        return Stats(
            papers=sum(categories.values()),
            authors=len(self.engine.authors.names),
            categories=dict(categories.most_common()),
            untitled=untitled,
            last_ingest=last["finished_at"] if last else None,
            last_digest=self.store.get_meta("last_digest"),
        )

    def ingest(self, paths: list[Path]) -> IngestReport:
        report = ingest_paths(self.store, paths)
        self.invalidate()
        return report
