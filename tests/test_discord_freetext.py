"""Free text end to end: the real discord.py client, driven by dpytest (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from discord_fakes import PayloadSpy, make_bot, start_dpytest

from bot.discord import PaperBot
from bot.discord.embeds import DESCRIPTION, TITLE, TOTAL


@pytest.fixture
async def bot(seeded_db: Path) -> AsyncIterator[PaperBot]:
    bot = make_bot(seeded_db)
    await start_dpytest(bot)
    yield bot
    await dpytest.empty_queue()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> PayloadSpy:
    return PayloadSpy().install(monkeypatch)


def _text(message: discord.Message) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{f.name} {f.value}" for f in embed.fields]
    return "\n".join(parts)


async def test_mention_in_a_guild_channel_gets_a_quoting_reply(bot: PaperBot, spy: PayloadSpy) -> None:
    question = await dpytest.message(f"<@{bot.user.id}> what is GKD?")
    reply = dpytest.get_message()
    assert "Distillation" in _text(reply)
    embed = reply.embeds[0]
    assert len(embed) <= TOTAL and len(embed.title or "") <= TITLE
    assert len(embed.description or "") <= DESCRIPTION
    payload = spy.payloads[-1]
    assert payload["message_reference"]["message_id"] == question.id  # quotes the question
    assert payload["allowed_mentions"] == {"parse": [], "replied_user": False}  # pings nobody


async def test_direct_message_gets_a_reply(bot: PaperBot) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("papers by Sarah Perrin", channel=dm, member=member)
    reply = dpytest.get_message()
    assert reply.channel == dm
    assert "Mean Field" in _text(reply)


async def test_plain_messages_in_other_channels_are_ignored(bot: PaperBot) -> None:
    await dpytest.message("what is GKD?")
    assert dpytest.verify().message().nothing()


async def test_a_follow_up_refers_to_the_previous_answer_in_that_channel(bot: PaperBot) -> None:
    me = f"<@{bot.user.id}>"
    await dpytest.message(f"{me} papers by Sarah Perrin")
    listing = dpytest.get_message()
    second = listing.embeds[0].description.splitlines()[1]
    await dpytest.message(f"{me} and the second one?")
    detail = dpytest.get_message()
    assert detail.embeds[0].title and detail.embeds[0].title.split(":")[0][:20] in second
    await dpytest.message(f"{me} cite #1")
    assert "```bibtex" in dpytest.get_message().embeds[0].description


async def test_a_bare_mention_shows_help(bot: PaperBot) -> None:
    await dpytest.message(f"<@{bot.user.id}>")
    assert dpytest.get_message().embeds[0].title == "What I can do"


async def test_free_text_channel_answers_without_a_mention(seeded_db: Path) -> None:
    bot = make_bot(seeded_db, free_text_channels=True)
    await start_dpytest(bot)
    channel = dpytest.get_config().channels[0]
    bot.free_text_channels.add(channel.id)
    await dpytest.message("what is GKD?", channel=channel)
    assert "Distillation" in _text(dpytest.get_message())
    await dpytest.message("lol 👍", channel=channel)  # chatter that finds nothing: no noise
    assert dpytest.verify().message().nothing()
    await dpytest.message(f"<@{bot.user.id}> zzqx wubble", channel=channel)  # asked: says so
    assert "No paper" in _text(dpytest.get_message())
    await dpytest.empty_queue()


async def test_hostile_question_is_echoed_inert(bot: PaperBot, spy: PayloadSpy) -> None:
    await dpytest.message(f"<@{bot.user.id}> latest on @everyone <@&123456789012345678> **bold**")
    reply = dpytest.get_message()
    text = _text(reply)
    assert "@everyone" not in text and "<@&123456789012345678>" not in text
    assert spy.payloads[-1]["allowed_mentions"]["parse"] == []


async def test_cooldown_answers_once_then_asks_to_wait(seeded_db: Path) -> None:
    bot = make_bot(seeded_db, cooldown_seconds=60)
    await start_dpytest(bot)
    await dpytest.message(f"<@{bot.user.id}> what is GKD?")
    dpytest.get_message()
    await dpytest.message(f"<@{bot.user.id}> the first one")  # follow-ups are not slowed down
    assert "Distillation" in _text(dpytest.get_message())
    await dpytest.message(f"<@{bot.user.id}> what is WARM?")
    assert "try again in" in dpytest.get_message().content
    await dpytest.empty_queue()


async def test_arxiv_links_get_cards_that_say_when_they_were_shared_before(
    tmp_path: Path, seeded_db: Path
) -> None:
    import shutil
    import socket

    from bot.models import Paper, paper_id

    db = tmp_path / "links.db"
    shutil.copy(seeded_db, db)
    with socket.socket() as closed:  # arXiv "offline": a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    bot = make_bot(db, arxiv_api_url=f"http://127.0.0.1:{port}/api/query", arxiv_delay_seconds=0)
    title, abstract = (
        "Sparse Reward Models for Long-Horizon Agents",
        "We learn sparse reward models. They help.",
    )
    bot.service.store.put_paper(
        Paper(
            id=paper_id(title, abstract),
            title=title,
            abstract=abstract,
            authors=["Nino Vieillard"],
            arxiv_id="2611.04321",
        )
    )
    bot.service.store.bump_corpus_version()
    await start_dpytest(bot)
    try:
        first, second = dpytest.get_config().members[:2]
        await dpytest.message(f"<@{bot.user.id}> look: https://arxiv.org/abs/2611.04321v2", member=first)
        card = dpytest.get_message()
        assert card.embeds[0].title == title and "They help" not in (card.embeds[0].description or "")
        assert "We learn sparse reward models." in card.embeds[0].description
        assert "Shared before" not in card.embeds[0].description
        await dpytest.message(f"<@{bot.user.id}> arxiv.org/pdf/2611.04321 again", member=second)
        again = dpytest.get_message().embeds[0].description or ""
        assert (
            "Shared before in <#" in again
            and f"<@{first.id}>" in again
            and "https://discord.com/channels/" in again
        )
        await dpytest.message(f"<@{bot.user.id}> and https://arxiv.org/abs/2402.99999", member=second)
        offline = dpytest.get_message().embeds[0]
        assert offline.title == "No paper for that link" and "Could not reach arXiv" in (
            offline.description or ""
        )
    finally:
        await dpytest.empty_queue()
