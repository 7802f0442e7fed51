"""The full texts of the library, as the adapters use them: attach a file to a paper named like
``/paper`` names it (id, arXiv id or fuzzy title), list them, read a paper's passages."""

from __future__ import annotations

import builtins
from pathlib import Path

from pydantic import BaseModel

from bot.errors import NotFound, UsageError
from bot.fulltext import attach_file, place_link
from bot.models import Paper, Passage
from bot.service import PaperService
from bot.store.fulltext import FulltextDoc


class FullText(BaseModel):
    """A paper and its stored full text."""

    paper: Paper
    kind: str
    sha256: str
    pages: int | None
    passages: int
    sections: list[str] = []
    licence: str | None = None
    source: str | None = None
    fetched_at: str | None = None
    arxiv_id: str | None = None  # the arXiv id the file names
    added_at: str

    @classmethod
    def of(cls, paper: Paper, doc: FulltextDoc, sections: list[str] | None = None) -> FullText:
        return cls(
            paper=paper,
            kind=doc.kind,
            sha256=doc.sha256,
            pages=doc.pages,
            passages=doc.passages,
            sections=sections or [],
            licence=doc.licence,
            source=doc.source,
            fetched_at=doc.fetched_at,
            arxiv_id=doc.arxiv_id,
            added_at=doc.added_at,
        )

    def to_json(self) -> dict[str, object]:
        p = self.paper
        return {
            "id": p.id,
            "arxiv_id": p.arxiv_id or self.arxiv_id,
            "title": p.label,
            "kind": self.kind,
            "pages": self.pages,
            "passages": self.passages,
            "sections": self.sections,
            "sha256": self.sha256,
            "licence": self.licence,
            "source": self.source,
            "fetched_at": self.fetched_at,
            "added_at": self.added_at,
        }


class FullTexts:
    def __init__(self, service: PaperService) -> None:
        self.service = service
        self.store = service.store

    def add(self, reference: str, path: Path) -> FullText:
        """Attach a PDF or arXiv HTML file to the paper a reference names (replacing its text)."""
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        paper = self.service.paper(reference)
        doc = attach_file(self.store, paper, path)
        sections = list(dict.fromkeys(r.section for r in self.store.fulltext.passages(paper.id)))
        return FullText.of(paper, doc, sections)

    def list(self) -> list[FullText]:
        docs = self.store.fulltext.list()
        papers = {p.id: p for p in self.store.get_papers(d.paper_id for d in docs)}
        return [FullText.of(papers[d.paper_id], d) for d in docs if d.paper_id in papers]

    def get(self, paper: Paper) -> FullText:
        """A paper's stored full text (its document, its sections)."""
        doc = self.store.fulltext.get(paper.id)
        if doc is None:
            raise NotFound(f"{paper.label} has no full text: add one with 'paperbot fulltext add'")
        sections = list(dict.fromkeys(r.section for r in self.store.fulltext.passages(paper.id)))
        return FullText.of(paper, doc, sections)

    def passages(self, reference: str) -> tuple[Paper, builtins.list[Passage]]:
        """A paper's passages in reading order, each with its place."""
        paper = self.service.paper(reference)
        doc = self.store.fulltext.get(paper.id)
        if doc is None:
            raise NotFound(f"{paper.label} has no full text: add one with 'paperbot fulltext add'")
        return paper, [
            Passage(
                text=r.text, paper_id=paper.id, section=r.section, page=r.page, link=place_link(paper, doc, r)
            )
            for r in self.store.fulltext.passages(paper.id)
        ]
