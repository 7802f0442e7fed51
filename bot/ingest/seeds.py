"""The scraped seed format (see DESIGN.md): three-line records and ``Abstract:`` lines.

A record is::

    CLJul 31, 2024[Code]
    <title><authors>[ et al.][ · org, org]
    <abstract>

The title is glued to the first author's name, so the split is found by trying every
place where an upper-case letter follows a non-space and keeping the one whose tail
reads as an author list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import NamedTuple

from bot.ingest.reader import Line
from bot.models import SUBJECT_CATEGORIES, Paper, Skipped, paper_id

MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
MONTH_NAMES = {i: m for m, i in MONTHS.items()}
HEADER = re.compile(
    r"^([A-Z]{2})(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2}), (\d{4})(Code)?$"
)
ABSTRACT_PREFIX = "Abstract:"
ORG_SEPARATOR = " · "
ET_AL = " et al."
MAX_TITLE = 1000
# Lower-case words that may stand inside a surname ("Bart van Merriënboer").
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "du",
        "le",
        "la",
        "dos",
        "das",
        "bin",
        "al",
        "ten",
        "ter",
        "y",
        "e",
    ]
)
# Name prefixes after which a capital is normal inside a word ("McKenna", "DeVries", "O'Neil").
CAMEL_PREFIXES = ("Mc", "Mac", "De", "Di", "Da", "La", "Le", "Van", "Von", "O'", "O’", "D'", "D’")


class ParsedPaper(NamedTuple):
    paper: Paper
    line: int


class TitleAuthors(NamedTuple):
    title: str
    authors: list[str]
    et_al: bool
    orgs: list[str]


def _word_ok(token: str) -> tuple[bool, bool]:
    """(is a name word, is a *plain* name word: no capital inside but after a known prefix)."""
    if len(token) <= 2 and token[0].isupper() and (len(token) == 1 or token[1] == "."):
        return True, True  # an initial: "L", "W."
    if re.fullmatch(r"(?:[^\W\d_]\.-?)+", token) and token[0].isupper():
        return True, True  # several initials: "J.-B."
    if not token[0].isupper() or not all(c.isalpha() or c in "-'’." for c in token):
        return False, False
    if not any(c.islower() for c in token):
        return False, False
    plain = True
    for i in range(1, len(token)):
        if token[i].isupper() and token[i - 1] not in "-'’" and not token[:i].endswith(CAMEL_PREFIXES):
            plain = False
    return True, plain


def _name_ok(name: str, first: bool) -> tuple[bool, bool]:
    tokens = name.split()
    if not tokens or len(tokens) > 6 or (first and len(tokens) < 2):
        return False, False
    if tokens[0].casefold() in PARTICLES:
        return False, False
    plain = True
    for token in tokens:
        if token in PARTICLES:
            continue
        ok, token_plain = _word_ok(token)
        if not ok:
            return False, False
        plain = plain and token_plain
    return True, plain


def _author_list(text: str) -> tuple[bool, bool]:
    """(is an author list, its first author is plain)."""
    names = text.split(", ")
    first_plain = False
    for i, name in enumerate(names):
        ok, plain = _name_ok(name, first=i == 0)
        if not ok:
            return False, False
        if i == 0:
            first_plain = plain
    return True, first_plain


def split_title_authors(line: str) -> TitleAuthors | None:
    """Split ``<title><authors>[ et al.][ · orgs]``; None when no split reads as authors."""
    orgs: list[str] = []
    if ORG_SEPARATOR in line:
        line, org_text = line.rsplit(ORG_SEPARATOR, 1)
        orgs = [o.strip() for o in org_text.split(",") if o.strip()]
    et_al = line.endswith(ET_AL)
    if et_al:
        line = line[: -len(ET_AL)]
    line = line.rstrip()
    cut = latest = 0
    # Titles are short: only look for the split in the first MAX_TITLE characters.
    for i in range(1, min(len(line), MAX_TITLE)):
        if not line[i].isupper() or line[i - 1].isspace() or line[i - 1] in "-'’":
            continue
        first_ok, _ = _name_ok(line[i : i + 200].split(", ", 1)[0], first=True)
        if not first_ok:
            continue
        ok, plain = _author_list(line[i:])
        if ok and plain:
            cut = i  # the earliest split whose first author is a plain name wins
            break
        if ok:
            latest = i
    cut = cut or latest  # else the latest one that reads as names
    if not cut:
        return None
    title = line[:cut].strip()
    if not title:
        return None
    return TitleAuthors(title, line[cut:].split(", "), et_al, orgs)


def parse_header(text: str) -> tuple[str, date, bool] | None:
    match = HEADER.match(text.strip())
    if not match:
        return None
    code, month, day, year, has_code = match.groups()
    try:
        when = date(int(year), MONTHS[month], int(day))
    except ValueError:
        return None
    return code, when, bool(has_code)


def _paper(header: tuple[str, date, bool], parts: TitleAuthors, abstract: str, source: str) -> Paper:
    code, when, has_code = header
    return Paper(
        id=paper_id(parts.title, abstract),
        title=parts.title,
        authors=parts.authors,
        et_al=parts.et_al,
        orgs=parts.orgs,
        category=code,
        categories=[SUBJECT_CATEGORIES.get(code, code)],
        date=when,
        has_code=has_code,
        abstract=abstract,
        sources=[source],
    )


def parse_seed_lines(lines: Iterable[Line], source: str) -> Iterator[ParsedPaper | Skipped]:
    """Parse numbered lines of one seed file into papers, reporting bad records and moving on."""
    header: tuple[str, date, bool] | None = None
    header_line = 0
    parts: TitleAuthors | None = None
    discarding = False  # inside a record already reported as bad: skip to the next header

    def truncated() -> Skipped:
        what = "abstract" if parts else "title and abstract"
        return Skipped(file=source, line=header_line, reason=f"truncated record: no {what}")

    for number, text, problem in lines:
        if text is None:
            if header:
                yield Skipped(file=source, line=header_line, reason=f"record broken by line {number}")
                header, parts = None, None
            yield Skipped(file=source, line=number, reason=problem or "unreadable line")
            continue
        stripped = text.strip()
        if not stripped:
            continue
        new_header = parse_header(stripped)
        if new_header or stripped.startswith(ABSTRACT_PREFIX):
            if header:
                yield truncated()
            header, parts, discarding = None, None, False
            if new_header:
                header, header_line = new_header, number
                continue
            abstract = stripped[len(ABSTRACT_PREFIX) :].strip()
            if not abstract:
                yield Skipped(file=source, line=number, reason="empty abstract")
                continue
            paper = Paper(id=paper_id(None, abstract), abstract=abstract, sources=[source])
            yield ParsedPaper(paper, number)
            continue
        if discarding:
            continue
        if header and parts is None:
            parts = split_title_authors(stripped)
            if parts is None:
                yield Skipped(file=source, line=number, reason="cannot tell the title from the authors")
                header, discarding = None, True
            continue
        if header and parts is not None:
            yield ParsedPaper(_paper(header, parts, stripped, source), header_line)
            header, parts = None, None
            continue
        yield Skipped(
            file=source, line=number, reason="line outside any record (expected a subject+date line)"
        )
    if header:
        yield truncated()


def render_record(paper: Paper) -> str:
    """The seed text of one paper: ``parse_seed_lines`` reads it back to the same paper."""
    if paper.title is None:
        return f"{ABSTRACT_PREFIX}{paper.abstract}\n"
    if paper.date is None or paper.category is None:
        raise ValueError("a titled seed record needs a subject code and a date")
    when = f"{MONTH_NAMES[paper.date.month]} {paper.date.day}, {paper.date.year}"
    header = f"{paper.category}{when}{'Code' if paper.has_code else ''}"
    authors = ", ".join(paper.authors) + (ET_AL if paper.et_al else "")
    orgs = f"{ORG_SEPARATOR}{', '.join(paper.orgs)}" if paper.orgs else ""
    return f"{header}\n{paper.title}{authors}{orgs}\n{paper.abstract}\n"


def looks_like_seed(head: str) -> bool:
    """Format sniffing: a record header or an ``Abstract:`` line near the start (garbage may precede)."""
    lines = [line.strip() for line in head.splitlines()]
    return any(HEADER.match(line) or line.startswith(ABSTRACT_PREFIX) for line in lines)
