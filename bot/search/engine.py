"""The search engine: lexical, fuzzy, acronym and semantic rankings fused, under filters.

The engine keeps lean per-document arrays (ids, folded titles, dates, categories) and
returns document indexes with scores; the service fetches the papers from the store.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot.models import Paper
from bot.search.analysis import acronyms, analyze, raw_tokens
from bot.search.filters import Filters, category_matches, date_mask
from bot.search.fusion import fuse, rrf, top_k
from bot.search.fuzzy import AuthorIndex, title_scores
from bot.search.lexical import LexicalIndex
from bot.search.semantic import SemanticIndex
from bot.text import fold, key

# Rankings are cut to this depth before fusion.
DEPTH = 100
# Below this many papers fuzzy titles are scored exhaustively; above, only candidates.
FULL_SCAN = 20_000
WEIGHTS = {"bm25": 1.0, "title": 0.5, "fuzzy": 0.5, "acronym": 1.0, "semantic": 0.5}
# A fuzzy title score this high (0-100) is a title typed with typos, not a coincidence.
FUZZY_STRONG = 90.0


class Scored(NamedTuple):
    index: int
    score: float


def document_text(paper: Paper) -> str:
    """What BM25 indexes: the title twice (it says most), authors, every abstract version."""
    return " ".join(
        [paper.label, paper.label, " ".join(paper.authors), paper.abstract, *paper.other_abstracts]
    )


def embedding_text(paper: Paper) -> str:
    return f"{paper.label}. {paper.abstract}"


class SearchEngine:
    def __init__(
        self,
        papers: Iterable[Paper],
        authors: AuthorIndex,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.ids: list[str] = []
        self.titles: list[str] = []  # folded labels, for fuzzy matching
        self.labels: list[str] = []
        self.categories: list[tuple[str, ...]] = []
        ordinals: list[int] = []
        has_code: list[bool] = []
        corpus: list[list[str]] = []
        title_corpus: list[list[str]] = []
        self.acronyms: dict[str, dict[int, float]] = {}
        for i, paper in enumerate(papers):
            self.ids.append(paper.id)
            self.labels.append(paper.label)
            self.titles.append(key(paper.label))
            self.categories.append(tuple(c for c in [paper.category, *paper.categories] if c))
            ordinals.append(paper.date.toordinal() if paper.date else 0)
            has_code.append(paper.has_code)
            corpus.append(analyze(document_text(paper)))
            title_corpus.append(with_bigrams(analyze(paper.label)))
            self._index_acronyms(i, paper)
        self.position = {pid: i for i, pid in enumerate(self.ids)}
        self.ordinals = np.array(ordinals, dtype=np.int32)
        self.has_code = np.array(has_code, dtype=bool)
        self.lexical = LexicalIndex(corpus)
        self.title_lexical = LexicalIndex(title_corpus)
        self.authors = authors
        self.semantic = semantic

    def __len__(self) -> int:
        return len(self.ids)

    def _index_acronyms(self, i: int, paper: Paper) -> None:
        """Names in the title count fully; names defined in the abstract, "(GKD)", count half."""
        for name in acronyms(paper.label):
            self.acronyms.setdefault(name, {})[i] = 2.0
        for text in [paper.abstract, *paper.other_abstracts]:
            for name in acronyms(" ".join(seg.split(")")[0] for seg in text.split("(")[1:])):
                self.acronyms.setdefault(name, {}).setdefault(i, 1.0)

    # -- query side ---------------------------------------------------------------------
    def query_terms(self, text: str) -> list[str]:
        """Analysed query terms, misspelt ones replaced by their closest vocabulary terms."""
        terms: list[str] = []
        for term in analyze(text):
            terms.extend(self.lexical.correct(term))
        return list(dict.fromkeys(terms))

    def mask(self, filters: Filters | None, author_ids: set[str] | None = None) -> np.ndarray | None:
        """The documents the filters admit, or None when nothing is filtered."""
        filters = filters or Filters()
        if filters.is_empty() and author_ids is None:
            return None
        mask = date_mask(self.ordinals, filters.since, filters.until)
        if filters.has_code is not None:
            mask &= self.has_code == filters.has_code
        if filters.category:
            wanted = filters.category
            mask &= np.array(
                [category_matches(wanted, c[0] if c else None, list(c)) for c in self.categories]
            )
        if author_ids is not None:
            chosen = np.zeros(len(self), dtype=bool)
            chosen[[self.position[p] for p in author_ids if p in self.position]] = True
            mask &= chosen
        if filters.topic:
            for term in filters.topic:
                has = np.zeros(len(self), dtype=bool)
                for alternative in self.lexical.correct(term):
                    has[self.lexical.docs_with(alternative)] = True
                mask &= has
        return mask

    def signals(self, text: str, mask: np.ndarray | None) -> dict[str, dict[int, float]]:
        """Each retriever's scores for its best admitted documents, for a free-text query."""
        out: dict[str, dict[int, float]] = {}
        terms = self.query_terms(text)
        out["bm25"] = _top_scores(self.lexical.scores(terms, mask), DEPTH)
        # Pairs count twice: "gemma 2" in order says more than "gemma" and "2" apart.
        title_terms = with_bigrams(terms, pair_weight=2)
        out["title"] = _top_scores(self.title_lexical.scores(title_terms, mask), DEPTH)
        if self.semantic is not None:
            sem = self.semantic.scores(text)
            if mask is not None:
                sem = np.where(mask, sem, -1.0)
            out["semantic"] = _top_scores(sem, DEPTH)
        candidates = None
        if len(self) > FULL_SCAN:
            candidates = list(dict.fromkeys([*out["bm25"], *out["title"], *out.get("semantic", {})]))
        fuzzy = title_scores(text, self.titles, candidates)
        out["fuzzy"] = {i: s for i, s in fuzzy.items() if s >= FUZZY_STRONG and (mask is None or mask[i])}
        acro = self._acronym_scores(text, mask)
        if acro:
            out["acronym"] = acro
        return out

    def _acronym_scores(self, text: str, mask: np.ndarray | None) -> dict[int, float]:
        scores: dict[int, float] = {}
        for raw in raw_tokens(text):
            name = fold(raw)
            docs = self.acronyms.get(name) or self.acronyms.get(name.rstrip("s"))
            if not docs or len(docs) > max(3, len(self) // 100):  # too common to point anywhere
                continue
            for i, weight in docs.items():
                if mask is None or mask[i]:
                    scores[i] = scores.get(i, 0.0) + weight / len(docs)
        return scores

    def search(
        self, text: str, k: int = 10, filters: Filters | None = None, author_ids: set[str] | None = None
    ) -> list[Scored]:
        return self.search_masked(text, k, self.mask(filters, author_ids))

    def search_masked(self, text: str, k: int, mask: np.ndarray | None) -> list[Scored]:
        fused = fuse(self.signals(text, mask), WEIGHTS)
        return [Scored(i, fused[i]) for i in top_k(fused, k)]

    def similar(self, index: int, k: int = 5) -> list[Scored]:
        """Papers like the one at ``index`` (never itself): its embedding and its rare terms."""
        rankings: dict[str, list[int]] = {}
        terms = analyze(self.labels[index])
        if self.semantic is not None:
            rankings["semantic"] = [
                i for i in _ranked(self.semantic.scores_for_row(index), DEPTH + 1) if i != index
            ]
        lexical = self.lexical.scores(terms)
        rankings["bm25"] = [i for i in _ranked(lexical, DEPTH + 1) if i != index]
        fused = rrf(rankings, {"semantic": 1.0, "bm25": 1.0})
        return [Scored(i, fused[i]) for i in top_k(fused, k)]

    def newest(self, mask: np.ndarray | None, k: int | None = None) -> list[int]:
        """Admitted documents, newest first (undated last)."""
        order = np.argsort(-self.ordinals, kind="stable")
        if mask is not None:
            order = order[mask[order]]
        return [int(i) for i in (order if k is None else order[:k])]

    def complete_titles(self, text: str, limit: int = 25) -> list[int]:
        """Documents for a title autocomplete box: prefix matches first, then fuzzy ones."""
        q = key(text)
        if not q:
            return self.newest(None, limit)
        starts = [i for i, t in enumerate(self.titles) if t.startswith(q)][:limit]
        fuzzy = process.extract(q, self.titles, scorer=fuzz.WRatio, processor=None, limit=limit)
        return list(dict.fromkeys([*starts, *(m[2] for m in fuzzy)]))[:limit]


def with_bigrams(terms: list[str], pair_weight: int = 1) -> list[str]:
    """Terms plus adjacent pairs ("gemma_2"): a title's word order tells "Gemma 2" from "Gemma 3"."""
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(terms)]
    return terms + pairs * pair_weight


def _top_scores(scores: np.ndarray, depth: int) -> dict[int, float]:
    return {i: float(scores[i]) for i in _ranked(scores, depth)}


def _ranked(scores: np.ndarray, depth: int, floor: float = 0.0) -> list[int]:
    """Indexes of the ``depth`` highest scores above ``floor``, best first."""
    if scores.size == 0:
        return []
    depth = min(depth, scores.size)
    top = np.argpartition(-scores, depth - 1)[:depth]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [int(i) for i in top if scores[i] > floor]
