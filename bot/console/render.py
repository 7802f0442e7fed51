"""Replies as terminal text: styled lines with an indent, printed by ``bot.console.chat``.

A renderer returns ``(indent, Text)`` lines rather than printing, so the console can wrap them
with a hanging indent on a terminal and print them plainly (no styles, no wrapping) when piped.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from bot.answer import NEAREST, byline, meta_line, one_line, passage_source
from bot.chat.commands import COMMANDS, FOLLOW_UPS
from bot.chat.dialogue import (
    AnswerReply,
    CitationReply,
    HelpReply,
    ListReply,
    Notice,
    PaperReply,
    Reply,
    StatsReply,
    rewritten_summary,
)
from bot.links import named_links, primary_link
from bot.models import Paper, Passage

Line = tuple[int, Text]
QUOTE_BAR = "│ "  # starts a quoted passage; the console repeats it on wrapped lines
MAX_AUTHORS_SHOWN = 20


def render(reply: Reply) -> list[Line]:
    match reply:
        case AnswerReply():
            return _answer(reply)
        case ListReply():
            return _list(reply.heading, reply.papers, reply.empty)
        case PaperReply():
            return _paper(reply.paper)
        case CitationReply():
            return _citation(reply)
        case StatsReply():
            return _stats(reply)
        case HelpReply():
            return _help()
        case Notice():
            return [(0, Text(reply.text, style="yellow" if reply.error else ""))]
    raise TypeError(f"cannot render {type(reply).__name__}")


def follow_up_hint() -> Line:
    examples = ", ".join(f"“{f}”" for f in FOLLOW_UPS)
    return (0, Text(f"Follow up with {examples}.", style="dim"))


def _line(text: str, style: str = "", indent: int = 0) -> Line:
    return (indent, Text(text, style=style))


def _item(n: int, paper: Paper, detail: str | None = None) -> list[Line]:
    head = Text.assemble((f"{n}. ", "bold"), (paper.label, "bold cyan"))
    lines = [(0, head), _line(f"{byline(paper)} · {meta_line(paper)}", "dim", 3)]
    if detail:
        lines.append(_line(detail, "", 3))
    return lines


def _answer(reply: AnswerReply) -> list[Line]:
    answer = reply.answer
    lines: list[Line] = []
    if summary := rewritten_summary(answer):
        lines += [_line(summary), _line("")]
    if not answer.hits:
        return [*lines, _line(answer.empty_reason or "No paper matches that.", "yellow")]
    if not answer.answered:
        lines.append(_line(answer.empty_reason or "No paper in the library answers that.", "yellow"))
        return lines + _list(NEAREST, [h.paper for h in answer.hits], "")
    if answer.intent == "compare":
        lines.append(_line(answer.heading or "Comparing", "bold"))
        for hit in answer.hits:
            lines += _headed(hit.paper, [q for q in answer.passages if q.paper_id == hit.paper.id])
        return lines + [_line(note) for note in answer.notes]
    if answer.heading:
        return lines + _list(answer.heading, [h.paper for h in answer.hits], "")
    best = answer.hits[0].paper
    lines += _headed(best, answer.passages, [h.paper for h in answer.hits], answer.notes)
    if len(answer.hits) > 1:
        lines += [_line(""), _line("Also relevant:", "bold")]
        for n, hit in enumerate(answer.hits[1:], 2):
            lines += _item(n, hit.paper, one_line(hit.paper, 140))
    return lines


def _headed(
    paper: Paper, passages: list[Passage], others: Sequence[Paper] = (), notes: Sequence[str] = ()
) -> list[Line]:
    """A paper's title and byline, notes, its quoted passages (a passage from another paper or
    from the body says where it is from), and its link."""
    lines = [
        (0, Text(paper.label, style="bold cyan")),
        _line(f"{byline(paper, 6)} · {meta_line(paper)}", "dim"),
    ]
    lines += [_line(note, "", 2) for note in notes]
    for passage in passages:
        where = passage_source(passage, paper, others)
        lines.append(
            (
                2,
                Text.assemble(
                    (QUOTE_BAR, "green"), (f"({where}) " if where else "", "dim"), (passage.text, "italic")
                ),
            )
        )
    lines.append(_line(primary_link(paper), "blue", 2))
    return lines


def _list(heading: str, papers: list[Paper], empty: str) -> list[Line]:
    if not papers:
        return [_line(empty or "No paper matches that.", "yellow")]
    lines = [_line(heading, "bold")]
    for n, paper in enumerate(papers, 1):
        lines += _item(n, paper)
    return lines


def _paper(paper: Paper) -> list[Line]:
    names = paper.authors[:MAX_AUTHORS_SHOWN]
    more = paper.et_al or len(paper.authors) > MAX_AUTHORS_SHOWN
    authors = ", ".join(names) + (" et al." if more else "") if names else "unknown authors"
    lines = [(0, Text(paper.label, style="bold cyan")), _line(authors), _line(meta_line(paper), "dim")]
    if paper.orgs:
        lines.append(_line(", ".join(paper.orgs), "dim"))
    if paper.abstract:
        lines += [_line(""), _line(paper.abstract, "", 2)]
    lines.append(_line(""))
    lines += [(2, Text.assemble((f"{name}: ", "bold"), (url, "blue"))) for name, url in named_links(paper)]
    return lines


def _citation(reply: CitationReply) -> list[Line]:
    lines = [_line(line, "green") for line in reply.bibtex.splitlines()]
    return [*lines, _line(""), _line(reply.reference)]


def _stats(reply: StatsReply) -> list[Line]:
    s = reply.stats
    categories = " · ".join(f"{name} {count}" for name, count in list(s.categories.items())[:12])
    lines = [
        _line(f"{s.papers} papers · {s.authors} authors · {s.untitled} untitled", "bold"),
        _line(f"Categories: {categories}" if categories else "Categories: none yet"),
        _line(f"Last ingest: {s.last_ingest or 'never'}", "dim"),
    ]
    if s.last_digest:
        lines.append(_line(f"Last digest: {s.last_digest}", "dim"))
    return lines


def _help() -> list[Line]:
    lines = [_line("Ask about papers in plain words, or use a command:", "bold"), _line("")]
    for spec in COMMANDS.values():
        lines.append((0, Text.assemble((spec.usage, "bold"), "  ", (spec.summary, ""))))
        if spec.examples:
            lines.append(_line("e.g. " + "   ".join(spec.examples), "dim", 4))
    lines += [
        _line(""),
        _line("After a list, pick a result: " + ", ".join(f"“{f}”" for f in FOLLOW_UPS) + "."),
        _line("/quit (or Ctrl-D) leaves.", "dim"),
    ]
    return lines
