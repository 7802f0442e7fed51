"""The shared core of the chat and Discord free text: command parsing, follow-ups, the dialogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from seeded import seeded_service

from bot.chat.commands import COMMANDS, parse, parse_date, parse_days
from bot.chat.conversation import Conversation, FollowUp, parse_follow_up, parse_reference
from bot.chat.dialogue import AnswerReply, CitationReply, Dialogue, HelpReply, ListReply, Notice, PaperReply
from bot.errors import UsageError
from bot.models import Paper


def _papers(n: int) -> list[Paper]:
    return [Paper(id=f"p{i}", title=f"Paper {i}") for i in range(1, n + 1)]


# -- follow-ups ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and the second one?", FollowUp("paper", 2)),
        ("the first one", FollowUp("paper", 1)),
        ("more about #3", FollowUp("paper", 3)),
        ("#3", FollowUp("paper", 3)),
        ("2", FollowUp("paper", 2)),
        ("tell me more about the 3rd paper", FollowUp("paper", 3)),
        ("what about number 4?", FollowUp("paper", 4)),
        ("the last one", FollowUp("paper", -1)),
        ("cite the first one", FollowUp("cite", 1)),
        ("bibtex for #2", FollowUp("cite", 2)),
        ("similar to the second one", FollowUp("similar", 2)),
        ("papers like #1, please", FollowUp("similar", 1)),
        ("cite it", FollowUp("cite", None)),
        ("OK, show me that one", FollowUp("paper", None)),
    ],
)
def test_follow_ups_are_recognised(text: str, expected: FollowUp) -> None:
    assert parse_follow_up(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "what is the first paper on mean field games?",
        "papers by Sarah Perrin",
        "similar to WARM",
        "gemma 2",
        "2023",
        "the second law of thermodynamics",
        "/search 2",
    ],
)
def test_questions_are_not_follow_ups(text: str) -> None:
    assert parse_follow_up(text) is None


def test_references_in_command_arguments() -> None:
    assert parse_reference("#2") == 2
    assert parse_reference("the first one") == 1
    assert parse_reference("it") is None
    assert parse_reference("Gemma 2") is False


def test_conversation_resolves_positions_and_explains_mistakes() -> None:
    conversation = Conversation()
    with pytest.raises(UsageError, match="no earlier results"):
        conversation.resolve("c", 1)
    conversation.remember("c", _papers(3))
    assert conversation.resolve("c", 2).id == "p2"
    assert conversation.resolve("c", -1).id == "p3"
    assert conversation.resolve("c", None).id == "p1"
    with pytest.raises(UsageError, match=r"only 3 results \(1-3\)"):
        conversation.resolve("c", 4)
    conversation.focus("c", _papers(3)[2])
    assert conversation.resolve("c", None).id == "p3"  # "it" is the paper last shown
    assert conversation.resolve("c", 1).id == "p1"  # and the list still counts


def test_contexts_are_separate_expire_and_are_bounded() -> None:
    now = [0.0]
    conversation = Conversation(ttl=60, size=2, clock=lambda: now[0])
    conversation.remember("a", _papers(1))
    conversation.remember("b", _papers(2))
    assert conversation.resolve("b", 2).id == "p2"
    with pytest.raises(UsageError):
        conversation.resolve("a", 2)
    conversation.remember("c", _papers(1))
    assert conversation.recall("a") is None  # the oldest context was dropped (size 2)
    now[0] = 61
    assert conversation.recall("b") is None  # expired


# -- command parsing -------------------------------------------------------------------------
def test_plain_text_is_a_question() -> None:
    assert parse("  what is   GKD? ") == ("ask", "what is GKD?", {})


@pytest.mark.parametrize(
    "line",
    [
        "/search mean field games --author Sarah Perrin --since 2021",
        "/search mean field games author:Sarah Perrin since:2021",
        '!search mean field games --author="Sarah Perrin" --since=2021',
    ],
)
def test_search_options_in_either_style(line: str) -> None:
    command = parse(line)
    assert command.name == "search"
    assert command.text == "mean field games"
    assert command.options == {"author": "Sarah Perrin", "since": "2021"}


def test_usage_errors_say_what_to_do() -> None:
    with pytest.raises(UsageError, match="/help"):
        parse("/frobnicate")
    with pytest.raises(UsageError, match="Usage: /paper"):
        parse("/paper")
    with pytest.raises(UsageError, match="no option --k"):
        parse("/search x --k 3")
    with pytest.raises(UsageError, match="YYYY"):
        parse_date("last year")
    with pytest.raises(UsageError):
        parse_days("0")


def test_colons_in_questions_are_not_options() -> None:
    assert parse("/search GKD: on-policy distillation").text == "GKD: on-policy distillation"


def test_dates() -> None:
    assert parse_date("2023") == dt.date(2023, 1, 1)
    assert parse_date("2023", end=True) == dt.date(2023, 12, 31)
    assert parse_date("2024-02", end=True) == dt.date(2024, 2, 29)
    assert parse_date("2024-02-03") == dt.date(2024, 2, 3)


def test_aliases_resolve_to_commands() -> None:
    assert parse("/bibtex WARM").name == "cite"
    assert set(COMMANDS) >= {"ask", "search", "paper", "author", "recent", "similar", "cite", "stats", "help"}


# -- the dialogue over the seeds ---------------------------------------------------------------
@pytest.fixture
def dialogue(seeded_db: Path) -> Dialogue:
    return Dialogue(seeded_service(seeded_db), today=lambda: dt.date(2025, 12, 31))


def test_a_list_then_the_second_one(dialogue: Dialogue) -> None:
    listing = dialogue.handle("papers by Sarah Perrin", "chan")
    assert isinstance(listing, AnswerReply) and len(listing.answer.hits) > 2
    second = dialogue.handle("and the second one?", "chan")
    assert isinstance(second, PaperReply)
    assert second.paper.id == listing.answer.hits[1].paper.id
    cited = dialogue.handle("/cite #3", "chan")
    assert isinstance(cited, CitationReply) and cited.paper.id == listing.answer.hits[2].paper.id
    assert cited.bibtex.startswith("@misc{")
    similar = dialogue.handle("similar to the first one", "chan")
    assert isinstance(similar, ListReply)
    assert listing.answer.hits[0].paper.id not in {p.id for p in similar.papers}


def test_follow_ups_stay_in_their_channel(dialogue: Dialogue) -> None:
    dialogue.handle("/search mean field games", "one")
    reply = dialogue.handle("the first one", "other")
    assert isinstance(reply, Notice) and "no earlier results" in reply.text


def test_every_command_through_the_dialogue(dialogue: Dialogue) -> None:
    assert isinstance(dialogue.handle("/help"), HelpReply)
    author = dialogue.handle("/author julien perolat")
    assert isinstance(author, ListReply) and author.heading.startswith("Papers by Julien Pérolat")
    dates = [p.date for p in author.papers]
    assert dates == sorted(dates, reverse=True)
    recent = dialogue.handle("/recent --days 400")
    assert isinstance(recent, ListReply) and recent.papers
    empty = dialogue.handle("/recent cs.LG --days 1")
    assert isinstance(empty, ListReply) and not empty.papers and "try /recent --days" in empty.empty
    assert isinstance(dialogue.handle("/similar GKD"), ListReply)  # an acronym names a paper
    search = dialogue.handle("/search distillation --since 2024")
    assert isinstance(search, ListReply)
    assert all(p.date and p.date.year >= 2024 for p in search.papers)
    assert dialogue.handle("/stats").kind == "stats"
    missing = dialogue.handle("/paper zzqx wubble")
    assert isinstance(missing, Notice) and "No paper" in missing.text
