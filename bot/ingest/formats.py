"""arXiv sources as files: the API's Atom, the daily RSS listings, the bulk metadata snapshot.

Each parser takes a path (or bytes, for responses fetched over HTTP) and yields
``ParsedPaper`` or ``Skipped`` with a line number, as the seed parser does. XML goes through
defusedxml (no DTDs, no entity expansion: "billion laughs" is refused, not expanded) and is
read incrementally, so the good entries before a malformed one are kept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from bot.ingest.reader import open_binary, read_lines
from bot.ingest.seeds import ParsedPaper
from bot.models import Paper, Skipped, paper_id

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
_ID = re.compile(
    r"(?:arxiv\.org/abs/|arXiv:|oai:arXiv\.org:)?([a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v(\d+))?",
    re.I,
)
_ANNOUNCE = re.compile(
    r"arXiv:(\S+?)(?:v(\d+))?\s+Announce Type:\s*([\w-]+)\s*(?:Abstract:\s*)?(.*)", re.S | re.I
)
_CODE = re.compile(r"code (?:is )?(?:publicly )?available|open-source[sd]? (?:our )?code")
_CODE_HOSTS = ("github.com", "gitlab.com")


def _clean(text: str | None) -> str:
    """arXiv wraps titles and abstracts at fixed widths: collapse the white space."""
    if isinstance(text, str) and text and not _UNCLEAN.search(text):
        return text  # already clean (most fields): no split and join
    return " ".join((text or "").split())


# White space that ``_clean`` changes: at either end, two in a row, or other than a space.
# (``\s`` is ``str.isspace``, the white space ``str.split`` splits at.)
_UNCLEAN = re.compile(r"^\s|\s$|\s\s|[^\S ]")


def _split_id(raw: str) -> tuple[str | None, int | None]:
    match = _ID.search(raw or "")
    if not match:
        return None, None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def _paper(**fields: Any) -> Paper:
    title, abstract = fields["title"], fields["abstract"]
    # Lower-case once and look for plain substrings first: a case-insensitive regex over every
    # abstract was the slowest step of a bulk ingest.
    text = " ".join([fields.get("comment") or "", abstract]).lower()
    has_code = any(host in text for host in _CODE_HOSTS) or ("code" in text and bool(_CODE.search(text)))
    return Paper(id=paper_id(title, abstract), has_code=has_code, **fields)


# -- arXiv API (Atom) ------------------------------------------------------------------------
def parse_atom(data: bytes, source: str) -> Iterator[ParsedPaper | Skipped]:
    """Entries of an arXiv API response."""
    for number, entry in _xml_items(data, source, f"{ATOM}entry"):
        if isinstance(entry, Skipped):
            yield entry
            continue
        arxiv_id, version = _split_id(entry.findtext(f"{ATOM}id") or "")
        title, abstract = _clean(entry.findtext(f"{ATOM}title")), _clean(entry.findtext(f"{ATOM}summary"))
        if not arxiv_id or not title or not abstract:
            yield Skipped(
                file=source, line=number, reason="entry without an arXiv id, a title or an abstract"
            )
            continue
        primary = entry.find(f"{ARXIV}primary_category")
        categories = [c.get("term", "") for c in entry.findall(f"{ATOM}category") if c.get("term")]
        if primary is not None and primary.get("term"):
            categories = [primary.get("term", ""), *[c for c in categories if c != primary.get("term")]]
        authors = [_clean(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
        orgs = [_clean(a.text) for a in entry.iter(f"{ARXIV}affiliation") if a.text]
        yield ParsedPaper(
            _paper(
                title=title,
                abstract=abstract,
                authors=[a for a in authors if a],
                orgs=list(dict.fromkeys(orgs)),
                category=categories[0] if categories else None,
                categories=categories,
                date=_date(entry.findtext(f"{ATOM}published")),
                updated=_date(entry.findtext(f"{ATOM}updated")),
                arxiv_id=arxiv_id,
                version=version,
                comment=_clean(entry.findtext(f"{ARXIV}comment")) or None,
                journal_ref=_clean(entry.findtext(f"{ARXIV}journal_ref")) or None,
                doi=_clean(entry.findtext(f"{ARXIV}doi")) or None,
                sources=[source],
            ),
            number,
        )


# -- daily RSS listing -----------------------------------------------------------------------
def parse_rss(data: bytes, source: str) -> Iterator[ParsedPaper | Skipped]:
    """Items of an arXiv RSS listing: ``arXiv:ID vN Announce Type: new|cross|replace ... Abstract: ...``.

    A ``replace`` (a new version of an older paper) carries no original date: stored alone it
    is undated, so it never counts as new; merged into the known paper it updates the version
    and abstract.
    """
    for number, item in _xml_items(data, source, "item"):
        if isinstance(item, Skipped):
            yield item
            continue
        match = _ANNOUNCE.match(_clean(item.findtext("description")))
        title = _clean(item.findtext("title"))
        if not match or not title:
            yield Skipped(file=source, line=number, reason="item without 'arXiv:ID Announce Type' or a title")
            continue
        arxiv_id, version = _split_id(match.group(1))
        version = int(match.group(2)) if match.group(2) else version
        kind = (item.findtext(f"{ARXIV}announce_type") or match.group(3)).strip().lower()
        abstract = _clean(match.group(4))
        if not arxiv_id or not abstract:
            yield Skipped(file=source, line=number, reason="item without an arXiv id or an abstract")
            continue
        announced = _date(item.findtext("pubDate"))
        categories = [_clean(c.text) for c in item.findall("category") if c.text]
        creators = " ".join(_clean(c.text) for c in item.findall(f"{DC}creator"))
        yield ParsedPaper(
            _paper(
                title=title,
                abstract=abstract,
                authors=split_authors(creators),
                category=categories[0] if categories else None,
                categories=categories,
                date=None if kind.startswith("replace") else announced,
                updated=announced,
                arxiv_id=arxiv_id,
                version=version,
                sources=[source],
            ),
            number,
        )


def split_authors(text: str) -> list[str]:
    """'A. One, B. Two and C. Three' -> three names."""
    parts = re.split(r",\s*|\s+and\s+", text)
    return [p.strip() for p in parts if p.strip()]


# -- bulk metadata snapshot (JSON lines) -------------------------------------------------------
def parse_snapshot(path: Path) -> Iterator[ParsedPaper | Skipped]:
    """arXiv's bulk metadata (one JSON object per line, plain or gzip), streamed line by line."""
    source = path.name
    with open_binary(path) as stream:
        for number, text, problem in read_lines(stream):
            if text is None:
                yield Skipped(file=source, line=number, reason=problem or "unreadable line")
                continue
            if not text.strip():
                continue
            try:
                yield ParsedPaper(snapshot_paper(json.loads(text), source), number)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                reason = (
                    "not JSON"
                    if isinstance(exc, json.JSONDecodeError)
                    else f"bad record ({exc.__class__.__name__}: {exc})"
                )
                yield Skipped(file=source, line=number, reason=reason[:200])


def snapshot_paper(row: dict[str, Any], source: str) -> Paper:
    title, abstract = _clean(row["title"]), _clean(row["abstract"])
    if not title or not abstract:
        raise ValueError("no title or no abstract")
    versions = row.get("versions") or []
    first = _date(versions[0].get("created")) if versions else None
    last_version = int(str(versions[-1].get("version", "v1")).lstrip("v") or 1) if versions else None
    parsed = row.get("authors_parsed") or []
    authors = [_parsed_name(a) for a in parsed]
    categories = (row.get("categories") or "").split()
    return _paper(
        title=title,
        abstract=abstract,
        authors=[a for a in authors if a] or split_authors(_clean(row.get("authors"))),
        category=categories[0] if categories else None,
        categories=categories,
        date=first or _date(row.get("update_date")),
        updated=_date(row.get("update_date")),
        arxiv_id=str(row["id"]),
        version=last_version,
        comment=_clean(row.get("comments")) or None,
        journal_ref=_clean(row.get("journal-ref")) or None,
        doi=_clean(row.get("doi")) or None,
        sources=[source],
    )


def _parsed_name(a: list[str]) -> str:
    """'First Last Suffix' from the snapshot's [last, first, suffix]."""
    if len(a) == 3 and type(a[0]) is str and type(a[1]) is str and a[0] and a[1] and not a[2]:
        return f"{a[1]} {a[0]}".strip()  # the usual case, without building a list
    return " ".join(p for p in [a[1] if len(a) > 1 else "", a[0], a[2] if len(a) > 2 else ""] if p).strip()


# -- shared --------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
# RFC 2822 as arXiv writes it ('Mon, 2 Apr 2007 12:00:00 GMT'): the date as written, which is
# what ``parsedate_to_datetime(text).date()`` gives, without parsing the time and the zone.
_RFC2822_DAY = re.compile(
    r"(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)? (?:GMT|UT|UTC|[+-]\d{4})$"
)


def _date(text: str | None) -> dt.date | None:
    """ISO dates ('2024-07-19T17:59:59Z', '2024-07-19') and RFC 2822 ones ('Mon, 2 Apr 2007 ...')."""
    if not text:
        return None
    text = text.strip()
    if text[:1].isdigit():
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    rfc = _RFC2822_DAY.fullmatch(text)
    if rfc and rfc.group(2) in _MONTHS:
        try:
            return dt.date(int(rfc.group(3)), _MONTHS[rfc.group(2)], int(rfc.group(1)))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def _xml_items(data: bytes, source: str, tag: str) -> Iterator[tuple[int, Element | Skipped]]:
    """Complete ``tag`` elements as they are read, with their line; a broken document ends with
    a Skipped naming the line where it broke (the entries before it are kept)."""
    lines = _LineCounter(data)
    try:
        for _, element in iterparse(io.BytesIO(data), events=("end",), forbid_dtd=False):
            if element.tag == tag:
                yield lines.line_of(element), element
                element.clear()
    except DefusedXmlException as exc:
        yield (
            1,
            Skipped(file=source, line=1, reason=f"refused XML ({exc.__class__.__name__}: entities or DTD)"),
        )
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 1
        yield line, Skipped(file=source, line=line, reason=f"malformed XML: {exc}"[:200])


class _LineCounter:
    """Line numbers for elements: ElementTree does not keep them, so find the element's
    opening in the text, in order."""

    def __init__(self, data: bytes) -> None:
        self.text = data.decode("utf-8", errors="replace")
        self.at = 0

    def line_of(self, element: Element) -> int:
        name = element.tag.rsplit("}", 1)[-1]
        found = self.text.find(f"<{name}", self.at)
        if found < 0:
            return self.text.count("\n", 0, self.at) + 1
        self.at = found + 1
        return self.text.count("\n", 0, found) + 1


def _file_parser(
    parse: Callable[[bytes, str], Iterator[ParsedPaper | Skipped]],
) -> Callable[[Path], Iterator[ParsedPaper | Skipped]]:
    def from_file(path: Path) -> Iterator[ParsedPaper | Skipped]:
        with open_binary(path) as stream:
            data = stream.read(64 << 20)  # feeds are small; a larger "feed" is not one of ours
            if stream.read(1):
                yield Skipped(file=path.name, line=1, reason="feed larger than 64 MiB")
                return
        yield from parse(data, path.name)

    return from_file


def looks_like_atom(head: str) -> bool:
    return "<feed" in head and "http://www.w3.org/2005/Atom" in head


def looks_like_rss(head: str) -> bool:
    return "<rss" in head


def looks_like_snapshot(head: str) -> bool:
    first = head.lstrip()
    return first.startswith("{") and '"abstract"' in head and '"id"' in head


FORMATS: list[tuple[Callable[[str], bool], Callable[[Path], Iterator[ParsedPaper | Skipped]]]] = [
    (looks_like_snapshot, parse_snapshot),
    (looks_like_rss, _file_parser(parse_rss)),
    (looks_like_atom, _file_parser(parse_atom)),
]
