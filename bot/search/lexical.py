"""BM25 over analysed text (bm25s: sparse matrices, numpy only), plus vocabulary look-ups.

The title is indexed twice, so a word of the title weighs more than one of the abstract.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

# Query terms this short are not corrected: too many near neighbours to guess right.
MIN_CORRECTABLE = 4


class LexicalIndex:
    def __init__(self, corpus_terms: Sequence[Sequence[str]]) -> None:
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._bm25.index([list(t) for t in corpus_terms], show_progress=False)
        self.vocab: dict[str, int] = self._bm25.vocab_dict
        self._sorted_vocab = sorted(t for t in self.vocab if t)
        self.size = len(corpus_terms)

    def scores(self, terms: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        known = [t for t in terms if t in self.vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        scores = self._bm25.get_scores(known)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return scores  # type: ignore[no-any-return]

    def docs_with(self, term: str) -> np.ndarray:
        """Indexes of the documents that contain ``term`` (read from the CSC matrix)."""
        tid = self.vocab.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        m = self._bm25.scores
        return m["indices"][m["indptr"][tid] : m["indptr"][tid + 1]]  # type: ignore[no-any-return]

    def doc_freq(self, term: str) -> int:
        return len(self.docs_with(term))

    def correct(self, term: str) -> list[str]:
        """Vocabulary terms for an unknown query term: close spellings, else completions."""
        if term in self.vocab or len(term) < MIN_CORRECTABLE or term.isdigit():
            return [term]
        close = process.extract(term, self._sorted_vocab, scorer=fuzz.ratio, score_cutoff=80, limit=2)
        if close:
            return [c[0] for c in close]
        return self.completions(term, limit=3) or [term]

    def completions(self, prefix: str, limit: int = 5) -> list[str]:
        """Vocabulary terms starting with ``prefix``, most frequent first."""
        start = bisect.bisect_left(self._sorted_vocab, prefix)
        found = []
        for term in self._sorted_vocab[start : start + 200]:
            if not term.startswith(prefix):
                break
            found.append(term)
        return sorted(found, key=self.doc_freq, reverse=True)[:limit]
