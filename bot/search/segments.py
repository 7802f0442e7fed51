"""An engine brought up to date without a rebuild: the saved engine (the base segment) plus
small segments of the papers changed since it was built, searched as one.

Each segment's rows follow the previous one's. A paper replaced or removed since a segment was
made keeps its row there, masked (``live``); its new version is a row of a later segment. BM25
is computed with the statistics of the live papers of all segments (document count, document
frequencies, average length), from each posting's term frequency and document length, so a
paper scores exactly what a fresh build would give it. The base alone keeps its precomputed
weights (the fast path).

Lucene's near-real-time readers are the model; the merge policy (bot.search.build) has three
tiers: a segment per refresh, the segments folded into one past a count, and the whole index
rebuilt when the changes outgrow the base (in the background in long-running processes).
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from bot.search.engine import Columns, SearchEngine
from bot.search.lexical import LexicalIndex, bm25_idf, bm25_weights
from bot.search.semantic import Embedder, SemanticIndex


class LexicalSegments(LexicalIndex):
    """Lexical indexes of consecutive row ranges searched as one index, dead rows masked."""

    def __init__(self, parts: Sequence[LexicalIndex], dead: np.ndarray | None) -> None:
        self.parts = list(parts)
        self.offsets = [0, *itertools.accumulate(p.size for p in self.parts)]
        self.size = self.offsets[-1]
        self.dead = dead
        self._dead_parts = [
            None if dead is None or not dead[a:b].any() else dead[a:b]
            for a, b in itertools.pairwise(self.offsets)
        ]
        total = sum(int(np.asarray(p.lengths, dtype=np.int64).sum()) for p in self.parts)
        if dead is not None:
            lengths = np.concatenate([np.asarray(p.lengths) for p in self.parts])
            total -= int(lengths[dead].sum(dtype=np.int64))
        self.documents = self.size - (0 if dead is None else int(np.count_nonzero(dead)))
        self.avgdl = total / self.documents if self.documents else 1.0
        self.vocab = _Vocabulary(self)  # type: ignore[assignment]
        self._df: dict[str, int] = {}

    @functools.cached_property
    def _sorted_vocab(self) -> list[str]:
        base = self.parts[0]._sorted_vocab
        return sorted(base + self._new_terms) if self._new_terms else base  # two sorted runs: a merge

    @functools.cached_property
    def _new_terms(self) -> list[str]:
        """Terms of the later segments that the base does not know."""
        known = self.parts[0].vocab
        return sorted({t for part in self.parts[1:] for t in part.vocab if t not in known})

    def _postings(self, term: str) -> Iterable[tuple[int, LexicalIndex, np.ndarray | None, int, int]]:
        """(row offset, segment, its dead rows, first, end) of the term's posting list per segment."""
        for offset, part, dead in zip(self.offsets, self.parts, self._dead_parts, strict=False):
            tid = part.vocab.get(term)
            if tid is not None:
                yield offset, part, dead, int(part.indptr[tid]), int(part.indptr[tid + 1])

    def doc_freq(self, term: str) -> int:
        df = self._df.get(term)
        if df is None:
            df = 0
            for _, part, dead, start, end in self._postings(term):
                df += end - start
                if dead is not None:
                    df -= int(np.count_nonzero(dead[part.indices[start:end]]))
            if len(self._df) > 4096:
                self._df.clear()
            self._df[term] = df
        return df

    def scores(
        self,
        terms: Sequence[str],
        mask: np.ndarray | None = None,
        weights: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        for i, term in enumerate(terms):
            idf = None
            for offset, part, _, start, end in self._postings(term):
                rows = part.indices[start:end]
                if weights is not None:
                    weight: np.ndarray | np.float32 = np.float32(weights[i])
                else:
                    if idf is None:
                        idf = bm25_idf(self.documents, self.doc_freq(term))
                    weight = bm25_weights(idf, part.tf[start:end], part.lengths[rows], self.avgdl)
                if scale is not None and scale[i] != 1.0:
                    weight = weight * np.float32(scale[i])
                scores[offset : offset + part.size][rows] += weight
        if self.dead is not None:
            scores[self.dead] = 0.0
        if mask is not None:
            scores[~mask] = 0.0
        return scores

    def docs_with(self, term: str) -> np.ndarray:
        found = [
            offset + np.asarray(part.indices[start:end])
            for offset, part, _, start, end in self._postings(term)
        ]
        rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int32)
        return rows if self.dead is None else rows[~self.dead[rows]]


class _Vocabulary:
    """The terms of the segments' live papers, for membership tests (a term that only replaced
    or removed papers held is unknown, as it would be to a fresh build)."""

    def __init__(self, index: LexicalSegments) -> None:
        self.index = index

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.index.doc_freq(term) > 0


class SemanticSegments:
    """Semantic indexes of consecutive row ranges searched as one, dead rows masked."""

    def __init__(self, parts: Sequence[SemanticIndex], dead: np.ndarray | None) -> None:
        self.parts = list(parts)
        self.offsets = [0, *itertools.accumulate(len(p.matrix) for p in self.parts)]
        self.live = None if dead is None else ~dead
        self.embedder: Embedder = self.parts[0].embedder

    def _locate(self, row: int) -> tuple[int, int]:
        at = bisect.bisect_right(self.offsets, row) - 1
        return at, row - self.offsets[at]

    def vector(self, row: int) -> np.ndarray:
        at, local = self._locate(row)
        return self.parts[at].vector(local)

    def nearest(
        self, vector: np.ndarray, depth: int = 100, mask: np.ndarray | None = None
    ) -> dict[int, float]:
        admitted = mask if self.live is None else (self.live if mask is None else mask & self.live)
        found: dict[int, float] = {}
        for (a, b), part in zip(itertools.pairwise(self.offsets), self.parts, strict=True):
            near = part.nearest(vector, depth, None if admitted is None else admitted[a:b])
            found.update((a + row, score) for row, score in near.items())
        best = sorted(found, key=found.__getitem__, reverse=True)[:depth]
        return {row: found[row] for row in best}

    def similarities(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        found: dict[int, float] = {}
        for at, part in enumerate(self.parts):
            a, b = self.offsets[at], self.offsets[at + 1]
            local = [row - a for row in rows if a <= row < b]
            found.update((a + row, score) for row, score in part.similarities(vector, local).items())
        return found


def combine(engine: SearchEngine, changed: SearchEngine, stale: Iterable[str]) -> SearchEngine:
    """One engine over ``engine``'s segments (a base, or a base with segments already) and
    ``changed``, a segment of papers changed since; ``stale``: ids of papers replaced or removed
    since ``engine`` was made, whose rows are masked."""
    n = engine.rows
    dead = np.zeros(n + changed.rows, dtype=bool)
    if engine.live is not None:
        dead[:n] = ~engine.live
    for paper_id in stale:
        row = engine.position(paper_id)
        if row is not None:
            dead[row] = True
    b, c = engine.columns, changed.columns
    names = dict.fromkeys([*b.category_names, *c.category_names])
    remap = np.array([list(names).index(name) for name in c.category_names], dtype=np.int32)
    titles = [*b.titles, *c.titles]
    newly_dead = dead[:n] if engine.live is None else dead[:n] & engine.live
    for dead_row in np.flatnonzero(newly_dead).tolist():
        titles[dead_row] = ""  # a replaced paper's old title: no longer found, completed or fuzzily matched
    columns = Columns(
        ids=np.concatenate([b.ids, c.ids]),
        titles=titles,
        ordinals=np.where(dead, 0, np.concatenate([b.ordinals, c.ordinals])).astype(np.int32),
        has_code=np.concatenate([b.has_code, c.has_code]),
        category_names=list(names),
        category_offsets=np.concatenate(
            [b.category_offsets, c.category_offsets[1:] + b.category_offsets[-1]]
        ),
        category_ids=np.concatenate([b.category_ids, remap[c.category_ids]])
        if len(remap)
        else b.category_ids,
    )
    # Both orders are merges: the engine's (dead rows left out) and the new segment's sorted ones.
    kept_titles = engine.title_order[~dead[engine.title_order]]
    at = [
        bisect.bisect_left(kept_titles, title, key=titles.__getitem__)
        for title in (c.titles[i] for i in changed.title_order)
    ]
    title_order = np.insert(kept_titles, at, changed.title_order + n)
    old_ids = np.arange(n) if engine._id_order is None else engine._id_order
    new_ids = np.arange(changed.rows) if changed._id_order is None else changed._id_order
    # side="left": a replaced paper's new row sorts before its old ones, so look-ups find it first
    id_order = np.insert(
        old_ids, np.searchsorted(b.ids, c.ids[new_ids], sorter=engine._id_order), new_ids + n
    )
    semantic = None
    if engine.semantic is not None and changed.semantic is not None:
        assert isinstance(changed.semantic, SemanticIndex)
        semantic = SemanticSegments([*_parts(engine.semantic), changed.semantic], dead)
    combined = SearchEngine(
        columns,
        LexicalSegments([*_parts(engine.lexical), changed.lexical], dead),
        LexicalSegments([*_parts(engine.title_lexical), changed.title_lexical], dead),
        engine.authors.extended(
            changed.authors.names
        ),  # a removed paper's authors stay: they filter to nothing
        LexicalSegments([*_parts(engine.author_papers), changed.author_papers], dead),
        semantic,
        title_order=title_order,
        id_order=id_order,
        live=~dead,
    )
    combined.base = engine.base
    return combined


def segments(engine: SearchEngine) -> int:
    """How many segments the engine searches (1: a base alone)."""
    return len(engine.lexical.parts) if isinstance(engine.lexical, LexicalSegments) else 1


def _parts(index: Any) -> list[Any]:
    return list(index.parts) if isinstance(index, LexicalSegments | SemanticSegments) else [index]
