"""Answers from a paper's body: its passages scored against a question (BM25 over the passages
of the papers asked about, with the search's own analyser), each with the link to its place.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answer import pick_passages, render_text
from bot.models import Answer, Paper, Passage
from bot.search.analysis import acronyms, analyze, defined_names, raw_tokens
from bot.sentences import split_sentences
from bot.store import Store
from bot.store.fulltext import FulltextDoc, PassageRow
from bot.text import STOPWORDS, fold

if TYPE_CHECKING:
    from bot.fulltext.index import PassageIndex

K1, B = 1.2, 0.75
# A passage answers when its matched terms weigh this share of the question's terms at least.
MIN_COVERAGE = 0.35
# Body passages added to an answer, and the most passages an answer quotes then.
BODY_PASSAGES = 2
MAX_PASSAGES = 4
FOCUS_CHARS = 420  # a long passage is quoted around its best sentence, up to about this long
_NOT_BODY = {"Abstract", "Front matter"}  # the abstract is quoted from the paper's record


@dataclass
class Scored:
    score: float
    passage: Passage


@dataclass
class Cited(Scored):
    """A passage of the library and the paper it is from (read once, for the answer too)."""

    paper: Paper


def place_link(paper: Paper, doc: FulltextDoc | None, row: PassageRow) -> str | None:
    """The link to a passage's place: arxiv.org/pdf/ID#page=3, arxiv.org/html/ID#S3."""
    arxiv_id = paper.arxiv_id or (doc.arxiv_id if doc else None)
    if arxiv_id and row.anchor and (doc is None or doc.kind == "html"):
        return f"https://arxiv.org/html/{arxiv_id}#{row.anchor}"
    if arxiv_id and row.page:
        return f"https://arxiv.org/pdf/{arxiv_id}#page={row.page}"
    if doc is not None and doc.source and doc.source.startswith(("https://", "http://")):
        place = f"#page={row.page}" if row.page else f"#{row.anchor}" if row.anchor else ""
        return doc.source.split("#")[0] + place
    links = paper.links
    if links.get("pdf") and row.page:
        return f"{links['pdf'].split('#')[0]}#page={row.page}"
    return links.get("pdf") or links.get("abs") or links.get("arxiv_search")


class _Collection:
    """BM25 statistics of the passages of some papers."""

    def __init__(self, rows: list[PassageRow]) -> None:
        self.terms = [Counter(analyze(r.text)) for r in rows]
        self.lengths = [sum(t.values()) or 1 for t in self.terms]
        self.df: Counter[str] = Counter()
        self.postings: dict[str, list[int]] = {}  # term -> the passages that hold it
        for i, terms in enumerate(self.terms):
            self.df.update(terms.keys())
            for term in terms:
                self.postings.setdefault(term, []).append(i)
        self.n = len(rows)
        self.avg = sum(self.lengths) / max(1, self.n)

    def holding(self, query: set[str]) -> list[int]:
        """The passages that hold a term of the query, in reading order."""
        return sorted({i for t in query for i in self.postings.get(t, ())})

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def score(self, query: set[str], terms: Counter[str]) -> float:
        length = sum(terms.values()) or 1
        total = 0.0
        for term in query:
            tf = terms.get(term, 0)
            if tf:
                total += self.idf(term) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.avg))
        return total

    def coverage(self, query: set[str], terms: Counter[str]) -> float:
        """The share of the question's weight (idf) that a text holds."""
        wanted = sum(self.idf(t) for t in query)
        return sum(self.idf(t) for t in query if t in terms) / wanted if wanted else 0.0


def focus(text: str, query: set[str], width: int = FOCUS_CHARS) -> str:
    """A long passage cut to its best sentence and its neighbours, about ``width`` long."""
    if len(text) <= width:
        return text
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return text
    hits = [len(query & set(analyze(s))) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (hits[i], -i))
    start = end = best
    length = len(sentences[best])
    while True:
        grown = False
        for step in (end + 1, start - 1):
            if 0 <= step < len(sentences) and length + len(sentences[step]) + 1 <= width:
                length += len(sentences[step]) + 1
                start, end = min(start, step), max(end, step)
                grown = True
        if not grown:
            break
    return " ".join(sentences[start : end + 1])


def subject_terms(paper: Paper) -> set[str]:
    """The terms that name a paper ("WARP", "Gemma 2"): a question about it says them, its body
    need not (in "what batch size did WARP use?" the passage to find says "batch size")."""
    label = paper.label
    name = paper.name if ":" in label else " ".join(acronyms(label))
    return set(analyze(name)) | {t for n in defined_names(paper) for t in analyze(n)}


def body_passages(store: Store, paper_ids: list[str], question: str, k: int = BODY_PASSAGES) -> list[Scored]:
    """The ``k`` passages of these papers' full texts that best answer ``question``, best first
    (none for papers without a full text, or when no passage holds enough of the question)."""
    return _rank(store, paper_ids, question, k, [])[0]


def _rank(
    store: Store, paper_ids: list[str], question: str, k: int, others: list[Passage]
) -> tuple[list[Scored], list[Scored]]:
    """Body passages and the ``others`` (abstract sentences) scored on one scale: each paper's
    passages by the statistics of its own full text (``others`` by the first paper's)."""
    query = set(analyze(question))
    with_text = store.fulltext.having(paper_ids)
    if not query or not with_text:
        return [], []
    papers = [p for p in store.get_papers(paper_ids) if p.id in with_text]
    query -= {t for p in papers for t in subject_terms(p)}
    if not query:  # "WARP", "what is Gemma 2?": the abstract answers, not a passage naming it
        return [], []
    scored: list[Scored] = []
    first: _Collection | None = None
    for paper in papers:
        doc = store.fulltext.get(paper.id)
        if doc is None:
            continue
        rows, stats = _collection(store, doc)
        first = first or stats
        for i in stats.holding(query):
            row, terms = rows[i], stats.terms[i]
            if row.section in _NOT_BODY or stats.coverage(query, terms) < MIN_COVERAGE:
                continue
            scored.append(Scored(stats.score(query, terms), _passage(row, paper, doc, query)))
    if first is None:
        return [], []
    scored.sort(key=lambda s: -s.score)
    rated = [Scored(first.score(query, Counter(analyze(p.text))), p) for p in others]
    return scored[:k], rated


def _passage(row: PassageRow, paper: Paper, doc: FulltextDoc | None, query: set[str]) -> Passage:
    """A body passage as an answer shows it: cut around the question's words, linked to its place."""
    return Passage(
        text=focus(row.text, query),
        paper_id=row.paper_id,
        section=row.section,
        page=row.page,
        link=place_link(paper, doc, row),
    )


def names_in(question: str) -> list[list[str]]:
    """The names a question uses, as their terms: words with two capitals or a capital and a
    digit ("TPUv5p", "RLHF"), and capitalised words after the first ("Gemma"), with a number that
    follows ("Gemma 3")."""
    raws = raw_tokens(question)
    names: list[list[str]] = []
    for i, raw in enumerate(raws):
        upper = sum(c.isupper() for c in raw)
        named = upper >= 2 or (upper and any(c.isdigit() for c in raw)) or (i > 0 and raw[:1].isupper())
        if not named or fold(raw) in STOPWORDS:
            continue
        name = f"{raw} {raws[i + 1]}" if i + 1 < len(raws) and raws[i + 1].isdigit() else raw
        if terms := analyze(name):
            names.append(terms)
    return names


def _holds(terms: list[str], name: list[str]) -> bool:
    """The terms hold the name's terms in a row."""
    n = len(name)
    return any(terms[i : i + n] == name for i in range(len(terms) - n + 1))


def library_passages(
    store: Store,
    index: PassageIndex,
    question: str,
    k: int = BODY_PASSAGES,
    must_hold: Collection[str] = (),
    depth: int = 20,
) -> list[Cited]:
    """The ``k`` body passages of the whole library that best answer ``question`` (BM25 with
    library-wide statistics, on this module's scale; only passages holding ``MIN_COVERAGE`` of
    the question's weight, and one of the terms ``must_hold`` when given), best first, at most
    one per paper; none when none covers it. The names the question uses must be in the
    passage's paper (its title, abstract or the passage)."""
    query = list(dict.fromkeys(analyze(question)))
    found = index.best(query, depth, MIN_COVERAGE, must_hold)
    if not found:
        return []
    places = [index.place(row) for row, _, _ in found]
    rows = {(r.paper_id, r.ordinal): r for r in store.fulltext.passages_at(places)}
    papers = {p.id: p for p in store.get_papers(dict.fromkeys(pid for pid, _ in places))}
    terms, names = set(query), names_in(question)
    scored: list[Cited] = []
    for (_, score, _), place in zip(found, places, strict=True):
        row, paper = rows.get(place), papers.get(place[0])
        if row is None or paper is None or any(s.passage.paper_id == paper.id for s in scored):
            continue  # a paper removed since the index was built; a second passage of a paper
        if names:  # "... Gemma 3 ...": not a passage of Gemma 2, whose words it may share
            held = analyze(" ".join([paper.label, paper.abstract, row.text]))
            if not all(_holds(held, name) for name in names):
                continue
        scored.append(Cited(score, _passage(row, paper, store.fulltext.get(paper.id), terms), paper))
        if len(scored) == k:
            break
    return scored


# A paper's passages and their statistics, kept for the next question about it (a full text of
# 300 pages is ~3000 passages to analyse); a replaced text has another hash and time.
_CACHE: OrderedDict[tuple[int, str, str, str], tuple[list[PassageRow], _Collection]] = OrderedDict()
_CACHE_PAPERS = 16
_CACHE_LOCK = threading.Lock()


def _collection(store: Store, doc: FulltextDoc) -> tuple[list[PassageRow], _Collection]:
    key = (id(store), doc.paper_id, doc.sha256, doc.added_at)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    rows = store.fulltext.passages(doc.paper_id)
    found = (rows, _Collection(rows))
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_PAPERS:
            _CACHE.popitem(last=False)
    return found


def with_body_passages(
    store: Store,
    answer: Answer,
    question: str,
    idf: Callable[[str], float] | None = None,
    k: int = BODY_PASSAGES,
) -> Answer:
    """The answer with the best paper's body passages among its quotes, above the abstract's
    sentences when they match the question better (unchanged when it has no full text).

    A paper the question names ("... Gemma 2 ...") that ranked second or third, behind one it does
    not name, comes first when its full text answers the question (its abstract sentences are
    then picked again, with ``idf``)."""
    if answer.heading or not answer.hits:
        return answer
    promoted = idf is not None and _promote_named(store, answer, question)
    if promoted and idf is not None:
        best = answer.hits[0].paper
        answer.passages = [Passage.from_abstract(best, s) for s in pick_passages(best, question, idf)]
    body, abstract = _rank(store, [answer.hits[0].paper.id], question, k, list(answer.passages))
    if not body:
        if promoted:
            answer.text = render_text(answer)
        return answer
    merged = sorted([*abstract, *body], key=lambda s: -s.score)  # stable: the abstract first on a tie
    answer.passages = [s.passage for s in merged[:MAX_PASSAGES]]
    answer.text = render_text(answer)
    return answer


def _promote_named(store: Store, answer: Answer, question: str) -> bool:
    """Move the first of hits 2-3 that the question names, and whose full text answers it, to the
    top when the question does not name the top hit."""
    terms = set(analyze(question))
    top = subject_terms(answer.hits[0].paper)
    if top and top <= terms:
        return False
    for i, hit in enumerate(answer.hits[1:3], 1):
        named = subject_terms(hit.paper)
        if named and named <= terms and body_passages(store, [hit.paper.id], question, 1):
            answer.hits.insert(0, answer.hits.pop(i))
            return True
    return False
