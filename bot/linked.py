"""Answers to messages that link arXiv papers: one compact card per paper, best first."""

from __future__ import annotations

from pydantic import BaseModel

from bot.answer import byline, meta_line, one_line
from bot.models import Answer, Paper, Passage, SearchHit


class LinkedPapers(BaseModel):
    papers: list[Paper]  # in the order the message mentions them
    missing: list[str] = []  # arXiv ids found neither in the corpus nor on arXiv
    problem: str | None = None  # why arXiv could not be asked, when it could not


def missing_line(linked: LinkedPapers) -> str | None:
    """One line for the ids with no paper: arXiv unreachable, or unknown to arXiv."""
    if not linked.missing:
        return None
    ids = ", ".join(linked.missing)
    if linked.problem:
        return f"Could not reach arXiv to look up {ids} ({linked.problem})."
    return f"arXiv has no paper {ids}."


def card_lines(paper: Paper) -> list[str]:
    links = " | ".join(f"{name}: {url}" for name, url in list(paper.links.items())[:3])
    return [f"**{paper.label}**", f"{byline(paper, 6)} · {meta_line(paper)}", f"> {one_line(paper)}", links]


def link_answer(question: str, linked: LinkedPapers) -> Answer:
    lines: list[str] = []
    for paper in linked.papers:
        lines += [*card_lines(paper), ""]
    if note := missing_line(linked):
        lines.append(note)
    return Answer(
        intent="link",
        query=question,
        text="\n".join(lines).strip(),
        hits=[SearchHit(paper=p, score=1.0) for p in linked.papers],
        passages=[Passage.from_abstract(p, one_line(p)) for p in linked.papers[:1]],
        empty_reason=None if linked.papers else missing_line(linked),
    )
