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

from bot.dates import parse_date
from bot.errors import UsageError
from bot.search.retriever import AuthorDirectory
from bot.text import STOPWORDS, words

Intent = Literal[
    "author", "latest", "similar", "acronym", "title", "question", "topic", "cite", "compare", "empty"
]
# What a request about one named paper wants from it (intent "title"): its authors, a summary.
Detail = Literal["authors", "summary"]

_I = re.IGNORECASE
_SIMILAR = re.compile(
    r"^(?:what(?:'s| is| are)\s+)?(?:(?:show|find|give|list|are there|is there)(?: me)? )?(?:any |some |other |more )?(?:papers? |more |anything |work |works |others? |research )?(?:(?:that (?:is|are) |which (?:is|are) )?(?:similar|related|close|comparable) ?(?:to|with)?|like|in the spirit of|along the lines of) (?P<rest>.+)$",
    _I,
)
_POLITE = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so)[,!]?\s+)?(?:(?:please|pls|can you|could you|would you|will you|kindly)[,!]?\s+)+"
    r"|[,\s]+(?:please|pls|thanks|thank you|thx)$",
    _I,
)
_CITE = re.compile(
    r"^(?:how (?:do|should|can|would|to) (?:i |we |you |one )?cite|cite|(?:give|get|show|send)(?: me| us)? (?:the |a )?(?:bibtex|bib|citation|reference|cite key)(?: entry)?(?: for| of)?|(?:the |a )?(?:bibtex|bib|citation|reference|cite key)(?: entry)?(?: for| of)|i need (?:to cite|the bibtex (?:for|of)|a citation (?:for|of))|what(?:'s| is) (?:the |a )?(?:bibtex|bib|citation|reference|cite key)(?: entry)? (?:for|of))\s+(?P<ref>.+)$",
    _I,
)
_CITE_BARE = re.compile(r"^(?:bibtex|bib|citation)\s+(?!(?:counts?|numbers?|of papers)\b)(?P<ref>.+)$", _I)
_CITE_AFTER = re.compile(r"^(?P<ref>.+?)\s+(?:bibtex|bib entry|citation)$", _I)
_COMPARE = [
    re.compile(r"^(?:compare|contrast)\s+(?P<a>.+?)\s+(?:and|with|to|vs\.?|versus|against)\s+(?P<b>.+)$", _I),
    re.compile(
        r"^(?:what(?:'s| is| are)\s+)?(?:the\s+)?(?:main\s+)?(?:differences?|distinction|contrast)\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$",
        _I,
    ),
    re.compile(
        r"^how (?:does|do|is|are)\s+(?P<a>.+?)\s+(?:differ(?:ent)?|compare|stack up)\s+(?:from|to|with|against)\s+(?P<b>.+)$",
        _I,
    ),
    re.compile(r"^(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+)$", _I),
    re.compile(
        r"^(?:how|in what way|where)\s+(?:do|does|did)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|compare|contrast)(?:\s+.*)?$",
        _I,
    ),
    re.compile(r"^what\s+(?:do|does)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+have in common$", _I),
]
_WHO = re.compile(
    r"^(?:who\s+(?:wrote|authored|are the authors of|is the author of|were the authors of|is behind|are behind|made|published|did)|(?:who's|whos) behind|(?:list |show |give me )?(?:the\s+)?authors?\s+(?:of|for|on))\s+(?P<ref>.+?)(?:\s+(?:paper|article))?$",
    _I,
)
_WHO_AFTER = re.compile(r"^(?P<ref>.+?)\s+(?:authors?|author list)$", _I)
_SUMMARY = re.compile(
    r"^(?:summari[sz]e|sum up|tl;?dr(?:\s+(?:of|for))?|(?:give me |get me |write )?(?:a |the )?(?:short |quick |brief )?(?:summary|overview|gist|tl;?dr|recap)\s+(?:of|for|on)|explain(?: the paper)?|what(?:'s| is| does)\s+(?:the paper\s+)?(?P<about>.+?)\s+(?:about|say|propose)|what (?:is|was) the (?:paper |idea |main idea |contribution |main contribution )?(?:of|in|behind)|main (?:idea|contribution|points?|findings?) of|key (?:ideas?|findings?|points?|takeaways?) (?:of|from))\s*(?P<ref>.*)$",
    _I,
)
_REF_HEAD = re.compile(
    r"^(?:(?:the|this|that|a|an)\s+)?(?:(?:paper|article|work|preprint|report)\s+(?:on|about|called|titled|named|introducing|that introduced|proposing)\s+)?",
    _I,
)
_REF_TAIL = re.compile(r"(?:['’]s)?\s+(?:paper|article|preprint|work)$", _I)
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
    # "mean field papers by Julien Pérolat", "papers on games by X", "anything on games from X"
    re.compile(
        r"^(?:(?:show|list|find|give)(?: me)? )?(?:all )?(?:the )?(?:(?:papers?|works?|publications?|anything|something)\s+(?:on|about|regarding)\s+)?(?P<topic>.+?)\s+(?:papers?|works?|publications?|research)?\s*(?:written |authored )?(?:by|from)\s+(?P<author>.+)$",
        _I,
    ),
]
_LATEST = re.compile(
    r"^(?:(?:show|give|find|list|tell)(?: me| us)?\s+)?(?:(?:are|is) there\s+)?(?:what(?:'s| is| are)\s+)?(?:any(?:thing)?\s+|some\s+)?(?:the\s+)?(?:very\s+)?(?:latest|newest|most recent|more recent|recent|new|fresh|last)\b(?:\s+(?:papers?|works?|research|results?|news|stuff|developments?|publications?|articles?|preprints?|advances?|progress))?(?:\s+(?:on|about|in|regarding|for|around|with|concerning))?\s*(?P<topic>.*)$",
    _I,
)
# A moment in a request: "2021", "May 2023", "2023-05" (bot.dates reads it).
_MONTH_NAMES = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MOMENT = rf"(?:{_MONTH_NAMES}\s+)?(?:19|20)\d\d(?:-\d\d)?"
_RANGE = re.compile(
    rf"\b(?:(?:published|released|written|out)\s+)?(?:between\s+(?P<a>{_MOMENT})\s+and|from\s+(?P<b>{_MOMENT})\s+(?:to|until|till|through)|(?P<c>{_MOMENT})\s*(?:-|–|—|to)\s*)\s*(?P<end>{_MOMENT})\b",
    _I,
)
_SINCE = re.compile(
    rf"\b(?:(?:published|released|written|out)\s+)?(?:since|from|starting|as of)\s+(?P<m>{_MOMENT})\s+(?:on\s*$|onwards?\b|and later\b|or later\b)|\b(?:(?:published|released|written|out)\s+)?(?:since|starting(?: from| in)?|as of|from)\s+(?P<s>{_MOMENT})\b(?=\s+on\s*$|\s+onwards?\b)|\b(?:(?:published|released|written|out)\s+)?(?:since|starting(?: from| in)?|as of|not before|no earlier than)\s+(?P<n>{_MOMENT})\b",
    _I,
)
_AFTER = re.compile(
    rf"\b(?:(?:published|released|written|out)\s+)?(?:after|later than)\s+(?P<m>{_MOMENT})\b", _I
)
_BEFORE = re.compile(
    rf"\b(?:(?:published|released|written|out)\s+)?(?:before|prior to|earlier than|older than)\s+(?P<m>{_MOMENT})\b",
    _I,
)
_UNTIL = re.compile(
    rf"\b(?:(?:published|released|written|out)\s+)?(?:until|till|up to|up until|through|no later than)\s+(?P<m>{_MOMENT})\b",
    _I,
)
_IN = re.compile(
    rf"\b(?:(?:published|released|written|out|appeared)\s+)?(?:in|from|during|of)\s+(?P<m>{_MOMENT})\b|\b(?:published|released|written|appeared)\s+(?P<p>{_MOMENT})\b|(?<![\w.-])(?P<bare>{_MOMENT})(?![\w.-])",
    _I,
)
_RELATIVE = re.compile(
    r"\b(?:(?:published|released|written|out)\s+)?(?:(?P<this>this year)|(?P<last>last year)|(?:in\s+)?(?:the\s+)?(?:last|past)\s+(?P<n>\d{1,2}|two|three|four|five|six|twelve)?\s*(?P<unit>years?|months?))\b",
    _I,
)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}
# What is left of a request that names no topic: "papers", "anything", "everything you have".
_NOTHING_MORE = re.compile(
    r"^(?:(?:any|all|the|some)\s+)?(?:papers?|works?|publications?|articles?|research|anything|everything|stuff|preprints?)?(?:\s+(?:you have|here|there|published|out|in the library))?$",
    _I,
)
_PAPERS_TAIL = re.compile(r"\s*\b(?:papers?|works?|publications?|articles?|research)$", _I)
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
    refs: list[str] = []  # the papers a request names: two for compare, one for cite / authors / summary
    detail: Detail | None = None

    def text_typed(self) -> str:
        """The request as typed, without its trailing punctuation."""
        return _clean(self.original)


def reference(text: str) -> str:
    """The paper a phrase names: "the gemini paper" -> "gemini", "“WARM”" -> "WARM"."""
    text = _clean(text).strip("\"'“”‘’`«» ")
    text = _REF_TAIL.sub("", _REF_HEAD.sub("", text, count=1)).strip("\"'“”‘’`«» ")
    return text


def _clean(text: str) -> str:
    text = " ".join(text.split())
    return text.strip().rstrip("?!. ").strip()


def _moment(text: str, end: bool = False) -> dt.date | None:
    try:
        return parse_date(" ".join(text.replace(".", " ").split()), end=end)
    except UsageError:
        return None


def _dates(text: str, today: dt.date | None = None) -> tuple[str, dt.date | None, dt.date | None]:
    """Take date constraints out of the text: "since May 2023", "from 2021" (that year), "between
    2019 and 2020", "before 2017" (excluded), "until 2017" (included), "in 2024", "last year"."""
    since = until = None

    def cut(m: re.Match[str]) -> str:
        return text[: m.start()] + " " + text[m.end() :]

    if m := _RANGE.search(text):
        first = m["a"] or m["b"] or m["c"]
        since, until = _moment(first), _moment(m["end"], end=True)
        if since and until and since <= until:
            text = cut(m)
        else:
            since = until = None
    if since is None and (m := _SINCE.search(text)):
        since = _moment(m["m"] or m["s"] or m["n"])
        text = cut(m)
    if since is None and (m := _AFTER.search(text)):
        last = _moment(m["m"], end=True)
        since = last + dt.timedelta(days=1) if last else None
        text = cut(m)
    if m := _BEFORE.search(text):
        first = _moment(m["m"])
        until = first - dt.timedelta(days=1) if first else None
        text = cut(m)
    elif m := _UNTIL.search(text):
        until = _moment(m["m"], end=True)
        text = cut(m)
    if since is None and until is None and (m := _IN.search(text)):
        moment = m["m"] or m["p"] or m["bare"]
        since, until = _moment(moment), _moment(moment, end=True)
        text = cut(m)
    if since is None and until is None and (m := _RELATIVE.search(text)):
        today = today or dt.date.today()
        if m["this"]:
            since = dt.date(today.year, 1, 1)
        elif m["last"]:
            since, until = dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
        else:
            n = int(m["n"]) if m["n"] and m["n"].isdigit() else _NUMBER_WORDS.get((m["n"] or "").lower(), 1)
            days = 365 * n if m["unit"].lower().startswith("year") else 31 * n
            since = today - dt.timedelta(days=days)
        text = cut(m)
    return _clean(text), since, until


def _strip_topic(text: str) -> str:
    """The topic of "papers on X", "X papers", "research about X"."""
    m = _TOPIC_TAIL.match(text)
    topic = _clean(m["topic"]) if m else text
    stripped = _clean(_PAPERS_TAIL.sub("", topic))
    return stripped if words(stripped) else topic


def parse_query(
    raw: str, authors: AuthorDirectory, title_score: float = 0.0, today: dt.date | None = None
) -> Query:
    """Route free text. ``title_score`` is the best fuzzy title match (0-100) for the text."""
    original = raw
    text = _POLITE.sub("", _clean(raw)[:2000])
    if not words(text):
        return Query(intent="empty", original=original, text="")
    typed_title = title_score >= 95  # a whole title, years and "vs." included
    body, since, until = (text, None, None) if typed_title else _dates(text, today)
    body = _clean(_POLITE.sub("", body))

    def make(**fields: Any) -> Query:
        return Query(original=original, since=since, until=until, **fields)

    if (m := _CITE.match(body) or _CITE_BARE.match(body) or _CITE_AFTER.match(body)) and words(
        ref := reference(m["ref"])
    ):
        return make(intent="cite", text=ref, refs=[ref])
    if not typed_title:
        for pattern in _COMPARE:
            if (m := pattern.match(body)) and words(a := reference(m["a"])) and words(b := reference(m["b"])):
                return make(intent="compare", text=f"{a} {b}", refs=[a, b])
    if (m := _WHO.match(body) or _WHO_AFTER.match(body)) and words(ref := reference(m["ref"])):
        return make(intent="title", text=ref, refs=[ref], detail="authors")
    if (m := _SUMMARY.match(body)) and words(ref := reference(m["about"] or m["ref"])):
        return make(intent="title", text=ref, refs=[ref], detail="summary")

    if m := _SIMILAR.match(body):
        rest = reference(m["rest"])
        return make(intent="similar", text=rest, similar_to=rest)

    if found := _author_and_topic(body, authors):
        keys, name, topic = found
        return make(
            intent="author",
            text=topic or "",
            topic=topic,
            author_keys=keys,
            author_text=name,
            newest_first=True,
        )

    if m := _LATEST.match(body):
        topic = _strip_topic(_clean(m["topic"]))
        if words(topic) and not _NOTHING_MORE.match(topic):
            return make(intent="latest", text=topic, topic=topic, newest_first=True)
        # "what's new?", "latest papers": the newest of the whole library
        return make(intent="latest", text="", newest_first=True)

    if since or until:  # "papers since 2023 about distillation"
        topic = _strip_topic(body)
        if _NOTHING_MORE.match(topic) or not words(topic):  # "papers from 2015": all of them
            return make(intent="latest", text="", newest_first=True)
        if set(words(topic)) - STOPWORDS:
            return make(intent="topic", text=topic, topic=topic)

    tokens = words(body)
    if m := _ACRONYM.match(body):
        return make(intent="acronym", text=m["name"])
    if title_score >= 90:
        return make(intent="title", text=body)
    intent: Intent = (
        "question" if tokens and (tokens[0] in _QUESTION_WORDS or raw.strip().endswith("?")) else "topic"
    )
    return make(intent=intent, text=body)


def _author_and_topic(body: str, authors: AuthorDirectory) -> tuple[list[str], str, str | None] | None:
    """(author keys, the name as typed, topic) when the request is about someone's papers: "papers by
    X on Y", "X's papers on Y", "Y papers by X", "X Y papers", or the name alone."""
    for pattern in _AUTHOR_PATTERNS:
        if (m := pattern.match(body)) and (keys := authors.resolve(m["author"])):
            topic = _strip_topic(_clean(m["topic"])) if m["topic"] else None
            return keys, m["author"], topic or None
    tokens = body.split()
    if len(words(body)) <= 4 and all(w not in STOPWORDS for w in words(body)):
        keys = authors.resolve(body)
        if keys and _names_person(body, keys):
            return keys, body, None
    # A name first, then what about: "julien perolat mean-field papers".
    for n in (3, 2):
        if len(tokens) > n:
            name, rest = " ".join(tokens[:n]), _clean(_PAPERS_TAIL.sub("", " ".join(tokens[n:])))
            keys = authors.resolve(name)
            if keys and _names_person(name, keys) and words(rest):
                return keys, name, _strip_topic(rest)
    return None


def _names_person(text: str, keys: list[str]) -> bool:
    """The whole text is a name: every word of it is a word of the resolved author's name."""
    typed = words(text)
    name_words = {w for k in keys for w in k.split()}
    hits = sum(
        any(n == w or (len(w) == 1 and n.startswith(w)) or fuzz.ratio(n, w) >= 85 for n in name_words)
        for w in typed
    )
    return hits == len(typed) or (len(typed) >= 2 and hits >= len(typed) - 1)
