"""Pure builders: answers, papers and lists -> ``discord.Embed`` within every Discord limit.

No client, no I/O: each function takes models and returns embeds, so tests can check the
limits directly. Paper and user text is escaped (markdown, mentions) before it goes in.
"""

from __future__ import annotations

import re

import discord

from bot.answer import NEAREST, byline, meta_line, one_line, source_name
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
from bot.fulltext.library import FullText
from bot.links import named_links, primary_link
from bot.models import Answer, IngestReport, Paper, Passage, Stats
from bot.trend import Trend

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
MESSAGE = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
TOTAL = 6000
URL = 2048
CHOICES = 25
CHOICE_NAME = 100
# Our own budgets, under the limits, so that a page leaves room for its title and footer.
PAGE_TEXT = 3800
PER_PAGE = 10
ENTRY = 600

COLOUR = discord.Colour.from_rgb(88, 101, 242)
MUTED = discord.Colour.light_grey()

_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)")
_BLOCK_START = re.compile(r"^(#{1,3} |>|-# |[-*+] |\d+\. )")


# -- text helpers --------------------------------------------------------------------------
def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def inert(text: str) -> str:
    """No mention that resolves: ``@everyone``, ``<@123>``, ``<@&456>``, ``<#789>`` get a zero-width space."""
    return _EVERYONE.sub("@\u200b\\1", _MENTION.sub("<\u200b\\1\\2>", text))


def safe(text: str) -> str:
    """Paper or user text made inert: one line, markdown escaped, no mention that resolves."""
    text = inert(discord.utils.escape_markdown(" ".join(text.split())))
    return _BLOCK_START.sub(r"\\\1", text)


def _label(text: str, limit: int) -> str:
    """Safe text for inside ``[...](url)``: brackets would end the link early."""
    return safe(clip(text.replace("[", "(").replace("]", ")"), limit))


def _link(text: str, url: str, limit: int) -> str:
    label = _label(text, limit)
    return f"[{label}]({url})" if len(url) <= URL and " " not in url else label


def _links_line(paper: Paper, limit: int = FIELD_VALUE) -> str:
    line = ""
    for name, url in named_links(paper):
        part = f"[{name}]({url})"
        if len(url) > URL or len(line) + len(part) + 3 > limit:
            continue
        line = f"{line} · {part}" if line else part
    return line


def _url(paper: Paper) -> str | None:
    url = primary_link(paper)
    return url if len(url) <= URL else None


def fit(embed: discord.Embed) -> discord.Embed:
    """Last guard: drop trailing fields, then shorten the description, until the embed fits."""
    while len(embed) > TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > TOTAL and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - (len(embed) - TOTAL)))
    return embed


def _embed(
    title: str | None, description: str = "", colour: discord.Colour = COLOUR, url: str | None = None
) -> discord.Embed:
    """An embed; ``title`` and ``description`` must already be safe text."""
    return discord.Embed(
        title=clip(title, TITLE) if title else None,
        description=clip(description, DESCRIPTION) or None,
        colour=colour,
        url=url,
    )


# -- builders ------------------------------------------------------------------------------
def entry(n: int, paper: Paper) -> str:
    """One line of a list: number, linked title, authors, date and category."""
    return f"**{n}.** {_link(paper.label, primary_link(paper), 200)} — {safe(clip(byline(paper), 200))} · {meta_line(paper)}"


def list_pages(heading: str, papers: list[Paper], empty: str = "Nothing found.") -> list[discord.Embed]:
    """Numbered entries split into pages of at most ``PER_PAGE`` entries and ``PAGE_TEXT`` characters."""
    title = clip(safe(heading), TITLE)
    if not papers:
        return [_embed(title, safe(empty), MUTED)]
    chunks: list[list[str]] = [[]]
    for n, paper in enumerate(papers, 1):
        line = entry(n, paper)
        if len(line) > ENTRY:  # a huge title: no link rather than a link cut in half
            line = _plain_entry(n, paper)
        if len(chunks[-1]) >= PER_PAGE or sum(len(x) + 1 for x in chunks[-1]) + len(line) > PAGE_TEXT:
            chunks.append([])
        chunks[-1].append(line)
    pages = [_embed(title, "\n".join(chunk)) for chunk in chunks]
    if len(pages) > 1:
        for i, page in enumerate(pages, 1):
            page.set_footer(text=f"Page {i}/{len(pages)} · {len(papers)} papers")
    return [fit(p) for p in pages]


def _plain_entry(n: int, paper: Paper) -> str:
    return clip(f"**{n}.** {safe(clip(paper.label, 300))} — {safe(clip(byline(paper), 200))}", ENTRY)


def _place(passage: Passage) -> str:
    """ " — §4 Experimental setup, p. 3" linked to the place, for a full-text passage."""
    if not passage.place:
        return ""
    place = safe(clip(passage.place, 120))
    return f" — [{place}]({passage.link})" if passage.link else f" — {place}"


def answer_pages(answer: Answer) -> list[discord.Embed]:
    """The best paper with the passages that answer, then the other relevant papers as fields."""
    summary = rewritten_summary(answer)
    if answer.hits and not answer.answered:
        pages = list_pages(NEAREST, [h.paper for h in answer.hits])
        pages[0].description = safe(answer.empty_reason or "") + "\n\n" + (pages[0].description or "")
        return [fit(p) for p in pages]
    if answer.intent == "compare" and answer.hits:
        return [fit(compare_embed(answer))]
    if answer.hits and answer.heading:
        pages = list_pages(answer.heading, [h.paper for h in answer.hits])
        if summary:
            pages[0].description = clip(safe(summary), 1000) + "\n\n" + (pages[0].description or "")
        return [fit(p) for p in pages]
    if not answer.hits:
        return [_embed("No answer", safe(answer.empty_reason or "No paper matches that."), MUTED)]
    best = answer.hits[0].paper
    head = f"{safe(clip(byline(best, 6), 500))} · {meta_line(best)}"
    links = _links_line(best, 900)
    others = [h.paper for h in answer.hits]
    notes = "\n".join(safe(note) for note in answer.notes)

    quotes = "\n".join(
        f"> {f'({safe(name)}) ' if (name := source_name(p, best, others)) else ''}{safe(p.text)}{_place(p)}"
        for p in answer.passages
    )
    head = f"{head}\n{notes}" if notes else head
    prose = clip(safe(summary), 1500) + "\n\n" if summary else ""
    room = DESCRIPTION - len(prose) - len(head) - len(links) - 10
    body = clip(quotes, max(room, 0))
    description = "\n\n".join(part for part in [prose.strip(), head, body, links] if part)
    embed = _embed(safe(best.label), description, url=_url(best))
    for n, hit in enumerate(answer.hits[1:FIELDS], 2):
        p = hit.paper
        value = f"{safe(clip(byline(p), 200))} · {meta_line(p)}\n{safe(one_line(p, 300))}"
        link = _links_line(p, 300).split(" · ")[0]
        embed.add_field(
            name=clip(f"{n}. {safe(p.label)}", FIELD_NAME),
            value=clip(value, FIELD_VALUE - len(link) - 1) + (f"\n{link}" if link else ""),
            inline=False,
        )
    hint = ", ".join(f"“{f}”" for f in FOLLOW_UPS) if len(answer.hits) > 1 else "“cite it”, “similar to it”"
    embed.set_footer(text=f"Follow up: {hint}")
    return [fit(embed)]


def compare_embed(answer: Answer) -> discord.Embed:
    """Two papers side by side: a field each with what it does, then what they share."""
    embed = _embed(safe(answer.heading or "Comparing"), "\n".join(safe(n) for n in answer.notes))
    for hit in answer.hits[:2]:
        p = hit.paper
        said = " ".join(q.text for q in answer.passages if q.paper_id == p.id)
        link = _links_line(p, 300).split(" · ")[0]
        value = f"{safe(clip(byline(p), 200))} · {meta_line(p)}\n> {safe(clip(said, 600))}"
        embed.add_field(
            name=clip(safe(p.label), FIELD_NAME),
            value=clip(value, FIELD_VALUE - len(link) - 1) + (f"\n{link}" if link else ""),
            inline=False,
        )
    return embed


def fulltext_pages(texts: list[FullText]) -> list[discord.Embed]:
    """The papers with a full text: kind, pages, passages and when it was added."""
    if not texts:
        return [
            _embed(
                "Full texts", "No full text yet: `paperbot fulltext add REF FILE` or `fulltext fetch`.", MUTED
            )
        ]
    lines = [
        f"**{n}.** {_link(t.paper.label, primary_link(t.paper), 200)} — {t.kind}"
        + (f", {t.pages} p." if t.pages else "")
        + f", {t.passages} passages, added {t.added_at[:10]}"
        for n, t in enumerate(texts, 1)
    ]
    pages = [
        _embed(f"Full texts ({len(texts)})", "\n".join(lines[i : i + PER_PAGE]))
        for i in range(0, len(lines), PER_PAGE)
    ]
    return [fit(p) for p in pages]


def fulltext_outline(paper: Paper, passages: list[Passage]) -> discord.Embed:
    """A paper's full text as its sections, each with the page it starts on, linked to the place."""
    first: dict[str, Passage] = {}
    for passage in passages:
        first.setdefault(passage.section, passage)
    lines = [
        f"{_link(section, p.link, 120) if p.link else safe(clip(section, 120))}"
        + (f" — p. {p.page}" if p.page else "")
        for section, p in first.items()
    ]
    embed = _embed(safe(paper.label), clip("\n".join(lines), DESCRIPTION), url=_url(paper))
    embed.set_footer(text=f"{len(passages)} passages · ask about it and the answer quotes them")
    return fit(embed)


MAX_EMBEDS = 10  # per message


def link_cards(answer: Answer, shared: dict[str, str] | None = None) -> list[discord.Embed]:
    """One compact card per linked paper (title, authors, date, one sentence, links), with when
    it was shared before in this server; a line for links that found no paper."""
    cards = []
    for hit in answer.hits[:MAX_EMBEDS]:
        p = hit.paper
        parts = [
            f"{safe(clip(byline(p, 6), 500))} · {meta_line(p)}",
            f"> {safe(one_line(p, 400))}",
            _links_line(p, 900),
        ]
        if shared and p.id in shared:
            parts.append(shared[p.id])
        cards.append(fit(_embed(safe(p.label), "\n".join(part for part in parts if part), url=_url(p))))
    if not cards:
        return [_embed("No paper for that link", safe(answer.text or answer.empty_reason or ""), MUTED)]
    return cards


def paper_embed(paper: Paper) -> discord.Embed:
    """One paper in full: abstract, every author (within limits), date, category, links."""
    embed = _embed(safe(paper.label), clip(safe(paper.abstract) or "No abstract.", 3000), url=_url(paper))
    authors = ", ".join(paper.authors) + (" et al." if paper.et_al else "")
    embed.add_field(name="Authors", value=clip(safe(authors) or "unknown", FIELD_VALUE), inline=False)
    embed.add_field(name="Date", value=paper.date.isoformat() if paper.date else "undated")
    category = paper.categories[0] if paper.categories else paper.category
    embed.add_field(name="Category", value=clip(safe(category or "") or "unknown", 100))
    embed.add_field(name="Code", value="yes" if paper.has_code else "not listed")
    if orgs := safe(", ".join(o for o in paper.orgs if o.strip())):  # Discord refuses empty fields
        embed.add_field(name="Organisations", value=clip(orgs, FIELD_VALUE), inline=False)
    if links := _links_line(paper):
        embed.add_field(name="Links", value=links, inline=False)
    return fit(embed)


def citation_embed(paper: Paper, bibtex: str, reference: str) -> discord.Embed:
    """BibTeX in a code block (fences in paper text neutralised) and a plain-text reference."""
    code = clip(inert(bibtex.replace("```", "`\u200b`\u200b`")), 3000)
    body = f"```bibtex\n{code}\n```\n{clip(safe(reference), 900)}"
    return fit(_embed(f"Cite: {clip(safe(paper.label), 200)}", body, url=_url(paper)))


def stats_embed(stats: Stats) -> discord.Embed:
    embed = _embed("What the library holds")
    embed.add_field(name="Papers", value=str(stats.papers))
    embed.add_field(name="Authors", value=str(stats.authors))
    embed.add_field(name="Untitled", value=str(stats.untitled))
    top = "\n".join(f"{safe(name)} — {count}" for name, count in list(stats.categories.items())[:20])
    embed.add_field(name="Categories", value=clip(top or "none yet", FIELD_VALUE), inline=False)
    embed.add_field(name="Last ingest", value=stats.last_ingest or "never")
    embed.add_field(name="Last digest", value=stats.last_digest or "never")
    return fit(embed)


def trend_embed(trend: Trend) -> discord.Embed:
    """The counts behind a /trend chart (the chart is attached to the same message)."""
    if not trend.counts:
        return _embed(f"Papers on “{clip(trend.topic, 200)}”", "No paper in the library mentions that.")
    lines = [f"`{c.period}` {c.n}" for c in trend.counts]
    embed = _embed(
        f"Papers on “{clip(trend.topic, 200)}” per {trend.by}",
        clip(" · ".join(lines), DESCRIPTION - 100) + f"\n**{trend.total} papers**",
    )
    return fit(embed)


def help_embed() -> discord.Embed:
    embed = _embed(
        "What I can do",
        "Ask about papers in plain words: mention me with a question, or DM me. "
        "In channels where an admin turned free text on, just write.\n"
        "e.g. *@paperbot what is GKD?* · *papers by Sarah Perrin* · *latest on mean field games*",
    )
    for spec in COMMANDS.values():
        embed.add_field(name=spec.slash, value=spec.summary, inline=False)
    embed.add_field(
        name="Follow-ups",
        value="After an answer or a list, in the same channel: " + ", ".join(f"“{f}”" for f in FOLLOW_UPS),
        inline=False,
    )
    embed.add_field(name="Admins", value="/ingest reloads the seed papers; /freetext on|off per channel.")
    return fit(embed)


def ingest_embed(report: IngestReport) -> discord.Embed:
    lines = [safe(str(s)) for s in report.skipped[:10]]
    more = f"\n… and {len(report.skipped) - 10} more" if len(report.skipped) > 10 else ""
    skipped = "\n".join(lines) + more
    return fit(_embed("Ingest finished", report.summary() + (f"\n\nSkipped:\n{skipped}" if skipped else "")))


def reply_pages(reply: Reply) -> list[discord.Embed]:
    """Any dialogue reply as embeds (free text in Discord)."""
    match reply:
        case AnswerReply():
            return answer_pages(reply.answer)
        case ListReply():
            return list_pages(reply.heading, reply.papers, reply.empty)
        case PaperReply():
            return [paper_embed(reply.paper)]
        case CitationReply():
            return [citation_embed(reply.paper, reply.bibtex, reply.reference)]
        case StatsReply():
            return [stats_embed(reply.stats)]
        case HelpReply():
            return [help_embed()]
        case Notice():
            return [_embed(None, safe(reply.text), MUTED)]
    raise TypeError(f"cannot render {type(reply).__name__}")


def message_text(text: str) -> str:
    """Plain message content: escaped and within the 2000-character limit."""
    return clip(safe(text), MESSAGE)


def choice_name(text: str) -> str:
    """An autocomplete choice label: one line, at most 100 characters."""
    return clip(" ".join(text.split()), CHOICE_NAME) or "untitled"
