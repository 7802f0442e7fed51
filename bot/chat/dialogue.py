"""One exchange with the bot: a line of text in, a typed reply out (no Discord, no terminal).

The console chat and Discord free text call :meth:`Dialogue.handle`; slash commands call the
command methods directly. Every reply that shows papers is remembered in the conversation so
that follow-ups ("the second one", "/cite #2") work the same everywhere. Renderers turn the
replies into text (``bot.console.render``) or embeds (``bot.discord.embeds``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Literal

from pydantic import BaseModel

from bot import links
from bot.chat.commands import Command, parse, parse_date, parse_days
from bot.chat.conversation import Conversation, FollowUp, parse_follow_up, parse_reference
from bot.errors import NotFound, PaperbotError, UsageError
from bot.models import Answer, Paper, Stats
from bot.service import PaperService
from bot.text import key as fold

SEARCH_RESULTS = 25
SIMILAR_RESULTS = 5
RECENT_RESULTS = 25


class AnswerReply(BaseModel):
    kind: Literal["answer"] = "answer"
    answer: Answer


class ListReply(BaseModel):
    """A list of papers under a heading (search, author, recent, similar)."""

    kind: Literal["list"] = "list"
    heading: str
    papers: list[Paper]
    empty: str = "Nothing found."


class PaperReply(BaseModel):
    kind: Literal["paper"] = "paper"
    paper: Paper


class CitationReply(BaseModel):
    kind: Literal["cite"] = "cite"
    paper: Paper
    bibtex: str
    reference: str


class StatsReply(BaseModel):
    kind: Literal["stats"] = "stats"
    stats: Stats


class HelpReply(BaseModel):
    kind: Literal["help"] = "help"


class Notice(BaseModel):
    """A short message: an error the user can act on, or information."""

    kind: Literal["notice"] = "notice"
    text: str
    error: bool = True


# How links are called in front of people, in the order they are shown.
def rewritten_summary(answer: Answer) -> str | None:
    """The prose an optional LLM rewriter wrote for the answer (``bot.rewrite``), if any."""
    return answer.summary


def reply_to(answer: Answer) -> AnswerReply | CitationReply:
    """What a free-text answer shows: BibTeX for "cite X", else the answer itself."""
    if answer.intent == "cite" and answer.hits:
        paper = answer.hits[0].paper
        return CitationReply(paper=paper, bibtex=links.bibtex(paper), reference=links.reference(paper))
    return AnswerReply(answer=answer)


Reply = AnswerReply | ListReply | PaperReply | CitationReply | StatsReply | HelpReply | Notice


class Dialogue:
    """Commands over the service, with follow-up memory per context key (channel id, "console")."""

    def __init__(
        self,
        service: PaperService,
        conversation: Conversation | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.service = service
        self.conversation = conversation or Conversation()
        self.today = today

    # -- free text ---------------------------------------------------------------------
    def handle(self, line: str, key: Hashable = "console") -> Reply:
        """Answer one line: a follow-up, a command, or a question. User errors become a Notice."""
        try:
            if follow_up := parse_follow_up(line):
                return self.follow_up(key, follow_up)
            return self.run(key, parse(line))
        except PaperbotError as exc:
            return Notice(text=str(exc))

    def run(self, key: Hashable, command: Command) -> Reply:
        text, opts = command.text, command.options
        match command.name:
            case "ask":
                return self.ask(key, text)
            case "search":
                return self.search(
                    key,
                    text,
                    author=opts.get("author"),
                    category=opts.get("category"),
                    since=parse_date(opts["since"]) if "since" in opts else None,
                    until=parse_date(opts["until"], end=True) if "until" in opts else None,
                )
            case "recent":
                return self.recent(key, text or None, parse_days(opts.get("days", "30")))
            case "paper" | "author" | "similar" | "cite":
                return getattr(self, command.name)(key, text)  # type: ignore[no-any-return]
            case "stats":
                return self.stats()
            case _:
                return HelpReply()

    def follow_up(self, key: Hashable, follow_up: FollowUp) -> Reply:
        paper = self.conversation.resolve(key, follow_up.position)
        if follow_up.action == "cite":
            return self.cite(key, paper.id)
        if follow_up.action == "similar":
            return self.similar(key, paper.id)
        self.conversation.focus(key, paper)
        return PaperReply(paper=paper)

    # -- commands ----------------------------------------------------------------------
    def ask(self, key: Hashable, question: str) -> AnswerReply | CitationReply:
        answer = self.service.ask(question, record=True)
        self.conversation.remember(key, [h.paper for h in answer.hits], question)
        return reply_to(answer)

    def search(
        self,
        key: Hashable,
        query: str,
        author: str | None = None,
        category: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> ListReply:
        hits = self.service.search(
            query, k=SEARCH_RESULTS, author=author, category=category, since=since, until=until
        )
        filters = [
            f"by {author}" if author else "",
            f"in {category}" if category else "",
            f"since {since.isoformat()}" if since else "",
            f"until {until.isoformat()}" if until else "",
        ]
        heading = " ".join(filter(None, [f"Results for “{query}”", *filters]))
        return self._list(key, f"{heading} ({len(hits)})", [h.paper for h in hits], query)

    def paper(self, key: Hashable, reference: str) -> PaperReply:
        paper = self.find(key, reference)
        self.conversation.focus(key, paper)
        return PaperReply(paper=paper)

    def author(self, key: Hashable, name: str) -> ListReply:
        display, papers = self.service.author(name)
        return self._list(key, f"Papers by {display} ({len(papers)}), newest first", papers)

    def recent(self, key: Hashable, category: str | None = None, days: int = 30) -> ListReply:
        today = self.today()
        papers = self.service.recent(category=category, days=days, today=today, k=RECENT_RESULTS)
        where = f" in {category}" if category else ""
        empty = f"No papers{where} in the last {days} days."
        newest = [] if papers else self.service.recent(category, days=36_500, today=today, k=1)
        if newest and newest[0].date:  # say how far back to look
            age = (today - newest[0].date).days + 1
            empty += f" The newest is from {newest[0].date.isoformat()}: try /recent --days {age}."
        return self._list(key, f"Newest papers{where}, last {days} days ({len(papers)})", papers, empty=empty)

    def similar(self, key: Hashable, reference: str) -> ListReply:
        paper = self.find(key, reference)
        hits = [h for h in self.service.similar(paper.id, k=SIMILAR_RESULTS + 1) if h.paper.id != paper.id]
        return self._list(
            key, f"Papers similar to “{paper.label}”", [h.paper for h in hits][:SIMILAR_RESULTS]
        )

    def cite(self, key: Hashable, reference: str) -> CitationReply:
        paper = self.find(key, reference)
        self.conversation.focus(key, paper)
        return CitationReply(paper=paper, bibtex=links.bibtex(paper), reference=links.reference(paper))

    def stats(self) -> StatsReply:
        return StatsReply(stats=self.service.stats())

    # -- helpers -----------------------------------------------------------------------
    def find(self, key: Hashable, reference: str) -> Paper:
        """A paper by earlier position ("#2", "the first one"), id, arXiv id, title or acronym."""
        position = parse_reference(reference)
        if position is not False and (position is None or self.conversation.recall(key)):
            return self.conversation.resolve(key, position)
        if not reference.strip():
            raise UsageError("Which paper? Give a title, or #N for a result of the last list.")
        if paper := self.service.store.get_paper(reference.strip()):  # an id: autocomplete values
            return paper
        # A title typed from its start ("Gemma 2", "WARM") is that title, before any fuzzy guess.
        for label, paper_id in self.service.complete_titles(reference, 1):
            if fold(label).startswith(fold(reference)) and (paper := self.service.store.get_paper(paper_id)):
                return paper
        try:
            return self.service.paper(reference)
        except NotFound:
            # An acronym names a paper ("GKD"), but not by its title: let search find it.
            if self.service.route(reference).intent == "acronym" and (
                hits := self.service.search(reference, k=1)
            ):
                return hits[0].paper
            raise

    def _list(
        self, key: Hashable, heading: str, papers: list[Paper], question: str | None = None, empty: str = ""
    ) -> ListReply:
        self.conversation.remember(key, papers, question)
        return ListReply(heading=heading, papers=papers, empty=empty or "No paper matches that.")
