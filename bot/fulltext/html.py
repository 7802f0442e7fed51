"""A paper's arXiv HTML (LaTeXML, as arxiv.org/html/ID serves it) as sections and paragraphs.

``<section id="S3">`` with its ``<h2 class="ltx_title">`` names a section (its id is the anchor
of a link to the place: arxiv.org/html/ID#S3), ``<p class="ltx_p">`` and captions are paragraphs,
math is its ``alttext`` (the LaTeX). Scripts, styles, images, navigation, footnotes and the
bibliography are left out. The standard library's parser: no dependency, and it never fails on
broken markup.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from bot.fulltext.licence import html_licence
from bot.fulltext.text import MAX_BYTES, MAX_SECONDS, Block, FulltextError, ParsedText, repair

# Everything inside these is left out (``math`` is replaced by its alttext).
_SKIP = {
    "head",
    "title",
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "button",
    "svg",
    "img",
    "math",
    "template",
}
_SKIP_CLASSES = (
    "ltx_bibliography",
    "ltx_note",
    "ltx_page_footer",
    "ltx_page_header",
    "ltx_TOC",
    "ltx_authors",
)
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "figcaption",
    "li",
    "ul",
    "ol",
    "table",
    "blockquote",
    "dd",
    "dt",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
# arXiv's banner lines (the licence, the arXiv stamp): recorded apart, not passages.
_SKIP_IDS = {"license-tr", "watermark-tr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "source", "col", "area", "base", "embed", "wbr"}


class _LaTeXML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self.stack: list[tuple[str, bool, str | None]] = []  # (tag, skipped, section id)
        self.skipping = 0  # depth of open elements being left out
        self.sections: list[tuple[str, str]] = []  # (section id, title) of the open sections
        self.heading: list[str] | None = None
        self.heading_tag = ""
        self.text: list[str] = []
        self.abstract = False

    # -- where we are
    @property
    def section(self) -> str:
        if self.sections and self.sections[-1][1]:
            return self.sections[-1][1]
        return "Abstract" if self.abstract else "Front matter"

    @property
    def anchor(self) -> str | None:
        return self.sections[-1][0] if self.sections else None

    def flush(self) -> None:
        text = repair("".join(self.text)).strip(" ;")
        self.text = []
        if text:
            self.blocks.append(Block(section=self.section, text=text, anchor=self.anchor))

    # -- the parser's events
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and not self.skipping:
                self.text.append(" ")
            return
        found = dict(attrs)
        classes = found.get("class") or ""
        skip = (
            bool(self.skipping)
            or tag in _SKIP
            or any(c in classes for c in _SKIP_CLASSES)
            or found.get("id") in _SKIP_IDS
        )
        if skip and not self.skipping and tag == "math" and found.get("alttext"):
            self.text.append(f" {found['alttext']} ")
        section_id = None
        if not skip and tag == "section":
            self.flush()
            section_id = found.get("id") or (self.anchor or "")
            self.sections.append((section_id, ""))
        elif not skip and "ltx_abstract" in classes:
            self.flush()
            self.abstract = True
        elif not skip and tag in _BLOCKS:
            self.flush()
        if not skip and tag in _HEADINGS:
            self.heading, self.heading_tag = [], tag
        self.stack.append((tag, skip, section_id))
        if skip:
            self.skipping += 1
        elif tag in ("td", "th"):
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(t == tag for t, _, _ in self.stack):
            return  # a stray end tag: ignore it
        while self.stack:
            open_tag, skipped, section_id = self.stack.pop()
            if skipped:
                self.skipping -= 1
            elif open_tag in _HEADINGS and self.heading is not None:
                self._end_heading()
            elif open_tag == "section" and section_id is not None:
                self.flush()
                self.sections.pop()
            elif open_tag in _BLOCKS:
                self.flush()
            elif open_tag == "tr":
                self.text.append(" ; ")
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.heading is not None:
            self.heading.append(data)
        else:
            self.text.append(data)

    def _end_heading(self) -> None:
        title = repair("".join(self.heading or []))
        self.heading = None
        if not title:
            return
        if self.heading_tag == "h1" and self.title is None and not self.sections:
            self.title = title
        elif self.sections and not self.sections[-1][1]:
            self.sections[-1] = (self.sections[-1][0], title)
        elif title.lower() == "abstract":
            self.abstract = True
        else:  # a heading outside a section of its own (a paragraph heading): in the text
            self.text.append(title + ". ")


_ADDRESS = re.compile(rb"arxiv\.org/(?:html|abs|pdf)/(\d{4}\.\d{4,5})")
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


def parse_html(data: bytes, max_seconds: float = MAX_SECONDS) -> ParsedText:
    """Sections and paragraphs of an arXiv (LaTeXML) HTML paper."""
    if len(data) > MAX_BYTES:
        raise FulltextError(f"the HTML is too large ({len(data) >> 20} MB; at most {MAX_BYTES >> 20} MB)")
    found = _CHARSET.search(data[:4096])
    try:
        text = data.decode(found.group(1).decode() if found else "utf-8", errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    parser = _LaTeXML()
    started = time.monotonic()
    step = 1 << 20
    for start in range(0, len(text), step):
        parser.feed(text[start : start + step])
        if time.monotonic() - started > max_seconds:
            raise FulltextError(f"reading the HTML took over {max_seconds:.0f} s")
    parser.close()
    parser.flush()
    blocks = [b for b in parser.blocks if b.section != "Front matter" or len(b.text) > 40]
    if sum(len(b.text) for b in blocks) < 200:
        raise FulltextError("the HTML holds no paper text (an error page, or not arXiv's HTML?)")
    address = _ADDRESS.search(data[:65536])
    arxiv_id = address.group(1).decode() if address else None
    return ParsedText(
        kind="html", blocks=blocks, title=parser.title, arxiv_id=arxiv_id, licence=html_licence(text)
    )
