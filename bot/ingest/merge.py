"""Merging records of one paper, and linking untitled abstracts to the paper they belong to."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

from bot.models import Paper
from bot.text import fold, tokens

# TF-IDF cosine above which an abstract is another version of a known one. On the seeds,
# versions score 0.56-1.0 and different papers at most 0.24.
SAME_ABSTRACT = 0.4
SHARED_WORDS = 0.3  # share of an abstract's distinct words a candidate must hold to be compared
DF_SAMPLE = 2000  # candidate texts tokenised to estimate document frequencies
MARKS = 12  # an abstract's rarest words, one of which a candidate past the sample must contain
MARK_LENGTH = 5  # shorter words are substrings of too many others
# An ASCII text's bytes, folded (lower case) with every other byte a separator: its words are
# then split in C, as bytes, without a str object made per word.
_ASCII_WORDS = bytes(ord(chr(b).lower()) if b < 128 and chr(b).isalnum() else ord(" ") for b in range(256))


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


def best_versions(
    abstracts: list[str], candidates: Iterable[tuple[str, Sequence[str]]]
) -> list[tuple[str | None, float]]:
    """For each abstract, the id of the candidate (id, its abstract versions) one of whose
    versions is a version of it, and the score (None, 0.0 when none reaches ``SAME_ABSTRACT``).

    Candidates stream through: nothing but the best so far is kept, so a million cost no
    memory. Tokenising every candidate was most of the cost of linking against a large
    library, so only a sample (the first ``DF_SAMPLE`` candidate texts) is tokenised to
    estimate document frequencies; past it, a candidate is tokenised only if its folded text
    contains one of the abstracts' ``MARKS`` rarest long words. A version shares 57-100% of an
    abstract's words (seeds), so it holds several of them; a different paper rarely holds any.
    """
    texts = ((pid, text) for pid, versions in candidates for text in versions if text)
    sample = [(pid, Counter(tokens(text))) for pid, text in itertools.islice(texts, DF_SAMPLE)]
    df: Counter[str] = Counter()
    for _, bag in sample:
        df.update(bag.keys())
    searches = [_VersionSearch(Counter(tokens(abstract)), df, len(sample)) for abstract in abstracts]
    marks = {
        w
        for search in searches
        for w in sorted((w for w in search.query if len(w) >= MARK_LENGTH), key=lambda w: (df[w], -len(w)))[
            :MARKS
        ]
    }
    for pid, bag in sample:
        for search in searches:
            search.offer(pid, bag)
    # The searches wanting each word: a text's shared words are counted for all the searches
    # at once (one count in C) instead of intersected with each search's words in turn.
    owners: dict[str, list[_VersionSearch]] = {}
    for search in searches:
        for word in search.wanted:
            owners.setdefault(word, []).append(search)
    wanted = set(owners)
    ascii_owners = {w.encode(): owner for w, owner in owners.items() if w.isascii()}
    ascii_wanted = set(ascii_owners)
    for pid, text in texts:
        # The words shared first (the text's words split and looked up in C, no set of them
        # built; stopwords are in no query): most candidates stop here, before the mark test
        # below or any vector is built.
        if text.isascii():
            held = ascii_wanted.intersection(text.encode().translate(_ASCII_WORDS).split())
            wanting = map(ascii_owners.__getitem__, held)
        else:
            wanting = map(owners.__getitem__, wanted.intersection(tokens(text)))
        shared = Counter(itertools.chain.from_iterable(wanting))
        if not any(count >= search.needed for search, count in shared.items()):
            continue
        folded = fold(text)
        # A substring test never misses a word the text has; short words would match anything.
        if not marks or any(w in folded for w in marks):
            bag = Counter(tokens(text, folded))
            for search in searches:
                search.offer(pid, bag)
    return [(search.best, search.score if search.best else 0.0) for search in searches]


class _VersionSearch:
    """The best version of one abstract among the candidates offered, by TF-IDF cosine."""

    def __init__(self, query: Counter[str], sample_df: Counter[str], sample: int) -> None:
        self.query, self.wanted = query, set(query)
        self.needed = SHARED_WORDS * len(self.wanted) if self.wanted else math.inf
        self.df, self.n = sample_df, sample + 1
        self.vector = self._vector(query)
        self.best: str | None = None
        self.score = SAME_ABSTRACT

    def _vector(self, bag: Counter[str]) -> dict[str, float]:
        weights = {
            w: (1 + math.log(c)) * math.log((self.n + 1) / (self.df[w] + (w in self.wanted) + 0.5))
            for w, c in bag.items()
        }
        norm = math.sqrt(sum(x * x for x in weights.values())) or 1.0
        return {w: x / norm for w, x in weights.items()}

    def could_match(self, words: AbstractSet[str]) -> bool:
        """Whether a text with these words shares enough of the abstract's to be compared."""
        return len(self.wanted & words) >= self.needed

    def offer(self, paper_id: str, bag: Counter[str]) -> None:
        # A set intersection rules out most candidates before any vector is built.
        if not self.could_match(bag.keys()):
            return
        v = self._vector(bag)
        score = sum(weight * v.get(w, 0.0) for w, weight in self.vector.items())
        if score >= self.score:
            self.best, self.score = paper_id, score
