"""Fuzzy matching with rapidfuzz: titles with typos, acronyms, and author names."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from rapidfuzz import fuzz, process, utils

from bot.text import key, words

TITLE_CUTOFF = 70.0


def title_scores(
    query: str, titles: Sequence[str], candidates: Sequence[int] | None = None
) -> dict[int, float]:
    """Fuzzy similarity (0-100) of the query to folded titles, above a cutoff.

    With ``candidates`` only those titles are scored, so large corpora cost what the
    candidate list costs, not a scan.
    """
    q = key(query)
    if not q:
        return {}
    if candidates is None:
        matches = process.extract(q, titles, scorer=fuzz.WRatio, score_cutoff=TITLE_CUTOFF, limit=50)
        return {index: score for _, score, index in matches}
    scores = {}
    for index in candidates:
        score = fuzz.WRatio(q, titles[index], processor=None, score_cutoff=TITLE_CUTOFF)
        if score:
            scores[index] = score
    return scores


class AuthorIndex:
    """Resolve what a person types ("perolat", "L. Hussenot", "mathieu lauriere") to author keys."""

    def __init__(self, names: Mapping[str, tuple[str, int]]) -> None:
        self.names = dict(names)  # folded key -> (display name, paper count)
        self._keys = list(self.names)
        self._by_last: dict[str, list[str]] = {}
        for folded in self._keys:
            parts = folded.split()
            if parts:
                self._by_last.setdefault(parts[-1], []).append(folded)

    def __len__(self) -> int:
        return len(self.names)

    def extended(self, more: Mapping[str, tuple[str, int]]) -> AuthorIndex:
        """This directory with more authors' papers counted in (a segment of new papers): copies
        of the maps, not a new index of every name (a second at 1M papers)."""
        grown = copy.copy(self)
        grown.names, grown._keys, grown._by_last = dict(self.names), list(self._keys), dict(self._by_last)
        for folded, (name, count) in more.items():
            if folded in grown.names:
                grown.names[folded] = (name, grown.names[folded][1] + count)
                continue
            grown.names[folded] = (name, count)
            grown._keys.append(folded)
            if parts := folded.split():
                grown._by_last[parts[-1]] = [*grown._by_last.get(parts[-1], []), folded]
        return grown

    def resolve(self, text: str, min_score: float = 88.0) -> list[str]:
        """Author keys that the text names: exact, by surname (with initials), or by a close spelling."""
        parts = words(text)
        if not parts:
            return []
        folded = " ".join(parts)
        if folded in self.names:
            return [folded]
        initials = [p for p in parts[:-1] if len(p) == 1]
        by_last = self._by_last.get(parts[-1], [])
        if len(parts) == 1 or len(initials) == len(parts) - 1:
            chosen = [
                k for k in by_last if all(any(w.startswith(i) for w in k.split()[:-1]) for i in initials)
            ]
            if chosen:
                return chosen
        best = process.extractOne(folded, self._keys, scorer=fuzz.ratio, score_cutoff=min_score)
        if best:
            return [best[0]]
        if len(parts) == 1 and len(parts[0]) >= 5:  # one misspelt surname
            close = process.extract(parts[0], list(self._by_last), scorer=fuzz.ratio, score_cutoff=min_score)
            return [k for surname, _, _ in close for k in self._by_last[surname]]
        return []

    def display(self, folded: str) -> str:
        return self.names.get(folded, (folded, 0))[0]

    def complete(self, text: str, limit: int = 25) -> list[str]:
        """Display names for an autocomplete box: prefix matches first, then fuzzy ones."""
        q = key(text)
        if not q:
            ranked = sorted(self._keys, key=lambda k: -self.names[k][1])
        else:
            prefix = [k for k in self._keys if k.startswith(q) or any(w.startswith(q) for w in k.split())]
            fuzzy = process.extract(
                q, self._keys, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit
            )
            ranked = list(
                dict.fromkeys([*sorted(prefix, key=lambda k: -self.names[k][1]), *(f[0] for f in fuzzy)])
            )
        return [self.display(k) for k in ranked[:limit]]
