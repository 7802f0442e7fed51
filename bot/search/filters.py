"""Search filters and the boolean masks they select."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import BaseModel


class Filters(BaseModel):
    """Constraints on results. Authors are folded author keys, already resolved."""

    authors: list[str] | None = None  # any of these authors (folded keys)
    category: str | None = None  # "cs.LG", "LG" or "lg"
    since: dt.date | None = None
    until: dt.date | None = None
    has_code: bool | None = None
    topic: list[str] | None = None  # index terms every result must contain

    def is_empty(self) -> bool:
        return not any(v is not None for v in self.model_dump().values())


def category_matches(wanted: str, category: str | None, categories: list[str]) -> bool:
    """'LG', 'lg' and 'cs.LG' all select cs.LG; a seed's two-letter code matches too."""
    w = wanted.strip().casefold()
    for c in filter(None, [category, *categories]):
        c = c.casefold()
        if c == w:
            return True
        # Without an archive on one side ("LG"), compare the subject codes alone.
        if ("." not in w or "." not in c) and c.rsplit(".", 1)[-1] == w.rsplit(".", 1)[-1]:
            return True
    return False


def date_mask(ordinals: np.ndarray, since: dt.date | None, until: dt.date | None) -> np.ndarray:
    """Papers dated within [since, until]; an undated paper passes no date filter."""
    mask = np.ones(len(ordinals), dtype=bool)
    if since is not None:
        mask &= ordinals >= since.toordinal()
    if until is not None:
        mask &= (ordinals <= until.toordinal()) & (ordinals > 0)
    return mask
