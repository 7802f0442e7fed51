"""Fusion of the retrievers' scores (the engine picks the top k, ties broken by paper id)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def fuse(
    signals: Mapping[str, Mapping[K, float]],
    weights: Mapping[str, float],
    relative: frozenset[str] = frozenset({"bm25"}),
) -> dict[K, float]:
    """Weighted sum of the signals' scores (CombSUM).

    Signals named in ``relative`` (BM25, whose scale depends on the query) are divided by
    their best score; the others must already be on an absolute [0, 1] scale (how much of
    the query a title covers, a cosine above a floor). Scaling every signal by its own best
    would hand 1.0 to the best title match even when it covers one word of six, and at
    scale that noise outvotes BM25. Unlike rank fusion, a clear lead stays a clear lead.
    """
    fused: dict[K, float] = {}
    for name, scores in signals.items():
        if not scores:
            continue
        best = max(scores.values()) if name in relative else 1.0
        if best <= 0:
            continue
        weight = weights.get(name, 1.0)
        for doc, score in scores.items():
            if score > 0:
                fused[doc] = fused.get(doc, 0.0) + weight * score / best
    return fused
