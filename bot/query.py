"""Free text -> what the person wants: an intent, a topic, an author, filters.

"papers by X", "what has X written on Y?", "X's papers on Y", "latest papers on Y",
"papers since 2023 about Y", "similar to <title>", an acronym, a title, or a question.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel
from rapidfuzz import fuzz

from bot.search.retriever import AuthorDirectory
from bot.text import STOPWORDS, words

Intent = Literal["author", "latest", "similar", "acronym", "title", "question", "topic", "empty"]

_I = re.IGNORECASE
_SIMILAR = re.compile(
    r"^(?:(?:show|find|give)(?: me)? )?(?:papers? |more |anything )?(?:similar|related|like|close) ?(?:to )?(?P<rest>.+)$",
    _I,
)
_AUTHOR_PATTERNS = [
    re.compile(
        r"^(?:(?:show|list|find|give)(?: me)? )?(?:all )?(?:the )?(?:papers?|works?|publications?|articles?|research)\s+(?:written |authored )?(?:by|from|of)\s+(?P<author>.+?)(?:\s+(?:on|about|regarding)\s+(?P<topic>.+))?$",
        _I,
    ),
    re.compile(
        r"^what\s+(?:has|have|did|does)\s+(?P<author>.+?)\s+(?:written|published|done|worked on|work on|write|publish)(?:\s+(?:on|about|regarding)\s+(?P<topic>.+))?$",
        _I,
    ),
    re.compile(
        r"^(?P<author>[^\s'’]+(?:\s+[^\s'’]+){0,3})['’]s?\s+(?:papers?|work|publications?)(?:\s+(?:on|about|regarding)\s+(?P<topic>.+))?$",
        _I,
    ),
    re.compile(r"^(?:by|author:?)\s+(?P<author>.+)$", _I),
]
_LATEST = re.compile(
    r"^(?:what(?:'s| is| are) )?(?:the )?(?:latest|recent|newest|new|most recent)\b(?:\s+(?:papers?|work|research|results?|news))?(?:\s+(?:on|about|in|regarding|for))?\s*(?P<topic>.*)$",
    _I,
)
_SINCE = re.compile(r"\b(?:since|after|from)\s+(?P<year>(?:19|20)\d\d)\b", _I)
_BEFORE = re.compile(r"\b(?:before|until|up to)\s+(?P<year>(?:19|20)\d\d)\b", _I)
_IN_YEAR = re.compile(r"\bin\s+(?P<year>(?:19|20)\d\d)\b", _I)
_TOPIC_TAIL = re.compile(
    r"^(?:papers?|work|research)?\s*(?:on|about|regarding|concerning)\s+(?P<topic>.+)$", _I
)
_ACRONYM = re.compile(
    r"^(?:what(?:'s| is| are| does)\s+)?(?:the\s+)?(?P<name>[A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*[A-Z0-9][A-Za-z0-9-]*)(?:\s+(?:stand for|mean|about))?\s*\??$"
)
_QUESTION_WORDS = {
    "what",
    "which",
    "how",
    "why",
    "who",
    "where",
    "when",
    "does",
    "do",
    "is",
    "are",
    "can",
    "paper",
}


class Query(BaseModel):
    """A parsed request. ``text`` is what to match; filters narrow it."""

    intent: Intent
    original: str
    text: str
    topic: str | None = None
    author_keys: list[str] = []
    author_text: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    newest_first: bool = False
    similar_to: str | None = None


def _clean(text: str) -> str:
    text = " ".join(text.split())
    return text.strip().rstrip("?!. ").strip()


def _dates(text: str) -> tuple[str, dt.date | None, dt.date | None]:
    """Take year constraints out of the text: 'since 2023', 'before 2020', 'in 2024'."""
    since = until = None
    if m := _SINCE.search(text):
        since = dt.date(int(m["year"]), 1, 1)
        text = text[: m.start()] + text[m.end() :]
    if m := _BEFORE.search(text):
        until = dt.date(int(m["year"]) - 1, 12, 31)
        text = text[: m.start()] + text[m.end() :]
    if m := _IN_YEAR.search(text):
        since, until = dt.date(int(m["year"]), 1, 1), dt.date(int(m["year"]), 12, 31)
        text = text[: m.start()] + text[m.end() :]
    return _clean(text), since, until


def _strip_topic(text: str) -> str:
    m = _TOPIC_TAIL.match(text)
    return _clean(m["topic"]) if m else text


def parse_query(raw: str, authors: AuthorDirectory, title_score: float = 0.0) -> Query:
    """Route free text. ``title_score`` is the best fuzzy title match (0-100) for the text."""
    original = raw
    text = _clean(raw)[:2000]
    if not words(text):
        return Query(intent="empty", original=original, text="")
    body, since, until = _dates(text)

    def make(**fields: Any) -> Query:
        return Query(original=original, since=since, until=until, **fields)

    if m := _SIMILAR.match(body):
        rest = _clean(m["rest"])
        return make(intent="similar", text=rest, similar_to=rest)

    for pattern in _AUTHOR_PATTERNS:
        if (m := pattern.match(body)) and (keys := authors.resolve(m["author"])):
            topic = _clean(m["topic"]) if m["topic"] else None
            return make(
                intent="author",
                text=topic or "",
                topic=topic,
                author_keys=keys,
                author_text=m["author"],
                newest_first=True,
            )

    if m := _LATEST.match(body):
        topic = _strip_topic(_clean(m["topic"]))
        if words(topic):
            return make(intent="latest", text=topic, topic=topic, newest_first=True)

    if since or until:  # "papers since 2023 about distillation"
        topic = _strip_topic(body)
        if words(topic) and set(words(topic)) - STOPWORDS:
            return make(intent="topic", text=topic, topic=topic)

    tokens = words(body)
    if len(tokens) <= 4 and title_score < 95 and all(w not in STOPWORDS for w in tokens):
        keys = authors.resolve(body)
        if keys and _names_person(body, keys):
            return make(intent="author", text="", author_keys=keys, author_text=body, newest_first=True)

    if m := _ACRONYM.match(body):
        return make(intent="acronym", text=m["name"])
    if title_score >= 90:
        return make(intent="title", text=body)
    intent: Intent = (
        "question" if tokens and (tokens[0] in _QUESTION_WORDS or raw.strip().endswith("?")) else "topic"
    )
    return make(intent=intent, text=body)


def _names_person(text: str, keys: list[str]) -> bool:
    """The whole text is a name: every word of it is a word of the resolved author's name."""
    typed = words(text)
    name_words = {w for k in keys for w in k.split()}
    hits = sum(
        any(n == w or (len(w) == 1 and n.startswith(w)) or fuzz.ratio(n, w) >= 85 for n in name_words)
        for w in typed
    )
    return hits == len(typed) or (len(typed) >= 2 and hits >= len(typed) - 1)
