"""Embed builders are pure: any paper, answer or list renders within every limit and pings nobody."""

from __future__ import annotations

import datetime as dt
import re

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import links
from bot.chat.dialogue import Notice
from bot.discord import embeds
from bot.discord.embeds import (
    DESCRIPTION,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS,
    FOOTER,
    MESSAGE,
    TITLE,
    TOTAL,
    URL,
)
from bot.models import Answer, Paper, Passage, SearchHit

HOSTILE = [
    "@everyone",
    "@here",
    "<@123>",
    "<@!12345678901234567>",
    "<@&456>",
    "<#789>",
    "**",
    "__",
    "`",
    "```",
    "||",
    "~~",
    "\n> ",
    "\n# ",
    "\n- ",
    "[click](https://evil.example)",
    r"$\mathcal{O}(n^2)$",
    r"\emph{x}",
    "\\",
    "\n",
    "é",
    "🦜",
]
PINGS = re.compile(r"<@[!&]?\d+>|<#\d+>|@everyone|@here")

hostile = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE)), max_size=40).map("".join)
long_text = st.one_of(hostile, st.text(min_size=1000, max_size=6000), hostile.map(lambda t: t * 30))
names = st.one_of(hostile, st.text(min_size=1, max_size=120))


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    title = draw(st.one_of(st.none(), long_text, hostile))
    return Paper(
        id=draw(st.text("0123456789abcdef", min_size=12, max_size=12)),
        title=title or None,
        authors=draw(st.lists(names, max_size=50)),
        et_al=draw(st.booleans()),
        orgs=draw(st.lists(names, max_size=5)),
        categories=draw(st.lists(st.sampled_from(["cs.LG", "cs.CL", "stat.ML"]), max_size=2)),
        date=draw(st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)))),
        has_code=draw(st.booleans()),
        abstract=draw(long_text),
        arxiv_id=draw(st.one_of(st.none(), st.just("2401.12345"))),
    )


def check(embed: discord.Embed) -> None:
    assert len(embed) <= TOTAL
    assert len(embed.title or "") <= TITLE
    assert len(embed.description or "") <= DESCRIPTION
    assert len(embed.fields) <= FIELDS
    for field in embed.fields:
        assert 0 < len(field.name or "") <= FIELD_NAME
        assert 0 < len(field.value or "") <= FIELD_VALUE
    assert len(embed.footer.text or "") <= FOOTER
    assert len(embed.url or "") <= URL
    texts = [embed.title, embed.description, embed.footer.text]
    texts += [t for f in embed.fields for t in (f.name, f.value)]
    for text in filter(None, texts):
        assert not PINGS.search(text), text


fast = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@fast
@given(papers())
def test_any_paper_renders_within_limits(paper: Paper) -> None:
    check(embeds.paper_embed(paper))
    check(embeds.citation_embed(paper, links.bibtex(paper), links.reference(paper)))


@fast
@given(hostile, st.lists(papers(), max_size=25))
def test_any_list_renders_within_limits(heading: str, found: list[Paper]) -> None:
    pages = embeds.list_pages(heading, found, empty=heading)
    for page in pages:
        check(page)
    if found:
        entries = sum(len((p.description or "").splitlines()) for p in pages)
        assert entries == len(found)  # nothing lost between pages


@fast
@given(
    st.lists(papers(), max_size=6),
    st.lists(long_text, max_size=4),
    st.one_of(st.none(), hostile),
    hostile,
)
def test_any_answer_renders_within_limits(
    found: list[Paper], passages: list[str], heading: str | None, question: str
) -> None:
    answer = Answer(
        intent="question",
        query=question,
        text="",
        hits=[SearchHit(paper=p, score=1.0) for p in found],
        passages=[Passage(text=s, paper_id="p") for s in passages],
        heading=heading or None,
        empty_reason=question or None,
    )
    for page in embeds.answer_pages(answer):
        check(page)


@fast
@given(hostile)
def test_notices_and_messages_are_inert(text: str) -> None:
    check(embeds.reply_pages(Notice(text=text))[0])
    message = embeds.message_text(text)
    assert len(message) <= MESSAGE and not PINGS.search(message)


def test_markdown_in_paper_text_is_escaped() -> None:
    paper = Paper(id="x", title="**Bold** _claims_ about ~~LLMs~~", abstract="`code` and || spoilers ||")
    embed = embeds.paper_embed(paper)
    assert embed.title == r"\*\*Bold\*\* \_claims\_ about \~\~LLMs\~\~"
    assert embed.description == r"\`code\` and \|\| spoilers \|\|"


def test_fifty_authors_fit_in_the_authors_field() -> None:
    paper = Paper(id="x", title="T", authors=[f"Author Number{i} With A Long Name" for i in range(50)])
    field = embeds.paper_embed(paper).fields[0]
    assert field.name == "Authors" and len(field.value) <= FIELD_VALUE and field.value.endswith("…")


def test_list_entries_link_their_titles() -> None:
    paper = Paper(id="x", title="A [bracketed] title", authors=["A. Person"], arxiv_id="2401.12345")
    [page] = embeds.list_pages("Results", [paper])
    assert page.description.startswith("**1.** [A (bracketed) title](https://arxiv.org/abs/2401.12345)")


def test_help_lists_every_slash_command() -> None:
    embed = embeds.help_embed()
    check(embed)
    names = " ".join(f.name for f in embed.fields)
    for command in ("/ask", "/search", "/paper", "/author", "/recent", "/similar", "/cite", "/stats"):
        assert command in names


def test_fit_trims_an_oversized_embed() -> None:
    embed = discord.Embed(title="t", description="d" * 4000)
    for i in range(25):
        embed.add_field(name=f"f{i}", value="v" * 1000)
    check(embeds.fit(embed))
