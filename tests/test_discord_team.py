"""The team cogs with fake interactions: /save, /reading-list, /top, reactions, /watch and its DMs."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord_fakes import fake_interaction, make_bot, sent_embeds

from bot.discord import embeds
from bot.discord.cogs.library import Library
from bot.discord.cogs.watch import WatchCog
from bot.discord.embeds import TOTAL
from bot.errors import UsageError
from bot.models import Paper, paper_id
from bot.reading_list import ReadingList
from bot.votes import top


@pytest.fixture
def bot(tmp_path: Path, seeded_db: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "team.db"
    shutil.copy(seeded_db, db)
    return make_bot(db)


async def test_save_and_reading_list(bot) -> None:  # type: ignore[no-untyped-def]
    cog = Library(bot)
    first = fake_interaction(bot, user_id=11, channel_id=70)
    await cog.save.callback(cog, first, "warm weight averaged")
    assert "Saved to this channel's reading list: WARM" in first.followup.send.await_args.args[0]
    again = fake_interaction(bot, user_id=12, channel_id=70)
    await cog.save.callback(cog, again, "WARM")
    assert "Already on" in again.followup.send.await_args.args[0]
    listing = fake_interaction(bot, channel_id=70)
    await cog.reading_list.callback(cog, listing)
    [page] = sent_embeds(listing)
    assert "saved by <@11>" in page.description and len(page) <= TOTAL
    export = fake_interaction(bot, channel_id=70)
    await cog.reading_list.callback(cog, export, "bib")
    file = export.followup.send.await_args.kwargs["file"]
    assert file.filename == "reading-list.bib" and file.fp.read().startswith(b"@misc{")


def reaction(bot, message_id: int, emoji: str, user_id: int = 5, channel_id: int = 70):  # type: ignore[no-untyped-def]
    payload = MagicMock(spec=discord.RawReactionActionEvent)
    payload.emoji, payload.user_id, payload.channel_id, payload.message_id = (
        emoji,
        user_id,
        channel_id,
        message_id,
    )
    return payload


async def test_reactions_on_an_answer_save_and_vote(bot) -> None:  # type: ignore[no-untyped-def]
    cog = Library(bot)
    bot._connection.user = MagicMock(spec=discord.ClientUser)
    answer = bot.service.ask("which paper averages reward models?")
    message = MagicMock(spec=discord.Message, author=bot.user, embeds=embeds.answer_pages(answer))
    channel = MagicMock(spec=discord.TextChannel)
    channel.fetch_message = AsyncMock(return_value=message)
    bot.get_channel = MagicMock(return_value=channel)
    warm = answer.hits[0].paper

    await cog.on_raw_reaction_add(reaction(bot, 1, "🔖"))
    assert [e.paper.id for e in ReadingList(bot.service).entries(70)] == [warm.id]
    await cog.on_raw_reaction_add(reaction(bot, 1, "👍", user_id=6))
    await cog.on_raw_reaction_add(reaction(bot, 1, "⭐", user_id=7))
    assert [(p.id, n) for p, n in top(bot.service.store, 70, "all")] == [(warm.id, 2)]
    await cog.on_raw_reaction_remove(reaction(bot, 1, "⭐", user_id=7))
    assert [n for _, n in top(bot.service.store, 70, "all")] == [1]
    await cog.on_raw_reaction_add(reaction(bot, 1, "🎉", user_id=8))  # not ours to read
    shown = fake_interaction(bot, channel_id=70)
    await cog.top.callback(cog, shown, "all")
    [embed] = sent_embeds(shown)
    assert "WARM" in embed.description and "1 vote" in embed.description


async def test_watch_commands_and_the_dm(bot) -> None:  # type: ignore[no-untyped-def]
    cog = WatchCog(bot)
    add = fake_interaction(bot, user_id=21)
    await cog.add.callback(cog, add, "reward models", None, "08:00", "UTC")
    assert "Watching" in add.response.send_message.await_args.args[0]
    with pytest.raises(UsageError, match="HH:MM"):
        await cog.add.callback(cog, fake_interaction(bot, user_id=21), "x", None, "8 o'clock", "UTC")
    listing = fake_interaction(bot, user_id=21)
    await cog.list_.callback(cog, listing)
    assert "reward models" in listing.response.send_message.await_args.kwargs["embed"].description
    time.sleep(1.1)
    title, abstract = "Reward Models for Robots", "Reward models for robots."
    with bot.service.store.atomic():
        bot.service.store.put_papers(
            [
                Paper(
                    id=paper_id(title, abstract),
                    title=title,
                    abstract=abstract,
                    authors=["A B"],
                    date=dt.date(2026, 11, 30),
                    arxiv_id="2611.07777",
                )
            ]
        )
        bot.service.store.bump_corpus_version()
    bot.service.invalidate()
    user = MagicMock(spec=discord.User)
    user.send = AsyncMock()
    bot.get_user = MagicMock(return_value=user)
    sent = await cog.run_due(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    assert len(sent) == 1 and user.send.await_count == 1
    embed = user.send.await_args.kwargs["embed"]
    assert "Reward Models for Robots" in embed.description and len(embed) <= TOTAL
    remove = fake_interaction(bot, user_id=21)
    await cog.remove.callback(cog, remove, 1)
    with pytest.raises(UsageError):
        await cog.remove.callback(cog, fake_interaction(bot, user_id=21), 1)
