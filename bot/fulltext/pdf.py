"""A paper's PDF as sections, paragraphs and pages, through PDFium (pypdfium2).

Per page PDFium gives the text in content order, one line per ``\\r\\n``, and for any character
its box and font size. From them: running headers and footers (the same line at the top or
bottom of many pages) and page numbers are dropped; numbered headings ("4 Experimental setup",
"4.1 Data", "A Hyperparameters" in an appendix) start sections, checked against the numbering
so far and the font (larger or bold); lines are joined into paragraphs at vertical gaps and
short sentence-ending lines; the References section is left out (an appendix after it is kept).
"""

from __future__ import annotations

import ctypes
import itertools
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from bot.fulltext.text import (
    MAX_BYTES,
    MAX_PAGES,
    MAX_SECONDS,
    Block,
    FulltextError,
    ParsedText,
    join_lines,
    repair,
)

_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^\n]{1,100})$")
_LETTERED = re.compile(r"^(?:Appendix\s+)?([A-H](?:\.\d{1,2}){0,3})\.?\s+([A-Z][^\n]{1,100})$")
_NAMED = re.compile(
    r"^(?:(\d{1,2}|[A-H]|[IVX]{1,4})\.?\s+)?(Abstract|References|Bibliography|Acknowledge?ments?|Appendix|"
    r"Appendices|Supplementary Materials?|Introduction|Related Work|Conclusions?|Discussion|Limitations|"
    r"Broader Impacts?|Impact Statement|Ethics Statement)\s*$",
    re.IGNORECASE,
)
_REFERENCES = {"references", "bibliography"}
_APPENDIX = {"appendix", "appendices", "supplementary material", "supplementary materials"}
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?(\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_ARXIV_STAMP = re.compile(r"^arXiv:(\d{4}\.\d{4,5})(?:v\d+)?\s*\[")
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|medi|cmbx|\bbx|-b$|,b$", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", ":", '."', ".)")
_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be headers or footers


@dataclass
class Line:
    text: str
    page: int
    x: float
    y: float  # baseline (PDF units, from the bottom of the page)
    right: float
    size: float
    bold: bool = False
    index: int = 0  # the first character's index in its page's text page


def parse_pdf(data: bytes, max_pages: int = MAX_PAGES, max_seconds: float = MAX_SECONDS) -> ParsedText:
    """Sections, paragraphs and pages of a PDF; ``FulltextError`` for one that cannot be read."""
    import pypdfium2 as pdfium

    if len(data) > MAX_BYTES:
        raise FulltextError(f"the PDF is too large ({len(data) >> 20} MB; at most {MAX_BYTES >> 20} MB)")
    if not data.startswith(b"%PDF"):
        raise FulltextError("not a PDF (it does not start with %PDF)")
    if b"%%EOF" not in data[-4096:]:
        raise FulltextError("the PDF is truncated (no %%EOF at its end): download it again")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == 4 or "password" in str(exc).lower():
            raise FulltextError(
                "the PDF is encrypted (password protected): save an unprotected copy"
            ) from exc
        raise FulltextError(f"the PDF is damaged or not a PDF ({exc})") from exc
    started = time.monotonic()
    try:
        count = len(document)
        if count > max_pages:
            raise FulltextError(f"the PDF has {count} pages (at most {max_pages}): not a paper?")
        lines: list[Line] = []
        for number in range(count):
            if time.monotonic() - started > max_seconds:
                raise FulltextError(
                    f"reading the PDF took over {max_seconds:.0f} s (page {number + 1} of {count})"
                )
            lines += _page_lines(document, number)
    finally:
        document.close()
    if not _has_text(lines, 40 * max(1, min(count, 3))):
        raise FulltextError("the PDF has no text layer (a scanned document?): try the arXiv HTML version")
    kept = _drop_headers_and_footers(lines, count)
    stamp = next((m.group(1) for ln in lines if ln.page == 1 and (m := _ARXIV_STAMP.match(ln.text))), None)
    parsed = ParsedText(kind="pdf", pages=count, blocks=_blocks(kept), arxiv_id=stamp)
    if not parsed.blocks:
        raise FulltextError("the PDF has no text layer with paragraphs in it")
    return parsed


def _has_text(lines: list[Line], letters: int) -> bool:
    """At least this many letters (a scanned page has none, or a few from a stamp)."""
    for line in lines:
        letters -= sum(c.isalpha() for c in line.text)
        if letters <= 0:
            return True
    return False


def _page_lines(document: object, number: int) -> list[Line]:
    import pypdfium2.raw as raw

    page = document[number]  # type: ignore[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines: list[Line] = []
        flags = ctypes.c_int(0)
        x, y = ctypes.c_double(0), ctypes.c_double(0)
        name = ctypes.create_string_buffer(128)
        for match in re.finditer(r"[^\r\n]+", text):
            stripped = match.group(0).strip()
            if not stripped:
                continue
            first = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
            last = match.start() + len(match.group(0).rstrip()) - 1
            raw.FPDFText_GetCharOrigin(textpage, first, ctypes.byref(x), ctypes.byref(y))
            _, _, right, _ = textpage.get_charbox(last)
            size = float(raw.FPDFText_GetFontSize(textpage, first))
            line = Line(stripped, number + 1, x.value, y.value, right, round(size, 1), index=first)
            if _NUMBERED.match(stripped) or _NAMED.match(stripped) or _LETTERED.match(stripped):
                weight = raw.FPDFText_GetFontWeight(textpage, first)
                raw.FPDFText_GetFontInfo(textpage, first, name, len(name), ctypes.byref(flags))
                line.bold = (
                    weight >= 600
                    or bool(flags.value & 0x40000)
                    or bool(_BOLD_NAME.search(name.value.decode("latin-1")))
                )
            lines.append(line)
        return lines
    finally:
        textpage.close()
        page.close()


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _drop_headers_and_footers(lines: list[Line], pages: int) -> list[Line]:
    """Lines that are not running headers or footers, page numbers or the arXiv stamp."""
    by_page: dict[int, list[Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges: dict[int, set[int]] = {}  # page -> ids of its top and bottom lines
    seen: Counter[str] = Counter()
    for page, page_lines in by_page.items():
        ordered = sorted(page_lines, key=lambda ln: -ln.y)
        edge = ordered[:_EDGE_LINES] + ordered[-_EDGE_LINES:]
        edges[page] = {id(ln) for ln in edge}
        seen.update({_shape(ln.text) for ln in edge})
    repeated = {shape for shape, n in seen.items() if n >= max(2, 0.3 * pages)}
    kept = []
    for line in lines:
        at_edge = id(line) in edges[line.page]
        if at_edge and (_PAGE_NUMBER.match(line.text) or _shape(line.text) in repeated):
            continue
        if _ARXIV_STAMP.match(line.text):
            continue
        kept.append(line)
    return kept


def _body_size(lines: list[Line]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


class _Headings:
    """Which lines are section headings: their shape, font, and the numbering so far."""

    def __init__(self, body_size: float) -> None:
        self.body_size = body_size
        self.top = 0  # the current top-level section number
        self.appendix = False

    def title(self, line: Line, in_references: bool) -> str | None:
        text = line.text
        if len(text) > 100:
            return None
        styled = line.bold or line.size >= self.body_size * 1.1
        named = _NAMED.match(text)
        if named and (styled or named.group(1) is None):
            label = named.group(2).strip()
            if named.group(1) and named.group(1).isdigit():
                self.top = max(self.top, int(named.group(1)))
            if label.lower() in _APPENDIX:
                self.appendix = True
            return text if named.group(1) else label.title() if label.isupper() else label
        if in_references or self.appendix:
            lettered = _LETTERED.match(text)
            if lettered and (styled or text.startswith("Appendix")) and _title_like(lettered.group(2)):
                self.appendix = True
                return text
            if in_references:
                return None
        numbered = _NUMBERED.match(text)
        if not numbered or not _title_like(numbered.group(2)):
            return None
        parts = [int(p) for p in numbered.group(1).split(".")]
        if parts[0] == 0:
            return None
        if len(parts) == 1:
            fits = self.top < parts[0] <= self.top + (2 if styled else 1)
        else:
            fits = parts[0] == self.top or (parts[0] == self.top + 1 and styled)
        if not fits or not (styled or (len(parts) == 1 and parts[0] == self.top + 1)):
            return None
        self.top = parts[0]
        return text


def _title_like(title: str) -> bool:
    """A heading's words: short, mostly letters, not a sentence or a row of numbers."""
    words = title.split()
    if not words or len(words) > 14 or title.rstrip()[-1] in ".,;:=" or title.count(",") > 2:
        return False
    letters = sum(c.isalpha() for c in title)
    return letters >= 0.6 * len(title.replace(" ", "")) and letters >= 3


def _blocks(lines: list[Line]) -> list[Block]:
    """Paragraphs with their section and page; the References section left out."""
    body_size = _body_size(lines)
    gaps = [
        a.y - b.y
        for a, b in itertools.pairwise(lines)
        if a.page == b.page and 0 < a.y - b.y < 3 * body_size and abs(a.size - body_size) < 0.6
    ]
    line_gap = statistics.median(gaps) if gaps else body_size * 1.2
    widths = [ln.right - ln.x for ln in lines if abs(ln.size - body_size) < 0.6]
    full_width = statistics.quantiles(widths, n=10)[7] if len(widths) >= 10 else max(widths, default=0)
    headings = _Headings(body_size)
    blocks: list[Block] = []
    section = "Front matter"
    in_references = False
    current: list[Line] = []

    def flush() -> None:
        if current and not in_references:
            text = join_lines([ln.text for ln in current])
            if text:
                blocks.append(Block(section=section, text=text, page=current[0].page))
        current.clear()

    for line in lines:
        title = headings.title(line, in_references)
        if title is not None:
            flush()
            named = _NAMED.match(title)
            in_references = bool(named) and named.group(2).lower() in _REFERENCES  # type: ignore[union-attr]
            section = repair(title)
            continue
        if current and _breaks(current[-1], line, line_gap, full_width):
            flush()
        current.append(line)
    flush()
    return blocks


def _breaks(previous: Line, line: Line, line_gap: float, full_width: float) -> bool:
    """Does ``line`` start a new paragraph after ``previous``?"""
    if line.page != previous.page:
        # A paragraph goes on over a page break unless the last one ended a sentence.
        return previous.text.endswith(_SENTENCE_END) or not line.text[:1].islower()
    drop = previous.y - line.y
    if drop < -line_gap or drop > 1.3 * line_gap:  # a new column, or a blank line between them
        return not (
            drop < -line_gap and not previous.text.endswith(_SENTENCE_END) and line.text[:1].islower()
        )
    if abs(line.size - previous.size) > 1.0:
        return True
    if not previous.text.endswith(_SENTENCE_END):
        return False
    short = full_width > 0 and previous.right - previous.x < 0.8 * full_width
    indented = line.x - previous.x > 0.8 * line.size  # a paragraph's first line is indented
    return short or indented
