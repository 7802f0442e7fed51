"""The baselines ours is compared with, in the same process on the same corpus.

- search: rank_bm25's BM25Okapi over the same analysed text, top 10 by full sort;
- autocomplete: a linear rapidfuzz ``process.extract`` over every title.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from bot.evaluation import matches_gold
from bot.search.analysis import Analyzer
from bot.search.engine import document_text
from bot.store import Store


def gold_ids(store: Store, questions: list[dict[str, Any]]) -> dict[str, str]:
    """Each dev question's gold paper, by id, in this store (the first paper matching its gold)."""
    found: dict[str, str] = {}
    for paper in store.iter_papers():
        for row in questions:
            if any(matches_gold(paper, g) for g in row["gold"]):
                found.setdefault(row["q"], paper.id)
    return found


class RankBM25Baseline:
    def __init__(self, store: Store) -> None:
        from rank_bm25 import BM25Okapi  # a dev dependency: only the benchmark needs it

        analyzer = Analyzer()
        self.ids: list[str] = []
        corpus = []
        for paper in store.iter_papers():
            self.ids.append(paper.id)
            corpus.append(analyzer(document_text(paper)))
        start = time.perf_counter()
        self.bm25 = BM25Okapi(corpus)
        self.build_seconds = time.perf_counter() - start
        self.analyzer = analyzer

    def search(self, query: str, k: int = 10) -> list[str]:
        scores = self.bm25.get_scores(self.analyzer(query))
        top = np.argsort(-scores)[:k]
        return [self.ids[i] for i in top]


class LinearTitleScan:
    def __init__(self, store: Store) -> None:
        self.titles = [p.label for p in store.iter_papers()]

    def complete(self, text: str, limit: int = 25) -> list[str]:
        return [m[0] for m in process.extract(text, self.titles, scorer=fuzz.WRatio, limit=limit)]


def hit_rate(
    search: Callable[[str], list[Any]], questions: list[dict[str, Any]], gold_ids: dict[str, str]
) -> dict[str, float]:
    """hit@1 and MRR@10 of a search function that returns paper ids."""
    ranks = []
    for row in questions:
        found = search(row["q"])[:10]
        wanted = gold_ids.get(row["q"])
        ranks.append(found.index(wanted) + 1 if wanted in found else None)
    n = len(ranks) or 1
    return {
        "hit_at_1": round(sum(r == 1 for r in ranks) / n, 3),
        "mrr_at_10": round(sum(1 / r for r in ranks if r) / n, 3),
    }
