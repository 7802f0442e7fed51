"""Follow-ups: "and the second one?", "more about #3", "cite the first one" after a list.

A conversation remembers, per context (a Discord channel or thread, the console), the last list
of papers it showed and the paper last in focus. Follow-ups refer to them by position. No
Discord here: the console chat and the Discord adapter share this module.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from bot.errors import UsageError
from bot.models import Paper

Action = Literal["paper", "cite", "similar"]

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "last": -1,
}
_NOUN = r"(?:\s+(?:one|paper|result|hit|item|link))?"
# A reference to an earlier result, and nothing else.
_REFERENCE = (
    r"(?:#\s*(?P<hash>\d{1,3})"
    r"|(?:number|no\.?|nr\.?)\s*(?P<number>\d{1,3})"
    r"|(?P<bare>\d{1,3})"
    rf"|(?:the\s+)?(?P<ordinal>{'|'.join(_ORDINALS)}|\d{{1,3}}(?:st|nd|rd|th)){_NOUN}"
    r"|(?P<pronoun>it|that(?:\s+one|\s+paper)?|this(?:\s+one|\s+paper)?))"
)
_VERBS: dict[str, Action] = {
    r"cite|bibtex(?:\s+(?:for|of))?|citation\s+(?:for|of)|reference\s+(?:for|of)": "cite",
    r"similar(?:\s+papers)?\s+to|papers\s+(?:like|similar\s+to)|more\s+like|related\s+to|like": "similar",
    r"what\s+about|how\s+about|tell\s+me(?:\s+more)?\s+about|more\s+(?:about|on)"
    r"|details\s+(?:about|on|of|for)|show(?:\s+me)?|open|explain|summari[sz]e|and": "paper",
}
_VERB = "|".join(f"(?:{v})" for v in _VERBS)
_FOLLOW_UP = re.compile(
    rf"^(?:(?:and|ok|okay|so|then|now)[\s,]+)?(?:(?P<verb>{_VERB})\s+)?{_REFERENCE}"
    r"(?:\s*,?\s*please)?\s*[?.!]*$",
    re.IGNORECASE,
)
_ONLY_REFERENCE = re.compile(rf"^{_REFERENCE}\s*[?.!]*$", re.IGNORECASE)


class FollowUp(NamedTuple):
    """What a follow-up asks for: an action on the result at ``position`` (1-based, -1 = last)."""

    action: Action
    position: int | None  # None: the paper in focus ("it", "that one")


def _position(m: re.Match[str]) -> int | None:
    if m["pronoun"]:
        return None
    if digits := m["hash"] or m["number"] or m["bare"]:
        return int(digits)
    word = m["ordinal"].lower()
    return _ORDINALS.get(word) or int(re.sub(r"\D", "", word))


def parse_follow_up(text: str) -> FollowUp | None:
    """The follow-up a whole message is, or None for anything else (a new question)."""
    m = _FOLLOW_UP.match(" ".join(text.split()))
    if not m:
        return None
    verb = (m["verb"] or "").lower()
    action: Action = next((a for v, a in _VERBS.items() if verb and re.fullmatch(v, verb)), "paper")
    return FollowUp(action, _position(m))


def parse_reference(text: str) -> int | Literal[False] | None:
    """The position a command argument refers to ("#2", "the first one"; None for "it"), or False."""
    m = _ONLY_REFERENCE.match(" ".join(text.split()))
    return _position(m) if m else False


@dataclass
class Context:
    papers: list[Paper] = field(default_factory=list)
    focus: Paper | None = None
    question: str | None = None
    at: float = 0.0


class Conversation:
    """The last results shown in each context, kept ``ttl`` seconds, for at most ``size`` contexts.

    Thread-safe: the Discord adapter calls it from worker threads.
    """

    def __init__(
        self, ttl: float = 3600.0, size: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._contexts: OrderedDict[Hashable, Context] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: Hashable, papers: Sequence[Paper], question: str | None = None) -> None:
        """A list was shown: follow-ups now count in it. Its first paper is in focus."""
        if not papers:
            return
        with self._lock:
            self._contexts[key] = Context(list(papers), papers[0], question, self._clock())
            self._contexts.move_to_end(key)
            while len(self._contexts) > self.size:
                self._contexts.popitem(last=False)

    def focus(self, key: Hashable, paper: Paper) -> None:
        """One paper was shown: "it" means it now; the earlier list still counts."""
        with self._lock:
            context = self._get(key) or Context()
            context.focus, context.at = paper, self._clock()
            if not context.papers:
                context.papers = [paper]
            self._contexts[key] = context
            self._contexts.move_to_end(key)

    def recall(self, key: Hashable) -> Context | None:
        with self._lock:
            return self._get(key)

    def _get(self, key: Hashable) -> Context | None:
        context = self._contexts.get(key)
        if context is not None and self._clock() - context.at > self.ttl:
            del self._contexts[key]
            return None
        return context

    def resolve(self, key: Hashable, position: int | None) -> Paper:
        """The paper at ``position`` of the last list here (None: the one in focus)."""
        context = self.recall(key)
        if context is None:
            raise UsageError("I have no earlier results here to pick from: ask a question or /search first.")
        if position is None:
            return context.focus or context.papers[0]
        count = len(context.papers)
        if position == -1:
            return context.papers[-1]
        if not 1 <= position <= count:
            which = "only one result" if count == 1 else f"only {count} results (1-{count})"
            raise UsageError(f"There is no #{position}: the last list had {which}.")
        return context.papers[position - 1]
