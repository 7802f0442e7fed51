"""Full texts in ``paperbot export`` / ``import``: each exported paper that has a full text
carries it under ``"fulltext"`` (its document and passages), so that an export imported into a
fresh database keeps them. An export without the key (older, or a paper without text) imports as
before; the key is ignored by the paper model.

Importing into a database that already holds a text for the paper: the same text (hash) is left
as it is; a different one is replaced only by a text added later than it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.store import Store
from bot.store.fulltext import FulltextDoc, PassageRow

KEY = "fulltext"


class ExportedPassage(BaseModel):
    section: str
    page: int | None = None
    anchor: str | None = None
    text: str


class ExportedFulltext(BaseModel):
    """A full text as ``export`` writes it."""

    kind: Literal["pdf", "html"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pages: int | None = None
    licence: str | None = None
    source: str | None = None
    fetched_at: str | None = None
    arxiv_id: str | None = None
    added_at: str
    passages: list[ExportedPassage] = Field(min_length=1)


def exported_texts(store: Store) -> dict[str, dict[str, Any]]:
    """Every stored full text as ``export`` writes it, by paper id."""
    out: dict[str, dict[str, Any]] = {}
    for doc in store.fulltext.list():
        passages = [
            {"section": p.section, "page": p.page, "anchor": p.anchor, "text": p.text}
            for p in store.fulltext.passages(doc.paper_id)
        ]
        out[doc.paper_id] = {
            "kind": doc.kind,
            "sha256": doc.sha256,
            "pages": doc.pages,
            "licence": doc.licence,
            "source": doc.source,
            "fetched_at": doc.fetched_at,
            "arxiv_id": doc.arxiv_id,
            "added_at": doc.added_at,
            "passages": passages,
        }
    return out


def import_text(store: Store, paper_id: str, text: ExportedFulltext) -> str:
    """Store an exported full text as the paper's: ``added``, ``replaced`` or ``kept`` (the
    database's own is the same text, or a later one)."""
    stored = store.fulltext.get(paper_id)
    if stored is not None and (stored.sha256 == text.sha256 or stored.added_at >= text.added_at):
        return "kept"
    doc = FulltextDoc(
        paper_id,
        text.kind,
        text.sha256,
        text.pages,
        text.licence,
        text.source,
        text.fetched_at,
        text.arxiv_id,
        added_at=text.added_at,
    )
    rows = [PassageRow(paper_id, i, p.section, p.page, p.anchor, p.text) for i, p in enumerate(text.passages)]
    store.fulltext.replace(paper_id, doc, rows)
    return "added" if stored is None else "replaced"
