"""The search engine: lexical, title, fuzzy and semantic signals fused, under filters.

The engine keeps lean per-document arrays (ids, folded titles, dates, categories) and
returns document indexes with scores; the service fetches the papers from the store.
``bot.search.build`` builds it from a store, saves it to a folder and loads it memory-mapped.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot.acronyms import title_initials
from bot.models import Paper
from bot.search.analysis import Analyzer, analyze, defined_names
from bot.search.filters import Filters, category_matches, date_mask
from bot.search.fusion import fuse
from bot.search.fuzzy import AuthorIndex, title_scores
from bot.search.lexical import LexicalIndex
from bot.search.semantic import SemanticIndex

if TYPE_CHECKING:
    from bot.search.segments import SemanticSegments
from bot.text import key

# Each signal contributes its best DEPTH documents to the fusion.
DEPTH = 100
# A guessed spelling of a word the library does not know counts this much of a known word.
CORRECTION_WEIGHT = 0.4
# Below this many papers fuzzy titles are scored exhaustively; above, only candidates.
FULL_SCAN = 2_000
TITLES_REMEMBERED = 16  # texts whose title scores are kept: questions being answered at once
# Measured on the dev set, alone and among 10k, 20k and 100k synthetic distractors (see the README).
WEIGHTS = {"bm25": 1.0, "title": 0.3, "fuzzy": 1.0, "semantic": 0.3}
# Up to this many terms a query may be a title; longer ones are descriptions, whose words
# in titles mislead more than they help (the title is already in BM25's text, twice).
TITLE_QUERY_TERMS = 4
LONG_QUERY_TITLE = 1 / 3
COSINE_FLOOR = 0.3
# Fuzzy title matching looks at this many of the title and BM25 signals' best documents.
FUZZY_POOL = 30
# A fuzzy title score this high (0-100) is a title typed with typos, not a coincidence.
FUZZY_STRONG = 90.0


class Scored(NamedTuple):
    row: int
    score: float


def document_text(paper: Paper) -> str:
    """What BM25 indexes: the title twice (it says most), authors, every abstract version."""
    return " ".join(
        [paper.label, paper.label, " ".join(paper.authors), paper.abstract, *paper.other_abstracts]
    )


def title_terms(paper: Paper, analyzer: Analyzer) -> list[str]:
    """The title field: title words and word pairs, plus names the abstract defines ("(GKD)")."""
    return with_bigrams(analyzer(paper.label)) + analyzer(" ".join(defined_names(paper)))


def embedding_text(paper: Paper) -> str:
    return f"{paper.label}. {paper.abstract}"


def with_bigrams(terms: list[str], pair_weight: int = 1) -> list[str]:
    """Terms plus adjacent pairs ("gemma_2"): a title's word order tells "Gemma 2" from "Gemma 3"."""
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(terms)]
    return terms + pairs * pair_weight


class Columns(NamedTuple):
    """Per-document arrays, row i describing document i."""

    ids: np.ndarray  # str
    titles: list[str]  # folded labels
    ordinals: np.ndarray  # int32 date ordinals, 0 when undated
    has_code: np.ndarray  # bool
    category_names: list[str]
    category_offsets: np.ndarray  # document i has category_ids[offsets[i]:offsets[i+1]]
    category_ids: np.ndarray


class SearchEngine:
    def __init__(
        self,
        columns: Columns,
        lexical: LexicalIndex,
        title_lexical: LexicalIndex,
        authors: AuthorIndex,
        author_papers: LexicalIndex,
        semantic: SemanticIndex | SemanticSegments | None = None,
        title_order: np.ndarray | None = None,
        id_order: np.ndarray | None = None,
        live: np.ndarray | None = None,
    ) -> None:
        """``live``: which rows are current papers (None: all). Rows of papers replaced or
        removed since a segment was built stay in its arrays, masked (bot.search.segments)."""
        self.columns = columns
        self.ids = columns.ids
        self.titles = columns.titles
        self.ordinals = columns.ordinals
        self.rows = len(self.ids)
        self.live = live
        self._size = self.rows if live is None else int(np.count_nonzero(live))
        self.lexical = lexical
        lexical.prepare_corrections()
        self.title_lexical = title_lexical
        self.authors = authors
        self.author_papers = author_papers  # author key -> rows of their papers, as posting lists
        self.semantic = semantic
        # Built from the store in id order, the ids are usually sorted already: then no sort
        # at load (a second at 1M papers) and searches read one array, not two.
        if id_order is None and len(self.ids) > 1 and not bool(np.all(self.ids[1:] >= self.ids[:-1])):
            id_order = np.argsort(self.ids, kind="stable")
        self._id_order = id_order
        if title_order is None:
            title_order = np.array(
                sorted(range(len(self.titles)), key=self.titles.__getitem__), dtype=np.int64
            )
        self.title_order = title_order
        self.base = self  # the saved segment this engine extends (bot.search.segments.combine)
        self.meta: dict[str, object] = {}  # what it was built from: store id, corpus version, embedder
        self._terms_cache: dict[str, dict[str, float]] = {}
        self._titles_cache: dict[str, dict[int, float]] = {}
        self._initials: dict[str, list[int]] | None = None  # made when an unknown acronym is asked

    def __len__(self) -> int:
        """How many papers the engine holds (masked rows of replaced papers not counted)."""
        return self._size

    # -- positions -----------------------------------------------------------------------
    def position(self, paper_id: str) -> int | None:
        """The row of a current paper. A replaced paper's old row sorts after its new one."""
        if not self.rows:
            return None
        at = min(int(np.searchsorted(self.ids, paper_id, sorter=self._id_order)), self.rows - 1)
        row = at if self._id_order is None else int(self._id_order[at])
        if self.ids[row] != paper_id or (self.live is not None and not self.live[row]):
            return None
        return row

    def id_at(self, index: int) -> str:
        return str(self.ids[index])

    # -- filters -------------------------------------------------------------------------
    def mask(self, filters: Filters | None, author_keys: list[str] | None = None) -> np.ndarray | None:
        """The documents the filters admit, or None when nothing is filtered."""
        filters = filters or Filters()
        if filters.is_empty() and author_keys is None:
            return self.live
        mask = date_mask(self.ordinals, filters.since, filters.until)
        if self.live is not None:
            mask &= self.live
        if filters.has_code is not None:
            mask &= self.columns.has_code == filters.has_code
        if filters.category:
            mask &= self._category_mask(filters.category)
        if author_keys is not None:
            chosen = np.zeros(self.rows, dtype=bool)
            for author in author_keys:
                chosen[self.author_papers.docs_with(author)] = True
            mask &= chosen
        for term in filters.topic or []:
            has = np.zeros(self.rows, dtype=bool)
            for alternative in self.lexical.correct(term):
                has[self.lexical.docs_with(alternative)] = True
            mask &= has
        return mask

    def _category_mask(self, wanted: str) -> np.ndarray:
        c = self.columns
        matching = [i for i, name in enumerate(c.category_names) if category_matches(wanted, name, [])]
        hit = np.isin(c.category_ids, matching).astype(np.int64)
        counts = (
            np.add.reduceat(np.append(hit, 0), c.category_offsets[:-1]) if len(hit) else np.zeros(self.rows)
        )
        empty = c.category_offsets[1:] == c.category_offsets[:-1]  # reduceat reads the next row there
        return (counts > 0) & ~empty

    # -- query side ---------------------------------------------------------------------
    def query_terms(self, text: str) -> list[str]:
        """Analysed query terms, misspelt ones replaced by their closest vocabulary terms."""
        return list(self._analysed(text))

    def _analysed(self, text: str) -> dict[str, float]:
        """The query's terms with how much each counts: a word the library knows 1, a guess for
        a word it does not know less, so an unknown word never outweighs the known ones."""
        cached = self._terms_cache.get(text)
        if cached is not None:
            return cached
        terms: dict[str, float] = {}
        for term in analyze(text):
            guesses = self.lexical.correct(term)
            for guess in guesses:
                weight = 1.0 if guess == term else CORRECTION_WEIGHT
                terms[guess] = max(terms.get(guess, 0.0), weight)
        if len(self._terms_cache) > 256:  # routing and ranking analyse the same text: remember a few
            self._terms_cache.clear()
        self._terms_cache[text] = terms
        return terms

    def signals(self, text: str, mask: np.ndarray | None) -> dict[str, dict[int, float]]:
        """Each retriever's scores for its best admitted documents, for a free-text query."""
        weighted = self._analysed(text)
        terms = list(weighted)
        out = {
            "bm25": self.lexical.top(terms, DEPTH, mask, scale=list(weighted.values())),
            "title": dict(self._titles_of(text))
            if mask is None
            else self.title_coverage(terms, DEPTH, mask, weighted),
        }
        if len(terms) > TITLE_QUERY_TERMS:  # a description, not a title: titles say little
            out["title"] = {i: s * LONG_QUERY_TITLE for i, s in out["title"].items()}
        if self.semantic is not None:
            vector = self.semantic.embedder.embed([text])[0]
            near = self.semantic.nearest(vector, DEPTH, mask)
            # The inverted file finds about half of a short query's true 100 nearest (dev set,
            # 100k papers): the papers the words found get their exact cosine too.
            found = [i for i in dict.fromkeys([*out["bm25"], *out["title"]]) if i not in near]
            near |= self.semantic.similarities(vector, found)
            out["semantic"] = {i: cosine_scale(s) for i, s in near.items() if cosine_scale(s) > 0}
        candidates = None
        if len(self) > FULL_SCAN:  # a typo'd title still shares some words with the title
            candidates = list(
                dict.fromkeys([*_best(out["title"], FUZZY_POOL), *_best(out["bm25"], FUZZY_POOL)])
            )
        fuzzy = title_scores(text, self.titles, candidates)
        out["fuzzy"] = {
            i: (s - FUZZY_STRONG) / (100 - FUZZY_STRONG)
            for i, s in fuzzy.items()
            if s > FUZZY_STRONG and (mask is None or mask[i])
        }
        return out

    def title_coverage(
        self,
        terms: list[str],
        depth: int,
        mask: np.ndarray | None = None,
        scale: dict[str, float] | None = None,
    ) -> dict[int, float]:
        """The ``depth`` titles holding most of the query, 0-1: the idf of the query's words and
        word pairs ("gemma 2", counted twice) found in the title field, over the idf of all of them."""
        scale = scale or {}
        weights = {t: self.lexical.idf(t) * scale.get(t, 1.0) for t in terms if t in self.lexical.vocab}
        for a, b in itertools.pairwise(terms):
            if a in weights and b in weights:
                weights[f"{a}_{b}"] = weights[a] + weights[b]
        total = sum(weights.values())
        if total <= 0:
            return {}
        return self.title_lexical.top(list(weights), depth, mask, [w / total for w in weights.values()])

    def _titles_of(self, text: str) -> dict[int, float]:
        """``title_coverage`` of the text's terms, unfiltered: routing a question and ranking for
        it both ask (a pass over the title field's postings: 3-4 ms at 1M papers), one after the
        other, so the last few texts' are remembered."""
        cached = self._titles_cache.get(text)
        if cached is None:
            weighted = self._analysed(text)
            cached = self.title_coverage(list(weighted), DEPTH, None, weighted)
            if len(self._titles_cache) >= TITLES_REMEMBERED:
                self._titles_cache.clear()
            self._titles_cache[text] = cached
        return cached

    def best_title_score(self, text: str) -> float:
        """How well the text matches some title (0-100): tells a typed title from a question.
        Compared: the 20 titles that hold the most of its words."""
        candidates = _best(self._titles_of(text), 20)
        scores = title_scores(text, self.titles, candidates if len(self) > FULL_SCAN else None)
        return max(scores.values(), default=0.0)

    def rank(self, text: str, k: int, mask: np.ndarray | None) -> list[Scored]:
        """Rows of the ``k`` best admitted documents for free text, fused signals."""
        fused = fuse(self.signals(text, mask), WEIGHTS)
        return self._best_rows(fused, k)

    def _best_rows(self, scores: dict[int, float], k: int) -> list[Scored]:
        """The ``k`` best rows, ties broken by paper id: the order does not depend on where the
        papers sit in the index (a fresh build and an updated one rank alike)."""
        best = sorted(scores, key=lambda i: (-scores[i], str(self.ids[i])))[:k]
        return [Scored(i, scores[i]) for i in best]

    def _similar_rows(self, row: int, k: int) -> list[Scored]:
        """Documents like the one at ``row`` (never itself): its embedding and its title's terms."""
        signals: dict[str, dict[int, float]] = {}
        if self.semantic is not None:
            signals["semantic"] = self.semantic.nearest(self.semantic.vector(row), DEPTH + 1)
        signals["bm25"] = self.lexical.top(self.query_terms(self.titles[row]), DEPTH + 1)
        for scores in signals.values():
            scores.pop(row, None)
        fused = fuse(signals, {"semantic": 1.0, "bm25": 1.0})
        return self._best_rows(fused, k)

    def _newest_rows(self, mask: np.ndarray | None, k: int | None = None) -> list[int]:
        """Admitted documents, newest first (undated last)."""
        mask = self.live if mask is None else mask
        rows = np.flatnonzero(mask) if mask is not None else np.arange(self.rows)
        rows = rows[np.argsort(-self.ordinals[rows], kind="stable")]
        return [int(i) for i in (rows if k is None else rows[:k])]

    def _complete_rows(self, text: str, limit: int) -> list[int]:
        q = key(text)
        if not q:
            return self._newest_rows(None, limit)
        start = bisect.bisect_left(self.title_order, q, key=self.titles.__getitem__)
        starts = []
        for i in self.title_order[start : start + limit]:
            if not self.titles[i].startswith(q):
                break
            starts.append(int(i))
        if len(starts) >= limit:
            return starts
        words = q.split()
        terms = self.query_terms(" ".join(words[:-1]))
        terms += self.lexical.completions(analyze(words[-1])[0], 5) if analyze(words[-1]) else []
        candidates = list(self.title_lexical.top(terms, 200))
        if len(self) <= FULL_SCAN:
            candidates = list(range(self.rows))
        titles = [self.titles[i] for i in candidates]
        fuzzy = process.extract(q, titles, scorer=fuzz.WRatio, processor=None, limit=limit)
        return list(dict.fromkeys([*starts, *(candidates[m[2]] for m in fuzzy)]))[:limit]

    # -- the Retriever interface (bot.search.retriever): papers named by id -----------------
    def _ids(self, scored: Iterable[Scored]) -> list[tuple[str, float]]:
        return [(self.id_at(s.row), s.score) for s in scored]

    def search(
        self, text: str, k: int = 10, filters: Filters | None = None, author_keys: list[str] | None = None
    ) -> list[tuple[str, float]]:
        return self._ids(self.rank(text, k, self.mask(filters, author_keys)))

    def count(self, filters: Filters | None, author_keys: list[str] | None = None) -> int:
        mask = self.mask(filters, author_keys)
        return self.rows if mask is None else int(mask.sum())

    def newest(
        self, filters: Filters | None, author_keys: list[str] | None = None, k: int | None = None
    ) -> list[str]:
        return [self.id_at(i) for i in self._newest_rows(self.mask(filters, author_keys), k)]

    def similar(self, paper_id: str, k: int = 5, filters: Filters | None = None) -> list[tuple[str, float]]:
        row = self.position(paper_id)
        if row is None:
            return []
        mask = self.mask(filters)
        kept = [s for s in self._similar_rows(row, k * 3) if mask is None or mask[s.row]]
        return self._ids(kept[:k])

    def dates(self, filters: Filters | None) -> list[dt.date]:
        """The dates of the dated papers the filters admit (for counts per period)."""
        mask = self.mask(filters)
        ordinals = self.ordinals if mask is None else self.ordinals[mask]
        return [dt.date.fromordinal(int(o)) for o in ordinals[ordinals > 0]]

    def dated_categories(self) -> list[tuple[dt.date, str]]:
        """(date, first category) of every dated paper: the library's shape for /stats."""
        c = self.columns
        out = []
        for row in np.flatnonzero(self.ordinals > 0):
            start, end = c.category_offsets[row], c.category_offsets[row + 1]
            name = c.category_names[c.category_ids[start]] if end > start else "other"
            out.append((dt.date.fromordinal(int(self.ordinals[row])), name))
        return out

    def topic_terms(self, text: str) -> list[str]:
        """A topic's terms, the rarest first (the ones that say most about it)."""
        return sorted(set(self.query_terms(text)), key=self.lexical.doc_freq)

    def title_matches(self, text: str) -> dict[str, float]:
        """Papers whose title is like the text (0-100), from candidates on large corpora."""
        candidates = None if len(self) <= FULL_SCAN else [s.row for s in self.rank(text, 50, None)]
        return {self.id_at(i): score for i, score in title_scores(text, self.titles, candidates).items()}

    def complete_titles(self, text: str, limit: int = 25) -> list[str]:
        """Papers for a title autocomplete box: titles starting with the text, then fuzzy ones."""
        return [self.id_at(i) for i in self._complete_rows(text, limit)]

    def idf(self, term: str) -> float:
        return self.lexical.idf(term)

    def spellings(self, term: str) -> list[str]:
        """The vocabulary terms an unknown analysed term may stand for (a typo, a compound)."""
        return self.lexical.correct(term)

    def doc_freq(self, term: str) -> int:
        """How many papers hold this analysed term (0: the library does not know the word)."""
        return self.lexical.doc_freq(term)

    def titled_by_initials(self, letters: str, limit: int = 5) -> list[str]:
        """Papers whose title's initials spell ``letters`` ("dcpi": Deep Conservative Policy
        Iteration). The map is made on the first such question: a pass over the titles."""
        if self._initials is None:
            initials: dict[str, list[int]] = {}
            for row, title in enumerate(self.titles):
                for spelled in title_initials(title):
                    initials.setdefault(spelled, []).append(row)
            self._initials = initials
        return [self.id_at(i) for i in self._initials.get(letters.lower(), [])[:limit]]


def cosine_scale(cosine: float) -> float:
    """Cosine similarity of static embeddings to 0-1: unrelated texts sit near 0.3, a paper and
    a question about it near 0.6-0.8."""
    return max(0.0, min(1.0, (cosine - COSINE_FLOOR) / (1.0 - COSINE_FLOOR)))


def _best(scores: dict[int, float], k: int) -> list[int]:
    return sorted(scores, key=scores.__getitem__, reverse=True)[:k]
