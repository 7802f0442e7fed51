"""Text analysis for retrieval: the same terms for documents and queries.

Terms are folded, stemmed words. Camel-case and letter-digit compounds also give their
parts ("EmbeddingGemma" -> embed, gemma; "gemma3" -> gemma, 3), and plural acronyms
lose their s ("VLMs" -> vlm), so that the ways people write a name meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

from bot.text import STOPWORDS, fold, strip_accents

_RAW_TOKEN = re.compile(r"[^\W_]+")
_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")
_PLURAL_ACRONYM = re.compile(r"^[A-Z]{2,}s$")
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)  # type: ignore[no-any-return]


@lru_cache(maxsize=200_000)
def analyze_token(raw: str) -> tuple[str, ...]:
    """The index terms of one raw token (with its original case)."""
    raw = strip_accents(raw)
    if _PLURAL_ACRONYM.match(raw):
        raw = raw[:-1]
    whole = fold(raw)
    if whole in STOPWORDS:
        return ()
    terms = [_stem(whole)]
    parts = _PARTS.findall(raw)
    if len(parts) > 1:
        for part in parts:
            folded = fold(part)
            if (len(folded) > 1 or folded.isdigit()) and folded not in STOPWORDS:
                terms.append(_stem(folded))
    return tuple(dict.fromkeys(terms))


def raw_tokens(text: str) -> list[str]:
    return _RAW_TOKEN.findall(text)


def analyze(text: str) -> list[str]:
    """Index terms of a text, in order (repeats kept: BM25 counts them)."""
    out: list[str] = []
    for raw in _RAW_TOKEN.findall(text):
        out.extend(analyze_token(raw))
    return out


def analyze_all(texts: Iterable[str]) -> list[list[str]]:
    return [analyze(t) for t in texts]


def acronyms(text: str) -> set[str]:
    """Names written in capitals or mixed case in a text: "GKD", "WARP", "RLDS", "PaliGemma"."""
    found = set()
    for raw in _RAW_TOKEN.findall(text):
        upper = sum(c.isupper() for c in raw)
        if (upper >= 2 and len(raw) >= 2) or (upper >= 1 and any(c.isdigit() for c in raw)):
            found.add(fold(raw[:-1] if _PLURAL_ACRONYM.match(raw) else raw))
    return found
