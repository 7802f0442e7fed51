"""Reciprocal rank fusion: combine rankings without calibrating their scores."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def top_k(scores: Mapping[K, float], k: int) -> list[K]:
    """The ``k`` best keys, ties broken by key so results are stable."""
    return sorted(scores, key=lambda i: (-scores[i], i))[:k]  # type: ignore[no-any-return]


def rrf(
    rankings: Mapping[str, Sequence[int]],
    weights: Mapping[str, float] | None = None,
    k: float = 20.0,
) -> dict[int, float]:
    """score(d) = sum over rankings r of weight_r / (k + rank_r(d)), ranks from 1.

    A small ``k`` lets a clear first place in one ranking count (a title matched
    exactly) instead of being flattened by documents that are merely present in all.
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return fused


def fuse(
    signals: Mapping[str, Mapping[K, float]],
    weights: Mapping[str, float],
    min_max: frozenset[str] = frozenset({"semantic"}),
) -> dict[K, float]:
    """Weighted sum of each signal's scores scaled by that signal's best score (CombSUM).

    Cosine similarities crowd near the top, so the signals named in ``min_max`` are
    spread over [0, 1] first. Unlike rank fusion it keeps how far ahead a document is: a query whose rare words
    occur in one abstract only puts that paper well ahead, not one rank ahead.
    """
    fused: dict[K, float] = {}
    for name, scores in signals.items():
        if not scores:
            continue
        best = max(scores.values())
        floor = min(scores.values()) if name in min_max and len(scores) > 1 else 0.0
        if best <= floor:
            continue
        weight = weights.get(name, 1.0)
        for doc, score in scores.items():
            if score > floor:
                fused[doc] = fused.get(doc, 0.0) + weight * (score - floor) / (best - floor)
    return fused
