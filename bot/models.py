"""Pydantic models at the boundaries of the core: papers, hits, answers, reports."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from bot import links as paper_links
from bot.text import key

# The two-letter subject codes of the scraped listings, mapped to arXiv categories.
SUBJECT_CATEGORIES = {
    "AI": "cs.AI",
    "CL": "cs.CL",
    "CR": "cs.CR",
    "CV": "cs.CV",
    "CY": "cs.CY",
    "DS": "cs.DS",
    "GT": "cs.GT",
    "HC": "cs.HC",
    "IR": "cs.IR",
    "IT": "cs.IT",
    "LG": "cs.LG",
    "MA": "cs.MA",
    "NE": "cs.NE",
    "RO": "cs.RO",
    "SD": "cs.SD",
    "SE": "cs.SE",
    "ML": "stat.ML",
    "ST": "stat.ME",
    "NC": "q-bio.NC",
    "OC": "math.OC",
    "PR": "math.PR",
    "PM": "q-fin.PM",
    "AS": "eess.AS",
    "IV": "eess.IV",
    "SY": "eess.SY",
}

_FIRST_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)")
# "we introduce Reverb: ...", "we present RLDS (...)": a system named where it is introduced.
_NAMED_SYSTEM = re.compile(r"\b(?:introduce|present|propose|describe)s?\s+([A-Z][\w-]+(?=[:,(]| \().*)")


def paper_id(title: str | None, abstract: str) -> str:
    """Stable id: from the folded title, or from the abstract's start for untitled papers."""
    basis = key(title) if title else "abstract:" + key(abstract)[:300]
    return hashlib.sha1(basis.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=1 << 18)
def author_key(name: str) -> str:
    """Author identity: accent-folded, case-folded words ('Julien Pérolat' == 'julien perolat').
    Memoised: names repeat across papers, and an ingest and an index build key every one."""
    return key(name)


class Paper(BaseModel):
    """One paper, merged from every source that mentioned it."""

    model_config = ConfigDict(frozen=False, extra="ignore")

    id: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    et_al: bool = False
    orgs: list[str] = Field(default_factory=list)
    category: str | None = None
    categories: list[str] = Field(default_factory=list)
    date: dt.date | None = None
    updated: dt.date | None = None
    has_code: bool = False
    abstract: str = ""
    # Other versions of the abstract seen in sources: kept so they stay searchable.
    other_abstracts: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    arxiv_id: str | None = None
    version: int | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """What to call the paper: its title, or a name drawn from its abstract."""
        return self.title or untitled_label(self.abstract)

    @property
    def name(self) -> str:
        """The name a title gives itself before its colon ("WARM", "Gemma 2"), else the label."""
        return self.label.split(":")[0]

    @property
    def links(self) -> dict[str, str]:
        return paper_links.links_for(self.label, self.arxiv_id, self.version)

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape (``paperbot list --json``)."""
        data = self.model_dump(mode="json")
        data["links"] = self.links
        if self.arxiv_id:
            data["bibtex"] = paper_links.bibtex(self)
        return data


def untitled_label(abstract: str) -> str:
    """Name an untitled paper from its abstract: a named system ("RLDS") or its first sentence."""
    match = _NAMED_SYSTEM.search(abstract[:600])
    text = match.group(1) if match else abstract
    first = _FIRST_SENTENCE.match(text)
    sentence = first.group(1) if first else text
    if len(sentence) > 100:
        sentence = sentence[:97].rsplit(" ", 1)[0].rstrip(",;:") + "..."
    return sentence


class Skipped(BaseModel):
    """An input record that could not be used, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    new_ids: list[str] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped ({len(self.files)} files)"
        )


class SearchHit(BaseModel):
    """A paper found for a query, with its fused score."""

    paper: Paper
    score: float

    def to_json(self) -> dict[str, Any]:
        p = self.paper
        return {
            "id": p.id,
            "title": p.title,
            "label": p.label,
            "authors": p.authors,
            "et_al": p.et_al,
            "abstract": p.abstract,
            "category": p.category,
            "categories": p.categories,
            "date": p.date.isoformat() if p.date else None,
            "has_code": p.has_code,
            "arxiv_id": p.arxiv_id,
            "score": round(self.score, 6),
            "links": p.links,
        }


class Passage(BaseModel):
    """A quoted passage and where it is: the abstract, or a section (and page) of the full text."""

    text: str
    paper_id: str
    section: str = "Abstract"
    page: int | None = None
    link: str | None = None  # the place: the abstract page, arxiv.org/html/ID#S3, .../pdf/ID#page=3

    @classmethod
    def from_abstract(cls, paper: Paper, text: str) -> Passage:
        links = paper.links
        return cls(text=text, paper_id=paper.id, link=links.get("abs") or links.get("arxiv_search"))

    @property
    def place(self) -> str:
        """Where a full-text passage is, for people: "§4 Experimental setup, p. 3" ("" for the abstract)."""
        if self.section == "Abstract" and self.page is None:
            return ""
        return ", ".join(filter(None, [f"§{self.section}", f"p. {self.page}" if self.page else ""]))

    def __str__(self) -> str:
        return self.text


class Answer(BaseModel):
    """What the bot says to a free-text request: a summary text plus the papers it cites."""

    intent: str
    query: str
    text: str
    hits: list[SearchHit] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)  # the best paper's sentences that answer
    heading: str | None = None  # e.g. "Papers by Julien Pérolat (6), newest first"
    empty_reason: str | None = None
    # A paper the question named whose abstract does not answer it: its full text would.
    needs_fulltext: str | None = None
    summary: str | None = None  # prose an optional rewriter (bot.rewrite) wrote; ``text`` starts with it
    notes: list[str] = Field(default_factory=list)  # lines after the passages: who wrote it, what two share
    # False when no paper answers: the hits are then the nearest papers, offered as suggestions.
    answered: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "text": self.text,
            "passages": [p.model_dump(mode="json") for p in self.passages],
            "results": [h.to_json() for h in self.hits],
            "answered": self.answered,
        }


class Stats(BaseModel):
    papers: int
    authors: int
    categories: dict[str, int]
    untitled: int
    last_ingest: str | None = None
    last_digest: str | None = None


def author_rows(papers: list[Paper]) -> list[tuple[str, int, str, str]]:
    """(paper id, position, author key, name) of every author: the stores' paper_authors rows."""
    return [(p.id, i, author_key(name), name) for p in papers for i, name in enumerate(p.authors)]
