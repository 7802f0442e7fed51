"""What PDF and HTML parsing share: the parsed document, its passages, text repair and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import PaperbotError
from bot.sentences import split_sentences

# Bounds on what one full text may cost: a paper, not a book or a denial of service.
MAX_PAGES = 300
MAX_BYTES = 50 << 20
MAX_SECONDS = 60.0
# Passages: a paragraph, or a piece of a long one cut at sentence ends.
MAX_PASSAGE_CHARS = 900
TARGET_PASSAGE_CHARS = 600

LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st", "Ĳ": "IJ", "ĳ": "ij"}
)
# Soft hyphens and PDFium's marker of a hyphen it took out at a line end.
SOFT_HYPHENS = str.maketrans({"\xad": None, "\ufffe": None, "\x02": None})
_SPACES = re.compile(r"\s+")
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")


class FulltextError(PaperbotError):
    """A full text that cannot be read (damaged, encrypted, no text layer, too large): one line."""


@dataclass
class Block:
    """A paragraph as parsed: its section, page (PDF) and anchor (HTML section id)."""

    section: str
    text: str
    page: int | None = None
    anchor: str | None = None


@dataclass
class ParsedText:
    kind: str  # "pdf" | "html"
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    title: str | None = None
    arxiv_id: str | None = None  # the arXiv id the document names (PDF stamp, HTML address)
    licence: str | None = None  # the licence the document states (arXiv HTML), as a URL

    def sections(self) -> list[str]:
        return list(dict.fromkeys(b.section for b in self.blocks))


def repair(text: str) -> str:
    """Ligatures spelled out, hyphens at line ends joined ("learn-\\ning" -> "learning"),
    soft hyphens dropped, white space folded."""
    text = text.translate(LIGATURES)
    text = _HYPHEN_BREAK.sub("", text)
    return _SPACES.sub(" ", text.translate(SOFT_HYPHENS)).strip()


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one text: a word hyphenated at a line end is joined."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out[-1] in "\xad\ufffe\x02" or (
            out.endswith("-") and len(out) > 1 and out[-2].islower() and line[0].islower()
        ):
            out = out[:-1] + line
        else:
            out += " " + line
    return repair(out)


def pieces(text: str) -> list[str]:
    """A paragraph cut at sentence ends into passages of at most ~MAX_PASSAGE_CHARS."""
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in split_sentences(text) or [text]:
        while len(sentence) > MAX_PASSAGE_CHARS:  # a run-on "sentence" (a table, a list)
            cut = sentence.rfind(" ", 0, MAX_PASSAGE_CHARS)
            cut = cut if cut > 0 else MAX_PASSAGE_CHARS
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > TARGET_PASSAGE_CHARS:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return [p for p in out if p]


def worth_keeping(text: str) -> bool:
    """At least two words with letters: not a stray number, symbol or figure label."""
    found = 0
    for word in text.split():
        if any(c.isalpha() for c in word):
            found += 1
            if found == 2:
                return True
    return False
