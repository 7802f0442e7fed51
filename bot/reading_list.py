"""A channel's reading list: papers saved by anyone there (``/save``, a 🔖 reaction, ``paperbot
save``), exported as BibTeX or Markdown; a saved paper that gets a new arXiv version is announced
once in the channel, with what changed in its abstract."""

from __future__ import annotations

import difflib

from pydantic import BaseModel

from bot.answer import byline
from bot.links import bibtex
from bot.models import Paper
from bot.sentences import split_sentences
from bot.service import PaperService


class SavedPaper(BaseModel):
    paper: Paper
    user: int | None
    saved_at: str

    def to_json(self) -> dict[str, object]:
        p = self.paper
        return {
            "id": p.id,
            "arxiv_id": p.arxiv_id,
            "title": p.label,
            "authors": p.authors,
            "date": p.date.isoformat() if p.date else None,
            "links": p.links,
            "saved_by": self.user,
            "saved_at": self.saved_at,
        }


class NewVersion(BaseModel):
    channel: int
    paper: Paper
    old_version: int | None
    added: list[str]  # sentences of the new abstract that the saved one lacked
    removed: list[str]


class ReadingList:
    def __init__(self, service: PaperService) -> None:
        self.service = service
        self.store = service.store
        self.rows = service.store.team

    def save(self, channel: int, reference: str, user: int | None = None) -> tuple[Paper, bool]:
        """Save a paper (id, arXiv id or title, as /paper reads them); True when it is new here."""
        paper = self.service.paper(reference)
        return paper, self.save_paper(channel, paper, user)

    def save_paper(self, channel: int, paper: Paper, user: int | None = None) -> bool:
        with self.store.atomic():
            return self.rows.save(channel, paper.id, user, paper.version, paper.abstract)

    def remove(self, channel: int, reference: str) -> bool:
        paper = self.service.paper(reference)
        with self.store.atomic():
            return self.rows.unsave(channel, paper.id)

    def entries(self, channel: int) -> list[SavedPaper]:
        rows = self.rows.reading_list(channel)
        papers = {p.id: p for p in self.store.get_papers([r.paper_id for r in rows])}
        return [
            SavedPaper(paper=papers[r.paper_id], user=r.user_id, saved_at=r.saved_at)
            for r in rows
            if r.paper_id in papers
        ]

    def new_versions(self) -> list[NewVersion]:
        """Saved papers whose arXiv version grew since the channel last saw them, each reported
        once (the row moves to the new version in the same step, so a second process skips it)."""
        rows = self.rows.reading_list()
        papers = {p.id: p for p in self.store.get_papers({r.paper_id for r in rows})}
        found = []
        for row in rows:
            paper = papers.get(row.paper_id)
            if (
                paper is None
                or paper.version is None
                or (row.version is not None and paper.version <= row.version)
            ):
                continue
            if row.version is None and paper.abstract == row.abstract:
                with self.store.atomic():  # first seen with a version: nothing to announce
                    self.rows.seen_version(row.channel_id, row.paper_id, paper.version, paper.abstract)
                continue
            with self.store.atomic():
                if not self.rows.seen_version(row.channel_id, row.paper_id, paper.version, paper.abstract):
                    continue
            added, removed = abstract_changes(row.abstract, paper.abstract)
            found.append(
                NewVersion(
                    channel=row.channel_id, paper=paper, old_version=row.version, added=added, removed=removed
                )
            )
        return found


def abstract_changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """Sentences added to and removed from an abstract."""
    before, after = list(split_sentences(old)), list(split_sentences(new))
    added, removed = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += before[i1:i2]
        if tag in ("replace", "insert"):
            added += after[j1:j2]
    return added, removed


def as_bibtex(entries: list[SavedPaper]) -> str:
    return "\n\n".join(bibtex(e.paper) for e in entries) + ("\n" if entries else "")


def as_markdown(entries: list[SavedPaper], heading: str = "Reading list") -> str:
    lines = [f"# {heading}", ""]
    for n, entry in enumerate(entries, 1):
        p = entry.paper
        link = p.links.get("abs") or next(iter(p.links.values()), "")
        when = p.date.isoformat() if p.date else "undated"
        lines.append(f"{n}. [{p.label}]({link}) — {byline(p)} ({when}); saved {entry.saved_at[:10]}")
    return "\n".join(lines) + "\n"
