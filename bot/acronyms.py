"""Acronyms and what they stand for, read from the papers themselves.

Two sources, as people coin them: a parenthesis after the words ("mirror descent value iteration
(MDVI)", anywhere in an abstract) and a title's initials ("Deep Conservative Policy Iteration" is
DCPI). Pure functions: the service decides where to look.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from bot.text import STOPWORDS

# An acronym as typed: two to eight letters or digits with at least two capitals ("GKD", "RLHF",
# "MDVI", "PaLM", "VLMs").
ACRONYM = re.compile(r"^(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z][A-Za-z0-9-]{1,7}$")
_DEFINED = re.compile(r"\(\s*(?P<acr>[A-Za-z][A-Za-z0-9-]{1,9})\s*[),;]")
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def is_acronym(token: str) -> bool:
    return bool(ACRONYM.match(token))


def _letters(acronym: str) -> str:
    """The letters an acronym spells, folded: "VLMs" -> "vlm", "Q-learning" -> "ql"."""
    core = acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[:-1].isupper() else acronym
    return "".join(c for c in core.lower() if c.isalpha())


def _spells(words: list[str], letters: str) -> bool:
    """The words' initials (each hyphenated part counting, stop words optional) spell ``letters``."""

    def match(i: int, j: int) -> bool:
        if j == len(letters):
            return i == len(words)
        if i == len(words):
            return False
        word = words[i].lower()
        if word in STOPWORDS and match(i + 1, j):
            return True
        if words[i].isupper() and letters.startswith(word, j) and match(i + 1, j + len(word)):
            return True  # an acronym inside an acronym: "RL from AI Feedback (RLAIF)"
        parts = word.split("-")
        # "Q-learning" may give Q or QL.
        for n in range(len(parts), 0, -1):
            initials = "".join(p[0] for p in parts[:n] if p)
            if letters.startswith(initials, j) and match(i + 1, j + len(initials)):
                return True
        return False

    return bool(words) and words[0].lower() not in STOPWORDS and match(0, 0)


def definitions(text: str) -> dict[str, str]:
    """Acronyms a text defines in parentheses, with the words before them that they spell."""
    found: dict[str, str] = {}
    for m in _DEFINED.finditer(text):
        acronym = m["acr"]
        letters = _letters(acronym)
        if not is_acronym(acronym) or len(letters) < 2:
            continue
        before = _WORD.findall(text[max(0, m.start() - 200) : m.start()])
        # "Reinforcement Learning Datasets (RLDS)": a final S may be the plural's.
        spellings = [letters, letters[:-1]] if letters.endswith("s") and len(letters) > 2 else [letters]
        for n in range(1, min(len(letters) + 3, len(before)) + 1):
            if any(_spells(before[-n:], x) for x in spellings):
                found.setdefault(acronym, " ".join(before[-n:]))
                break
    return found


def title_initials(title: str) -> set[str]:
    """The acronyms a title may go by: its words' initials, with and without its stop words,
    before its colon when it has one ("WARM: On the Benefits..." is WARM already)."""
    head = title.split(":")[0]
    words = _WORD.findall(head)
    if len(words) < 2:
        return set()
    every = "".join(w[0] for w in words).lower()
    content = "".join(w[0] for w in words if w.lower() not in STOPWORDS).lower()
    return {x for x in (every, content) if len(x) >= 2}


def expansion(acronym: str, texts: Iterable[str]) -> str | None:
    """What ``acronym`` stands for in these texts: the most frequent definition."""
    seen: Counter[str] = Counter()
    spelled: dict[str, str] = {}
    for text in texts:
        for name, words in definitions(text).items():
            if name.lower() == acronym.lower() or _letters(name) == _letters(acronym):
                folded = words.lower()
                seen[folded] += 1
                spelled.setdefault(folded, words)
    return spelled[seen.most_common(1)[0][0]] if seen else None


def defines(sentence: str, acronym: str, meaning: str | None = None) -> bool:
    """The sentence introduces the acronym: "(MDVI)" after its words, or spells out its meaning."""
    if re.search(r"\(\s*" + re.escape(acronym) + r"\s*[),;]", sentence):
        return True
    return meaning is not None and meaning.lower() in sentence.lower()
