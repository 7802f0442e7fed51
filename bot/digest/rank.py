"""Which new papers matter to a team, in what order, and why.

A paper qualifies when a followed author wrote it or one of its categories is followed, and
none of the profile's ``exclude_keywords`` appears in its title or abstract.
Score: a followed author first (+2), then similarity to the team's library (the seed papers
and the papers the channel reacted to: cosine of wordllama embeddings, else shared words),
then keyword hits (+0.5 each). Each item says why it is there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.answer import one_line
from bot.digest.models import DigestItem, Profile
from bot.models import Paper, author_key
from bot.search.filters import category_matches
from bot.search.semantic import Embedder
from bot.text import fold, tokens


def followed_authors(profile: Profile, library: Sequence[Paper]) -> dict[str, str]:
    """Folded key -> display name of the authors the profile follows (default: the library's
    people; a collective byline such as "Gemma Team" is followed only when named)."""
    if profile.authors is not None:
        return {author_key(n): n for n in profile.authors if author_key(n)}
    names = [a for p in library for a in p.authors]
    return {author_key(n): n for n in names if author_key(n) and not is_collective(n)}


def is_collective(name: str) -> bool:
    """A byline naming a group, not a person: "Gemma Team", "the XYZ Collaboration"."""
    return author_key(name).endswith((" team", " collaboration", " consortium"))


def excluded(paper: Paper, profile: Profile) -> bool:
    """Whether the paper mentions a keyword the team never wants (accent- and case-folded,
    whole words: "survey" excludes "A Survey of..." but not "surveyed")."""
    text = f" {' '.join(tokens(f'{paper.label} {paper.abstract}'))} "
    return any(f" {' '.join(tokens(k))} " in text for k in profile.exclude_keywords if tokens(k))


def qualifies(paper: Paper, profile: Profile, authors: dict[str, str]) -> bool:
    if excluded(paper, profile):
        return False
    if any(author_key(a) in authors for a in paper.authors):
        return True
    return any(category_matches(c, paper.category, paper.categories) for c in profile.categories)


def short_title(paper: Paper, width: int = 60) -> str:
    label = paper.label
    return label if len(label) <= width else label[: width - 1].rsplit(" ", 1)[0] + "…"


def rank(
    candidates: Sequence[Paper],
    profile: Profile,
    library: Sequence[Paper],
    embedder: Embedder | None = None,
) -> list[DigestItem]:
    authors = followed_authors(profile, library)
    chosen = [p for p in candidates if qualifies(p, profile, authors)]
    if not chosen:
        return []
    similarity, nearest = _similarity(
        chosen, [p for p in library if p.id not in {c.id for c in chosen}], embedder
    )
    items = []
    for i, paper in enumerate(chosen):
        followed = [a for a in paper.authors if author_key(a) in authors]
        text = fold(f"{paper.label} {paper.abstract}")
        keywords = [k for k in profile.keywords if fold(k) in text]
        score = (2.0 if followed else 0.0) + float(similarity[i]) + 0.5 * len(keywords)
        if followed:
            reason = f"follows {followed[0]}"
        elif keywords:
            reason = f"keyword: {keywords[0]}"
        elif (near := nearest[i]) is not None and similarity[i] >= 0.5:
            reason = f"similar to {short_title(near)}"
        else:
            wanted = next(
                (c for c in profile.categories if category_matches(c, paper.category, paper.categories)), None
            )
            reason = f"in {wanted or (paper.categories or [paper.category or '?'])[0]}"
        items.append(
            DigestItem(
                id=paper.id,
                arxiv_id=paper.arxiv_id,
                title=paper.label,
                authors=paper.authors,
                date=paper.date.isoformat() if paper.date else None,
                score=round(score, 4),
                reason=reason,
                summary=one_line(paper, 200),
                links=paper.links,
            )
        )
    items.sort(key=lambda item: (-item.score, item.date or "", item.id))
    return items[: profile.max_papers]


def _similarity(
    chosen: Sequence[Paper], library: Sequence[Paper], embedder: Embedder | None
) -> tuple[np.ndarray, list[Paper | None]]:
    """Each paper's best similarity (0-1) to a library paper, and that paper."""
    if not library:
        return np.zeros(len(chosen)), [None] * len(chosen)
    if embedder is not None:
        texts = [f"{p.label}. {p.abstract}" for p in [*chosen, *library]]
        vectors = embedder.embed(texts)
        sims = vectors[: len(chosen)] @ vectors[len(chosen) :].T
    else:  # shared words (Jaccard) when there is no embedder
        bags = [set(tokens(f"{p.label} {p.abstract}")) for p in [*chosen, *library]]
        sims = np.array(
            [[len(a & b) / (len(a | b) or 1) for b in bags[len(chosen) :]] for a in bags[: len(chosen)]]
        )
    best = sims.argmax(axis=1)
    return np.clip(sims.max(axis=1), 0, 1), [library[int(j)] for j in best]
