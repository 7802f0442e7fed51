"""Merging records of one paper, and linking untitled abstracts to the paper they belong to."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable

from bot.models import Paper
from bot.text import fold, tokens

# TF-IDF cosine above which an abstract is another version of a known one. On the seeds,
# versions score 0.56-1.0 and different papers at most 0.24.
SAME_ABSTRACT = 0.4
SHARED_WORDS = 0.3  # share of an abstract's distinct words a candidate must hold to be compared
DF_SAMPLE = 2000  # candidate texts tokenised to estimate document frequencies
MARKS = 12  # an abstract's rarest words, one of which a candidate past the sample must contain


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def merge(existing: Paper, new: Paper) -> Paper:
    """Fold ``new`` into ``existing`` (same paper): nothing known is lost.

    The newer arXiv version supplies the abstract; other abstract versions are kept in
    ``other_abstracts`` so they stay searchable. The fuller author list wins.
    """
    newer = (new.version or 0) > (existing.version or 0)
    abstract, other = existing.abstract, new.abstract
    if newer and new.abstract:
        abstract, other = new.abstract, existing.abstract
    others = [
        a for a in _union(existing.other_abstracts, [other, *new.other_abstracts]) if a and a != abstract
    ]
    authors, et_al = existing.authors, existing.et_al
    if len(new.authors) > len(existing.authors) or (not existing.authors and new.authors):
        authors, et_al = new.authors, new.et_al
    return existing.model_copy(
        update={
            "title": existing.title or new.title,
            "authors": authors,
            "et_al": et_al,
            "orgs": _union(existing.orgs, new.orgs),
            "category": existing.category or new.category,
            "categories": _union(existing.categories, new.categories),
            "date": existing.date or new.date,
            "updated": max(filter(None, [existing.updated, new.updated]), default=None),
            "has_code": existing.has_code or new.has_code,
            "abstract": abstract or other,
            "other_abstracts": [a for a in others if a != (abstract or other)],
            "sources": _union(existing.sources, new.sources),
            "arxiv_id": existing.arxiv_id or new.arxiv_id,
            "version": max(existing.version or 0, new.version or 0) or None,
            "comment": new.comment if newer and new.comment else existing.comment or new.comment,
            "journal_ref": existing.journal_ref or new.journal_ref,
            "doi": existing.doi or new.doi,
        }
    )


def best_versions(abstracts: list[str], candidates: Iterable[Paper]) -> list[tuple[Paper | None, float]]:
    """For each abstract, the candidate whose abstract (any version) is a version of it, and
    the score (None, 0.0 when none reaches ``SAME_ABSTRACT``).

    Tokenising every candidate was most of the cost of linking against a large library, so
    only a sample (the first ``DF_SAMPLE`` candidate texts) is tokenised to estimate document
    frequencies; past it, a candidate is tokenised only if its folded text contains one of
    each abstract's ``MARKS`` rarest words. A version shares 57-100% of an abstract's words
    (seeds), so it holds several of them; a different paper rarely holds any. Among the
    tokenised, a set intersection (``SHARED_WORDS``) rules out the rest before any vector.
    """
    texts = ((paper, text) for paper in candidates for text in [paper.abstract, *paper.other_abstracts])
    bags = [(paper, Counter(tokens(text))) for paper, text in itertools.islice(texts, DF_SAMPLE)]
    df: Counter[str] = Counter()
    for _, bag in bags:
        df.update(bag.keys())
    sample = len(bags)
    queries = [Counter(tokens(abstract)) for abstract in abstracts]
    marks = {w for q in queries for w in sorted(q, key=lambda w: (df[w], -len(w)))[:MARKS]}
    for paper, text in texts:
        folded = fold(text)
        if any(w in folded for w in marks):  # a substring test: never misses a word the text has
            bags.append((paper, Counter(tokens(text))))
    return [_best_version(query, bags, df, sample) for query in queries]


def _best_version(
    query: Counter[str], bags: list[tuple[Paper, Counter[str]]], sample_df: Counter[str], sample: int
) -> tuple[Paper | None, float]:
    wanted = set(query)
    pool = [
        (paper, bag)
        for paper, bag in bags
        if wanted and len(wanted & bag.keys()) >= SHARED_WORDS * len(wanted)
    ]
    if not pool:
        return None, 0.0
    n = sample + 1

    def vector(bag: Counter[str]) -> dict[str, float]:
        weights = {
            w: (1 + math.log(c)) * math.log((n + 1) / (sample_df[w] + (w in wanted) + 0.5))
            for w, c in bag.items()
        }
        norm = math.sqrt(sum(x * x for x in weights.values())) or 1.0
        return {w: x / norm for w, x in weights.items()}

    q = vector(query)
    best, best_score = None, SAME_ABSTRACT
    for paper, bag in pool:
        v = vector(bag)
        score = sum(weight * v.get(w, 0.0) for w, weight in q.items())
        if score >= best_score:
            best, best_score = paper, score
    return best, best_score if best else 0.0
