"""Sentence splitting for abstracts: survives "et al.", "e.g.", decimals, initials and LaTeX."""

from __future__ import annotations

import re

# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset(
    "al e.g i.e etc cf vs fig figs eq eqs sec ref refs approx resp dr mr ms prof no vol pp ch st et".split()
)
_BOUNDARY = re.compile(r"([.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9$\\])")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order; joining them with spaces gives the text back (modulo spacing)."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(2)
        if _inside_math(text, end) or (match.group(1) == "." and _is_abbreviation(text, match.start(1))):
            continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _inside_math(text: str, position: int) -> bool:
    """An odd number of unescaped '$' before a position means it is inside $...$."""
    return len(re.findall(r"(?<!\\)\$", text[:position])) % 2 == 1


def _is_abbreviation(text: str, dot: int) -> bool:
    """The period at ``dot`` closes an abbreviation, an initial or a number like '2.'."""
    before = text[max(0, dot - 12) : dot]
    word = re.split(r"[\s(]", before)[-1]
    lowered = word.casefold()
    if lowered in ABBREVIATIONS or lowered.rstrip(".") in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isupper():  # an initial: "Samuel L. Smith"
        return True
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", word))  # "e.g", "U.S"
