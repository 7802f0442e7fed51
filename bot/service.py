"""The one façade both adapters use (console chat, CLI, Discord cogs). Returns models, not strings."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from rapidfuzz import fuzz

from bot.acronyms import expansion, is_acronym
from bot.answer import (
    about_answer,
    answers,
    build_answer,
    cite_answer,
    compare_answer,
    coverage,
    pick_passages,
    render_text,
)
from bot.arxiv_refs import arxiv_refs
from bot.errors import NotFound
from bot.fulltext import library_passages, with_body_passages
from bot.fulltext.fetch import Fetched, fetch_fulltext
from bot.fulltext.index import PassageIndexes
from bot.ingest.arxiv import ArxivClient, FetchError
from bot.ingest.pipeline import ingest_items, ingest_paths
from bot.linked import LinkedPapers, link_answer
from bot.models import Answer, IngestReport, Paper, Passage, SearchHit, Stats
from bot.query import Query, parse_query
from bot.search.analysis import analyze
from bot.search.build import load_or_build, needs_merge, rebuild
from bot.search.engine import SearchEngine
from bot.search.filters import Filters
from bot.search.retriever import Retriever
from bot.search.semantic import Embedder, load_embedder
from bot.store import Store
from bot.text import key, words
from bot.trend import LibraryShape, Period, Trend, count_by_period, library_shape

_ARXIV_ID = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$", re.IGNORECASE)
log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 2000
# An author's list stops here (newest first): a page of Discord embeds, not a dump.
MAX_AUTHOR_PAPERS = 100
# Requests whose best paper must hold the request's words to count as an answer (the others
# name their papers: an author, a title, "similar to").
CHECKED_INTENTS = frozenset({"question", "topic", "latest", "acronym"})
# Answers about a paper (not lists of an author's, the newest or similar ones): the paper they
# start with is the one asked about, noted for ``fulltext fetch --asked``.
ASKED_INTENTS = frozenset({"question", "topic", "title", "acronym", "cite", "compare", "link"})
# A title's name before its colon is a name people type ("WARM", "Gemma 2") up to this length.
MAX_NAME_WORDS = 4
# A guessed spelling this close (rapidfuzz ratio) is the word the request meant; a looser guess
# ("capit" -> "capib") leaves the word unknown when judging whether a paper answers.
TYPO_SIMILARITY = 85
ABSTRACT_SILENT = (
    "Its abstract does not say more. With the paper's full text (paperbot fulltext add or fetch) "
    "I can answer from the paper itself."
)
BODY_SILENT = "Neither its abstract nor its full text says more."
# Papers offered as the nearest when none answers.
NEAREST_OFFERED = 3
# Requests that the body passages of the whole library may answer when no abstract does (or when
# the best abstract lacks the request's most specific word): questions and topics, not lists.
LIBRARY_INTENTS = frozenset({"question", "topic"})
# Abstracts read to learn what an acronym stands for: the newest that use it.
ACRONYM_SAMPLE = 64
MEANINGS_KEPT = 1024
# How often the store is asked whether another process changed the corpus.
VERSION_CHECK_SECONDS = 1.0
# How often a long-running process's watcher looks for other processes' writes (SQLite polls;
# PostgreSQL wakes it at once with a notification).
WATCH_SECONDS = 1.0


def phrase_pattern(topic: str) -> re.Pattern[str] | None:
    """The topic's words in order, any separator, any ending ("mean-field game" for "mean field
    games"); None for a one-word topic."""
    stems = [w[: max(4, len(w) - 2)] for w in words(topic) if len(w) > 2]
    if len(stems) < 2:
        return None
    return re.compile(r"\b" + r"\W+".join(re.escape(s) + r"\w*" for s in stems), re.IGNORECASE)


def short_name(paper: Paper) -> str | None:
    """The name a title gives itself before its colon ("WARM", "Gemma 2"), when it is short."""
    if ":" not in paper.label:
        return None
    name = key(paper.name)
    return name if name and len(name.split()) <= MAX_NAME_WORDS else None


def named_in(paper: Paper, text: str) -> bool:
    """The text names the paper by its short name."""
    name = short_name(paper)
    return name is not None and f" {name} " in f" {key(text)} "


def named_first(hits: list[SearchHit], text: str) -> list[SearchHit]:
    """The hits with the paper the text names by its short name ("the biggest Gemma 2 model":
    "Gemma 2: Improving...") first; the longest name wins ("Gemma 2" over "Gemma")."""
    typed = f" {key(text)} "
    titles = [key(hit.paper.label) for hit in hits]
    named = []
    for n, hit in enumerate(hits):
        name = short_name(hit.paper)
        if not name or f" {name} " not in typed:
            continue
        # "Gemma" is no name when "Gemma 2", "Gemma 3 Technical Report" are among the hits too.
        if not any(title.startswith(f"{name} ") for m, title in enumerate(titles) if m != n):
            named.append((len(name), n))
    if not named:
        return hits
    best = max(named, key=lambda x: (x[0], -x[1]))[1]
    return [hits[best], *hits[:best], *hits[best + 1 :]]


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
        arxiv: ArxivClient | None = None,
        background_refresh: bool = False,
    ) -> None:
        self.store = store
        # Long-running processes (the bot, the chat, search --batch -) keep answering from the
        # current index while the next one is built after another process's ingest, then swap
        # it in (Lucene's SearcherManager); one-shot commands build before answering.
        self.background_refresh = background_refresh
        self.arxiv = arxiv  # looks up linked papers the corpus lacks; None: offline
        self.rewriter = rewriter
        self._embedder_choice = embedder
        self._embedder: Embedder | None = None
        self._engine: Retriever | None = None
        self._version = -1
        self._checked_at = -VERSION_CHECK_SECONDS
        self._own_change = False
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._watcher: threading.Thread | None = None  # long-running: refreshes after others' writes
        # What acronyms stand for, per index (a new index may know new definitions).
        self._meanings: dict[tuple[Retriever, str], str | None] = {}
        self._fetch_tried: set[str] = set()  # papers whose full text this process asked arXiv for
        self._asked: queue.Queue[list[str]] | None = None  # papers asked about, for the writer thread
        self.passage_indexes = PassageIndexes(store)  # every body passage, for questions naming no paper

    # -- engine lifecycle ---------------------------------------------------------------
    @property
    def embedder(self) -> Embedder | None:
        if self._embedder is None and self._embedder_choice is not False:
            choice = self._embedder_choice
            self._embedder = load_embedder() if choice is True or choice is None else choice  # type: ignore[assignment]
            self._embedder_choice = self._embedder or False
        return self._embedder

    @property
    def engine(self) -> Retriever:
        now = time.monotonic()
        if self._engine is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return self._engine
        version = self.store.corpus_version()
        self._checked_at = now
        if (
            self._engine is not None
            and version != self._version
            and self.background_refresh
            and not self._own_change
        ):
            self._refresh_in_background()
            return self._engine  # answers never wait for another process's ingest
        engine = self._engine
        if engine is None or version != self._version:
            engine = self._build_now(version)
        if self.background_refresh and self._watcher is None:
            self._watcher = _watch(self)
        return engine

    def current_engine(self) -> Retriever:
        """The index with every paper stored so far, built now when a background refresh has not
        caught up yet: for batch work that must not plan from the index about to be replaced (the
        digest), where questions take ``engine`` and never wait."""
        _ = self.engine  # also starts a long-running process's watcher
        return self._build_now(self.store.corpus_version())

    def _build_now(self, version: int) -> Retriever:
        """The index of corpus ``version``, brought up to date now unless it already is."""
        with self._lock:
            if self._engine is None or version != self._version:
                self._engine, self._version = self._build_engine(), version
                self._own_change = False
            return self._engine

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refresher is not None and self._refresher.is_alive():
                return  # one build at a time; a later change is seen at the next check
            self._refresher = threading.Thread(target=self._refresh, name="index-refresh", daemon=True)
            self._refresher.start()

    def _refresh(self) -> None:
        """Bring the index up to date with a segment of the changed papers and swap it in; when
        the changes outgrow the base, rebuild it whole (still answering meanwhile) and swap again."""
        try:
            version = self.store.corpus_version()
            engine = self._build_engine(merge=False)
            self._swap(engine, version)
            if isinstance(engine, SearchEngine) and needs_merge(engine):
                version = self.store.corpus_version()
                self._swap(rebuild(self.store, self.embedder, self.store.index_folder()), version)
        except Exception:
            log.exception("index refresh failed; answering from the current index")
            return
        self._checked_at = -VERSION_CHECK_SECONDS  # look again at once: more may have come

    def _swap(self, engine: Retriever, version: int) -> None:
        with self._lock:
            if version >= self._version:
                self._engine, self._version = engine, version

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Block until a background refresh in progress is done (tests, shutdown)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    def _build_engine(self, merge: bool = True) -> Retriever:
        """The one in-process index on both backends, cached in the store's index folder (beside
        a SQLite file; under the user cache dir for PostgreSQL), brought up to date from the
        store's change feed."""
        current = self._engine if isinstance(self._engine, SearchEngine) else None
        return load_or_build(self.store, self.embedder, self.store.index_folder(), current, merge)

    def invalidate(self) -> None:
        """Look at the corpus version on the next call, and wait for the new index then: this
        process changed the corpus, and reads its own writes."""
        self._checked_at = -VERSION_CHECK_SECONDS
        self._own_change = True

    # -- retrieval ------------------------------------------------------------------------
    def route(self, text: str) -> Query:
        engine = self.engine
        text = text[:MAX_QUERY_CHARS]
        return parse_query(text, engine.authors, engine.best_title_score(text))

    def retrieve(self, query: Query, k: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        """Ranked hits for a routed query, honouring its intent and any extra filters."""
        engine = self.engine
        filters = (filters or Filters()).model_copy()
        filters.since = filters.since or query.since
        filters.until = filters.until or query.until
        if query.intent == "empty":
            return []
        if query.intent == "similar":
            reference = self.paper(query.similar_to or query.text)
            return self._hits(engine.similar(reference.id, k, filters))
        author_keys = None
        if query.intent == "author" or filters.authors:
            keys = list(query.author_keys)
            for name in filters.authors or []:
                keys += engine.authors.resolve(name) or [name]
            author_keys = keys
        if query.intent == "latest" and not query.topic:  # "what's new?", "papers from 2015"
            return self._hits((pid, 1.0) for pid in engine.newest(filters, None, k))
        if query.topic and (query.intent in ("author", "latest", "topic")):
            return self._topic_hits(query, filters, author_keys, k)
        if query.intent == "author":
            return self._hits(
                (pid, 1.0) for pid in engine.newest(filters, author_keys, max(k, MAX_AUTHOR_PAPERS))
            )
        return self._hits(engine.search(query.text, k, filters, author_keys))

    def _topic_hits(
        self, query: Query, filters: Filters, author_keys: list[str] | None, k: int
    ) -> list[SearchHit]:
        """Results that mention the topic, with its acronyms as typed or spelled out ("offline
        RL": "offline reinforcement learning" too)."""
        variants = [query.topic or ""]
        for token in (query.topic or "").split():
            if is_acronym(token.strip(",.;")) and (meaning := self.meaning(token.strip(",.;"))):
                variants.append(re.sub(rf"\b{re.escape(token)}", meaning, variants[-1]))
        if len(variants) == 1:
            return self._topic_variant_hits(query, filters, author_keys, k)
        merged: dict[str, SearchHit] = {}
        for topic in variants:
            for hit in self._topic_variant_hits(
                query.model_copy(update={"topic": topic}), filters, author_keys, k
            ):
                if hit.paper.id not in merged or merged[hit.paper.id].score < hit.score:
                    merged[hit.paper.id] = hit
        if query.newest_first:
            ranked = sorted(merged.values(), key=lambda h: h.paper.date or dt.date.min, reverse=True)
        else:
            ranked = sorted(merged.values(), key=lambda h: h.score, reverse=True)
        return ranked[: max(k, MAX_AUTHOR_PAPERS) if query.intent == "author" else k]

    def _topic_variant_hits(
        self, query: Query, filters: Filters, author_keys: list[str] | None, k: int
    ) -> list[SearchHit]:
        """Results that all mention the topic: every topic term, relaxed to the rarest ones if none do."""
        engine = self.engine
        terms = engine.topic_terms(query.topic or "")
        narrowed = None
        for n in range(len(terms), 0, -1):
            candidate = filters.model_copy(update={"topic": terms[:n]})
            if engine.count(candidate, author_keys):
                narrowed = candidate
                break
        if narrowed is None:
            return []
        if not query.newest_first:
            return self._hits(engine.search(query.topic or "", k, narrowed, author_keys))
        if query.intent == "author":
            return self._hits(
                (pid, 1.0) for pid in engine.newest(narrowed, author_keys, max(k, MAX_AUTHOR_PAPERS))
            )
        ranked = engine.newest(narrowed, author_keys, k * 20)
        return self._hits((pid, 1.0) for pid in self._prefer_phrase(ranked, query.topic or "")[:k])

    def _prefer_phrase(self, ranked: list[str], topic: str) -> list[str]:
        """Among date-ordered candidates, keep those with the topic as a phrase when 2+ have it."""
        pattern = phrase_pattern(topic)
        if pattern is None:
            return ranked
        phrase = [p.id for p in self.store.get_papers(ranked) if pattern.search(p.label + " " + p.abstract)]
        return phrase if len(phrase) >= 2 else ranked

    def _hits(self, scored: Iterable[tuple[str, float]]) -> list[SearchHit]:
        score_of = dict(scored)
        return [SearchHit(paper=p, score=score_of[p.id]) for p in self.store.get_papers(score_of)]

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

    def ask(self, question: str, k: int = 10, record: bool = False) -> Answer:
        """The answer to a free-text request. ``record``: a person asked (the chat, Discord; not
        the evaluation): note the paper an answered question is about (``record_asked``)."""
        answer = self._ask(question, k)
        if record:
            self.record_asked(answer)
        return answer

    def record_asked(self, answer: Answer) -> None:
        """Note which paper an answered question was about (both papers a comparison names), so
        that ``fulltext fetch --asked`` fetches the texts people need. Never at the answer's
        expense: a long-running process writes from a thread of its own (an ingest holding the
        database's write lock does not hold up the reply), and a failed write (a read-only
        database) is logged, not raised."""
        if not answer.answered or not answer.hits or answer.intent not in ASKED_INTENTS:
            return
        ids = [h.paper.id for h in (answer.hits[:2] if answer.intent == "compare" else answer.hits[:1])]
        if not self.background_refresh:
            self._write_asked(ids)
            return
        with self._lock:
            if self._asked is None:
                self._asked = queue.Queue()
                threading.Thread(target=self._asked_writer, name="asked-writer", daemon=True).start()
        self._asked.put(ids)

    def wait_for_records(self, timeout: float | None = None) -> bool:
        """Block until the papers asked about so far are written (tests, shutdown), at most
        ``timeout`` seconds; False when some are still waiting."""
        pending = self._asked
        if pending is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with pending.all_tasks_done:
            while pending.unfinished_tasks:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                pending.all_tasks_done.wait(left)
        return True

    def _asked_writer(self) -> None:
        assert self._asked is not None
        while True:
            ids = self._asked.get()
            try:
                self._write_asked(ids)
            finally:
                self._asked.task_done()

    def _write_asked(self, ids: list[str]) -> None:
        try:
            for paper_id in ids:
                self.store.fulltext.record_asked(paper_id)
        except Exception as exc:  # each backend's own error (a read-only file...): the answer stands
            log.warning("could not note the paper asked about (%s): %s", ids[0], exc)

    def _ask(self, question: str, k: int) -> Answer:
        refs = arxiv_refs(question[:MAX_QUERY_CHARS])
        if refs:
            return link_answer(question, self.linked(refs))
        query = self.route(question)
        try:
            answer = self._answer(query, k)
        except NotFound as exc:
            return Answer(
                intent=query.intent, query=question, text=str(exc), empty_reason=str(exc), answered=False
            )
        return self.rewriter(answer) if self.rewriter else answer

    def _answer(self, query: Query, k: int) -> Answer:
        engine = self.engine
        question = query.original
        if query.intent == "cite":
            return cite_answer(question, self.refer(query.refs[0]))
        if query.intent == "compare" and not self._named(query.text_typed()):
            first, second = (self.refer(ref) for ref in query.refs[:2])
            return compare_answer(question, first, second, engine.idf)
        if query.intent == "compare":  # "RLAIF vs RLHF" is how a title starts: that paper
            query = query.model_copy(update={"intent": "title", "text": query.text_typed(), "refs": []})
        if query.detail:
            paper = self.refer(query.refs[0])
            return about_answer(question, paper, query.detail, self._hits(engine.similar(paper.id, 4)))
        definition = None
        if query.intent == "acronym" and (meaning := self.meaning(query.text)):
            definition = (query.text, meaning)
            if not engine.doc_freq(analyze(query.text)[0]):  # a name no abstract uses: its title's
                query = query.model_copy(update={"text": meaning})
        if query.intent == "similar":
            # Name the paper the list starts from, as the library titles it.
            query = query.model_copy(update={"similar_to": self.refer(query.similar_to or query.text).id})
        hits = self.retrieve(query, k)
        if query.intent in ("question", "topic"):
            hits = named_first(hits, query.text)
        author_name = engine.authors.display(query.author_keys[0]) if query.author_keys else None
        reference = self.store.get_paper(query.similar_to) if query.similar_to else None
        answer = build_answer(query, hits, engine.idf, self.embedder, author_name, reference, definition)
        answer = with_body_passages(self.store, answer, question, engine.idf)  # quotes from full texts
        from_body = any(p.section != "Abstract" for p in answer.passages)
        answer.answered = bool(answer.hits)
        if not answer.hits and query.intent in LIBRARY_INTENTS and not answer.heading:
            return self._from_library(answer, question) or answer
        if (
            not answer.hits
            or query.intent not in CHECKED_INTENTS
            or from_body
            or not (query.topic or query.text)
        ):
            return answer
        best = answer.hits[0].paper
        text = query.topic or query.text
        if self.answers(best, text):
            # A detail the best abstract does not hold ("... a batch size of 384?"): a body that
            # holds it answers first, the abstracts' papers after it.
            rarest = self._rarest_missing(best, text)
            if rarest and query.intent in LIBRARY_INTENTS and not self._names_a_paper(answer, question):
                return self._from_library(answer, question, rarest, keep_hits=True) or answer
            return answer
        if named_in(best, question):
            # A question about a paper it names ("what batch size did WARP use?"): that paper, but
            # its abstract does not say; its full text may.
            if self.store.fulltext.get(best.id) is None:
                answer.notes.append(ABSTRACT_SILENT)
                answer.needs_fulltext = best.id
            else:
                answer.notes.append(BODY_SILENT)
            answer.text = render_text(answer)
            return answer
        if (
            query.intent in LIBRARY_INTENTS
            and not self._names_a_paper(answer, question)
            and (found := self._from_library(answer, question))
        ):
            return found  # no abstract answers; a body does
        answer.answered = False
        answer.hits = answer.hits[:NEAREST_OFFERED]
        answer.passages = []
        answer.heading = None
        answer.empty_reason = "No paper in the library answers that."
        answer.text = render_text(answer)
        return answer

    def _names_a_paper(self, answer: Answer, question: str) -> bool:
        """The question names one of the answer's first papers by its short name ("WARP")."""
        return any(named_in(hit.paper, question) for hit in answer.hits[:3])

    def _rarest_missing(self, paper: Paper, text: str) -> tuple[str, ...]:
        """The spellings of the request's most specific word when the paper's title and abstract
        lack it (empty when they hold it)."""
        weights = self.request_weights(text)
        _, has_rarest = coverage(paper, weights)
        return () if has_rarest or not weights else max(weights, key=weights.__getitem__)

    def _from_library(
        self, answer: Answer, question: str, must_hold: tuple[str, ...] = (), keep_hits: bool = False
    ) -> Answer | None:
        """The answer from the body passage of the whole library that best answers the question
        (bot.fulltext.index): its paper first, the passage quoted with its place, then a sentence
        of that paper's abstract; ``keep_hits``: the answer's papers follow. None when no body
        passage covers the question (or holds one of ``must_hold``), or there are no full texts."""
        index = self.passage_indexes.current()
        if index is None:
            return None
        found = library_passages(self.store, index, question, must_hold=must_hold)
        if not found:
            return None
        cited = [SearchHit(paper=s.paper, score=s.score) for s in found]
        best = cited[0].paper
        cited_ids = {s.paper.id for s in found}
        others = [h for h in answer.hits if h.paper.id not in cited_ids] if keep_hits else []
        answer.hits = [*cited, *others][: max(len(cited), NEAREST_OFFERED)]
        answer.passages = [s.passage for s in found]
        answer.passages += [
            Passage.from_abstract(best, s) for s in pick_passages(best, question, self.engine.idf, limit=1)
        ]
        answer.answered = True
        answer.heading = None
        answer.empty_reason = None
        answer.needs_fulltext = None
        answer.text = render_text(answer)
        return answer

    def request_weights(self, text: str) -> dict[tuple[str, ...], float]:
        """The words of a request with what each weighs (idf): a word the library does not know
        weighs as much as the rarest word, unless it is a typo of a known one (then its spellings)."""
        engine = self.engine
        rarest = engine.idf("\x00")  # the idf of a word no paper holds
        weights: dict[tuple[str, ...], float] = {}
        for term in dict.fromkeys(analyze(text)):
            if len(term) < 2 and not term.isdigit():
                continue
            if engine.doc_freq(term):
                weights[(term,)] = engine.idf(term)
            elif known := tuple(
                t
                for t in engine.spellings(term)
                if engine.doc_freq(t) and fuzz.ratio(term, t) >= TYPO_SIMILARITY
            ):
                weights[known] = max(engine.idf(t) for t in known)
            else:
                weights[(term,)] = rarest
        return weights

    def answers(self, paper: Paper, text: str) -> bool:
        """Whether the paper answers the request rather than merely being the nearest one."""
        share, has_rarest = coverage(paper, self.request_weights(text))
        if answers(share, has_rarest):
            return True
        if self.embedder is None:
            return False
        vectors = self.embedder.embed([text, f"{paper.label}. {paper.abstract}"])
        return answers(share, has_rarest, float(vectors[0] @ vectors[1]))

    def fetch_fulltext(self, paper_id: str) -> Fetched | None:
        """Download a paper's full text from arXiv so that a follow-up answers from its body
        (long-running processes call it in the background); None when arXiv lookups are off, the
        paper has no arXiv id, or this process already tried it."""
        paper = self.store.get_paper(paper_id)
        if self.arxiv is None or paper is None or not paper.arxiv_id or paper_id in self._fetch_tried:
            return None
        self._fetch_tried.add(paper_id)
        fetched = fetch_fulltext(self.store, self.arxiv, paper)
        log.info("full text of %s: %s %s", paper_id, fetched.status, fetched.error or "")
        return fetched

    def meaning(self, acronym: str) -> str | None:
        """What an acronym stands for here: its definition in the abstracts that use it ("mirror
        descent value iteration (MDVI)"), else the title whose initials spell it (DCPI)."""
        terms = analyze(acronym)
        if not terms:
            return None
        engine = self.engine
        if (engine, acronym) in self._meanings:
            return self._meanings[engine, acronym]
        if engine.doc_freq(terms[0]):
            users = self.store.get_papers(engine.newest(Filters(topic=terms[:1]), None, ACRONYM_SAMPLE))
            found = expansion(acronym, (f"{p.label}. {p.abstract}" for p in users))
        else:
            titled = self.store.get_papers(engine.titled_by_initials(terms[0], 1))
            found = titled[0].name if titled else None
        if len(self._meanings) > MEANINGS_KEPT:
            self._meanings.clear()
        self._meanings[engine, acronym] = found
        return found

    def refer(self, reference: str) -> Paper:
        """The one paper a request names ("cite WARM", "compare GKD and BOND", "who wrote the
        gemini paper"): its id, arXiv id, title or the name before its colon, else the paper that
        best answers the words (an acronym its abstract defines, a description)."""
        if found := self._named(reference):
            return found
        best = self.store.get_papers([pid for pid, _ in self.engine.search(reference, 1)])
        if not best or not self.answers(best[0], reference):
            raise NotFound(f"No paper in the library goes by '{reference[:80]}'. Try its title.")
        return best[0]

    def linked(self, arxiv_ids: list[str]) -> LinkedPapers:
        """The papers behind arXiv links: from the corpus, else from arXiv (then ingested, so
        the next mention is answered locally)."""
        found = {p.arxiv_id: p for a in arxiv_ids if (p := self.store.find_by_arxiv_id(a))}
        missing = [a for a in arxiv_ids if a not in found]
        problem = None
        if missing and self.arxiv is None:
            problem = "arXiv lookups are off here"
        elif missing and self.arxiv is not None:
            try:
                items = self.arxiv.by_ids(missing)
            except FetchError as exc:
                problem = str(exc)
            else:
                report = ingest_items(self.store, items, ["arxiv-api"])
                if report.new_ids or report.updated:
                    self.invalidate()
                found |= {p.arxiv_id: p for a in missing if (p := self.store.find_by_arxiv_id(a))}
        return LinkedPapers(
            papers=[found[a] for a in arxiv_ids if a in found],
            missing=[a for a in arxiv_ids if a not in found],
            problem=problem,
        )

    def _named(self, reference: str) -> Paper | None:
        """The paper an id, an arXiv id, a title typed from its start, or the name before its
        colon ("WARM", "Gemma 2") names exactly."""
        reference = reference.strip()
        if found := self.store.get_paper(reference):
            return found
        if (m := _ARXIV_ID.match(reference)) and (found := self.store.find_by_arxiv_id(m.group(1))):
            return found
        wanted = key(reference)
        if not wanted:
            raise NotFound("Name a paper: a title, an arXiv id, or a paper id.")
        started = self.store.get_papers(self.engine.complete_titles(reference, 10))
        named = [p for p in started if key(p.label).startswith(wanted) or key(p.name) == wanted]
        # The name before a colon first ("Gemma" is "Gemma: Open Models...", not "Gemma 3").
        return min(named, key=lambda p: (key(p.name) != wanted, len(p.label))) if named else None

    def paper(self, reference: str) -> Paper:
        """A paper by id, arXiv id, or (fuzzy) title."""
        if found := self._named(reference):
            return found
        wanted = key(reference)
        for pid, _ in self.engine.search(reference, 5):
            found = self.store.get_paper(pid)
            if found and key(found.name) == wanted:
                return found
        scores = self.engine.title_matches(reference)
        if scores:
            # The title holding most of the typed words wins; then the closest spelling; then
            # the length closest to what was typed.
            papers = self.store.get_papers(scores)
            return max(
                papers,
                key=lambda p: (
                    round(fuzz.token_set_ratio(wanted, key(p.label))),
                    round(scores[p.id]),
                    -abs(len(key(p.label)) - len(wanted)),
                ),
            )
        raise NotFound(f"No paper titled like '{reference[:80]}'. Try /search with other words.")

    def author(self, name: str) -> tuple[str, list[Paper]]:
        """(display name, papers newest first) of the author a name resolves to."""
        keys = self.engine.authors.resolve(name)
        if not keys:
            raise NotFound(f"No author named like '{name[:60]}' in the library.")
        newest = self.engine.newest(None, keys, MAX_AUTHOR_PAPERS)
        return self.engine.authors.display(keys[0]), self.store.get_papers(newest)

    def similar(self, reference: str, k: int = 5) -> list[SearchHit]:
        return self._hits(self.engine.similar(self.paper(reference).id, k))

    def recent(
        self, category: str | None = None, days: int = 30, today: dt.date | None = None, k: int = 25
    ) -> list[Paper]:
        since = (today or dt.date.today()) - dt.timedelta(days=days)
        return self.store.get_papers(self.engine.newest(Filters(category=category, since=since), None, k))

    def trend(self, topic: str, by: Period = "year", since: dt.date | None = None) -> Trend:
        """Papers per period on a topic: every term in the title or abstract, and a topic of
        several words as a phrase ("mean-field game" counts for "mean field games")."""
        engine = self.engine
        terms = engine.topic_terms(topic)
        if not terms:
            return count_by_period(topic, [], by)
        filters = Filters(topic=terms, since=since)
        pattern = phrase_pattern(topic)
        if pattern is None:
            return count_by_period(topic, engine.dates(filters), by, terms)
        ids = engine.newest(filters)
        dates = [
            p.date
            for start in range(0, len(ids), 1000)
            for p in self.store.get_papers(ids[start : start + 1000])
            if p.date and pattern.search(p.label + " " + p.abstract)
        ]
        return count_by_period(topic, dates, by, terms)

    def library_shape(self) -> LibraryShape:
        return library_shape(self.engine.dated_categories())

    def complete_titles(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, paper id) pairs for a title autocomplete box."""
        return [(p.label, p.id) for p in self.store.get_papers(self.engine.complete_titles(text, limit))]

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
            authors=len(self.engine.authors),
            categories=dict(categories.most_common()),
            untitled=untitled,
            last_ingest=last.finished_at if last else None,
            last_digest=self.store.get_meta("last_digest"),
        )

    def ingest(self, paths: list[Path]) -> IngestReport:
        report = ingest_paths(self.store, paths)
        self.invalidate()
        return report


def _watch(service: PaperService) -> threading.Thread:
    """A long-running service's watcher: refresh the index as soon as another process's write
    commits (the store tells it on PostgreSQL; on SQLite it polls every second), not only when
    the next question comes. It holds the service weakly and ends with it."""
    ref, store = weakref.ref(service), service.store

    def watch() -> None:
        while True:
            try:
                store.wait_for_change(WATCH_SECONDS)
                current = ref()
                if current is None:
                    return
                if store.corpus_version() != current._version:
                    current._refresh_in_background()
                del current
            except Exception:  # the store was closed: nothing left to watch
                log.debug("index watcher stopped", exc_info=True)
                return

    thread = threading.Thread(target=watch, name="index-watcher", daemon=True)
    thread.start()
    return thread
