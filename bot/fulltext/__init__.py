"""Papers' full texts: PDF (PDFium) and arXiv HTML (LaTeXML) parsed into passages with their
section, page and anchor; stored all or nothing; passages that answer a question.

- ``text``: the parsed document, text repair (ligatures, hyphens), limits, ``FulltextError``;
- ``pdf`` / ``html``: the two parsers;
- ``passages``: BM25 over a paper's passages, links to the place, the answer's body quotes;
- ``index``: one BM25 index over every body passage of the library, saved beside the paper index.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.fulltext.passages import Scored, body_passages, library_passages, place_link, with_body_passages
from bot.fulltext.text import MAX_BYTES, FulltextError, ParsedText, pieces, worth_keeping
from bot.models import Paper
from bot.store import Store
from bot.store.fulltext import FulltextDoc, PassageRow

__all__ = [
    "FulltextDoc",
    "FulltextError",
    "ParsedText",
    "Scored",
    "attach",
    "attach_file",
    "body_passages",
    "library_passages",
    "parse_document",
    "place_link",
    "with_body_passages",
]


def parse_document(data: bytes) -> ParsedText:
    """A PDF or an HTML paper, told by its first bytes."""
    if data.startswith(b"%PDF"):
        from bot.fulltext.pdf import parse_pdf

        return parse_pdf(data)
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head:
        from bot.fulltext.html import parse_html

        return parse_html(data)
    if not data:
        raise FulltextError("the file is empty")
    raise FulltextError("not a PDF or an HTML file")


def passage_rows(paper_id: str, parsed: ParsedText) -> list[PassageRow]:
    """The parsed paragraphs as stored passages (long ones cut at sentence ends)."""
    rows: list[PassageRow] = []
    for block in parsed.blocks:
        for piece in pieces(block.text):
            if worth_keeping(piece):
                rows.append(PassageRow(paper_id, len(rows), block.section, block.page, block.anchor, piece))
    return rows


def attach(
    store: Store,
    paper: Paper,
    data: bytes,
    source: str | None = None,
    licence: str | None = None,
    fetched_at: str | None = None,
    unstated_licence: str | None = None,
) -> FulltextDoc:
    """Parse a full text and store it as the paper's (replacing any earlier one). Parsing is done
    before anything is written, and the write is one transaction: a bad file stores nothing.
    The licence recorded: ``licence`` if given, else the one the file states (arXiv's HTML does),
    else ``unstated_licence`` (``unknown`` for a download from arXiv; nothing for a local file)."""
    parsed = parse_document(data)
    if paper.arxiv_id and parsed.arxiv_id and parsed.arxiv_id != paper.arxiv_id:
        raise FulltextError(
            f"the file is arXiv:{parsed.arxiv_id}, but {paper.label[:60]} is arXiv:{paper.arxiv_id}: another paper?"
        )
    rows = passage_rows(paper.id, parsed)
    if not rows:
        raise FulltextError("no paragraphs of text found in the file")
    digest = hashlib.sha256(data).hexdigest()
    doc = FulltextDoc(
        paper.id,
        parsed.kind,
        digest,
        parsed.pages,
        licence or parsed.licence or unstated_licence,
        source,
        fetched_at,
        parsed.arxiv_id,
    )
    store.fulltext.replace(paper.id, doc, rows)
    return store.fulltext.get(paper.id) or doc


def attach_file(store: Store, paper: Paper, path: Path) -> FulltextDoc:
    """``attach`` for a local file (read with the size bound checked first)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise FulltextError(f"{path}: too large ({size >> 20} MB; at most {MAX_BYTES >> 20} MB)")
    try:
        return attach(store, paper, path.read_bytes(), source=path.name)
    except FulltextError as exc:
        raise FulltextError(f"{path}: {exc}") from exc
