"""The /digest cog: embeds within limits, posting (and the overflow thread), pausing, admin checks."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands
from discord_fakes import fake_interaction, settings_for
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest.book import DigestBook
from bot.digest.models import Digest, DigestItem, Profile, Subscription
from bot.discord import create_bot
from bot.discord.cogs.digest import DigestCog
from bot.discord.digest_embeds import digest_messages, listed_arxiv_ids, reacted_item
from bot.discord.embeds import DESCRIPTION, TOTAL
from bot.errors import UsageError
from bot.models import Paper, paper_id


def item(n: int, title: str = "A Paper", summary: str = "It works.") -> DigestItem:
    return DigestItem(
        id=f"id{n}",
        arxiv_id=f"2611.{n:05d}",
        title=title,
        authors=["Ann Smith", "Bo Li"],
        date="2026-11-23",
        score=1.0,
        reason="in cs.LG",
        summary=summary,
        links={"abs": f"https://arxiv.org/abs/2611.{n:05d}"},
    )


@given(st.integers(1, 40), st.text(max_size=400), st.text(max_size=1200))
@settings(max_examples=60, deadline=None)
def test_digest_embeds_fit_and_ping_nobody(count: int, title: str, summary: str) -> None:
    digest = Digest(
        channel=1,
        date="2026-11-23",
        items=[item(n, title + " @everyone <@123>", summary) for n in range(count)],
    )
    pages = digest_messages(digest)
    for page in pages:
        assert len(page) <= TOTAL and len(page.description or "") <= DESCRIPTION
        assert "@everyone" not in (page.description or "") and "<@123>" not in (page.description or "")
    assert sum((p.description or "").count("](https://arxiv.org/abs/") for p in pages) == count


def test_reactions_name_items() -> None:
    page = digest_messages(Digest(channel=1, date="2026-11-23", items=[item(1), item(2)]))[0]
    assert listed_arxiv_ids(page.description or "") == ["2611.00001", "2611.00002"]
    assert (
        reacted_item("2\ufe0f\u20e3", 2) == 1 and reacted_item("👍", 2) is None and reacted_item("👍", 1) == 0
    )


@pytest.fixture
def digest_bot(tmp_path: Path, seeded_db: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "digest.db"
    shutil.copy(seeded_db, db)
    bot = create_bot(settings_for(db))
    title, abstract = "Fresh Work on Reward Models", "Reward models, again."
    bot.service.store.put_paper(
        Paper(
            id=paper_id(title, abstract),
            title=title,
            abstract=abstract,
            authors=["Nino Vieillard"],
            category="cs.LG",
            categories=["cs.LG"],
            date=dt.date(2026, 11, 23),
            arxiv_id="2611.01234",
        )
    )
    bot.service.store.bump_corpus_version()
    return bot


async def test_subscribe_needs_manage_server(digest_bot) -> None:  # type: ignore[no-untyped-def]
    cog = DigestCog(digest_bot)
    with pytest.raises(app_commands.MissingPermissions):
        await cog.subscribe.callback(cog, fake_interaction(digest_bot, manage_guild=False))
    admin = fake_interaction(digest_bot, manage_guild=True, channel_id=900)
    await cog.subscribe.callback(cog, admin, "07:30", "Europe/Paris", "cs.LG", None, None, 5)
    assert admin.response.send_message.await_args.kwargs["ephemeral"] is True
    sub = DigestBook(digest_bot.service.store).subscription(900)
    assert sub is not None and sub.time == "07:30" and sub.profile.max_papers == 5
    with pytest.raises(UsageError, match="time must be HH:MM"):  # the reason, not pydantic's link
        await cog.subscribe.callback(cog, admin, "25:99", "UTC", None, None, None, 5)


async def test_loop_posts_once_with_a_thread_for_the_rest(digest_bot) -> None:  # type: ignore[no-untyped-def]
    cog = DigestCog(digest_bot)
    DigestBook(digest_bot.service.store).subscribe(
        Subscription(channel_id=900, guild_id=1234, profile=Profile(categories=["cs.LG"]))
    )
    thread = MagicMock(send=AsyncMock())
    message = MagicMock(spec=discord.Message)
    message.create_thread = AsyncMock(return_value=thread)
    channel = MagicMock(spec=discord.TextChannel)
    channel.send = AsyncMock(return_value=message)
    digest_bot.get_channel = MagicMock(return_value=channel)
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    posted = await cog.run_due(now)
    assert len(posted) == 1 and channel.send.await_count == 1
    kwargs = channel.send.await_args.kwargs
    assert (
        kwargs["allowed_mentions"].everyone is False
        and "Fresh Work on Reward Models" in kwargs["embed"].description
    )
    assert await cog.run_due(now + dt.timedelta(hours=1)) == [] and channel.send.await_count == 1


async def test_a_gone_channel_pauses_the_subscription(digest_bot) -> None:  # type: ignore[no-untyped-def]
    cog = DigestCog(digest_bot)
    book = DigestBook(digest_bot.service.store)
    book.subscribe(Subscription(channel_id=901, guild_id=1234, profile=Profile(categories=["cs.LG"])))
    digest_bot.get_channel = MagicMock(return_value=None)
    digest_bot.fetch_channel = AsyncMock(
        side_effect=discord.NotFound(MagicMock(status=404), "Unknown Channel")
    )
    assert await cog.run_due(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)) == []
    sub = book.subscription(901)
    assert sub is not None and sub.paused and "Unknown Channel" in (sub.last_error or "")


async def test_a_post_whose_answer_was_lost_is_found_not_repeated(digest_bot) -> None:  # type: ignore[no-untyped-def]
    """The cog sends with the day's nonce, and a restart finds its own message in the history."""
    from bot.digest.models import digest_nonce

    cog = DigestCog(digest_bot)
    book = DigestBook(digest_bot.service.store)
    book.subscribe(Subscription(channel_id=902, guild_id=1234, profile=Profile(categories=["cs.LG"])))
    digest_bot._connection.user = MagicMock(spec=discord.ClientUser)  # who "we" are
    sent: list[MagicMock] = []

    async def send(**kwargs):  # type: ignore[no-untyped-def]
        message = MagicMock(spec=discord.Message, author=digest_bot.user, embeds=[kwargs["embed"]])
        sent.append(message)
        raise discord.HTTPException(MagicMock(status=500), "lost")  # delivered; the answer was lost

    async def history(limit: int = 50):  # type: ignore[no-untyped-def]
        for message in reversed(sent):
            yield message

    channel = MagicMock(spec=discord.TextChannel)
    channel.send = AsyncMock(side_effect=send)
    channel.history = history
    digest_bot.get_channel = MagicMock(return_value=channel)
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    assert await cog.run_due(now) == []  # failed as far as we know: undone, to be tried again
    assert channel.send.await_args.kwargs["nonce"] == digest_nonce(902, "2026-11-23")
    channel.send = AsyncMock(side_effect=AssertionError("must not post twice"))
    # The retry plans the same day again; the record is 'sending' until Discord answers, so a
    # restart looks in the channel first: there it is, confirmed without a second message.
    with digest_bot.service.store.atomic():
        book.claim(902, "2026-11-23")
        book.finish(902, "2026-11-23", ["x"], "[]", confirmed=False)
    assert await cog.run_due(now + dt.timedelta(hours=1)) == []
    assert book.digest_status(902, "2026-11-23") == "posted" and len(sent) == 1


async def test_settings_edit_a_subscription_in_place(digest_bot) -> None:  # type: ignore[no-untyped-def]
    cog = DigestCog(digest_bot)
    book = DigestBook(digest_bot.service.store)
    book.subscribe(
        Subscription(channel_id=903, guild_id=1234, profile=Profile(categories=["cs.LG"], keywords=["rl"]))
    )
    viewer = fake_interaction(digest_bot, manage_guild=False, channel_id=903)
    await cog.settings.callback(cog, viewer)  # anyone may look
    assert "cs.LG" in viewer.response.send_message.await_args.kwargs["embed"].description
    with pytest.raises(app_commands.MissingPermissions):  # only admins change
        await cog.settings.callback(cog, viewer, exclude="survey")
    admin = fake_interaction(digest_bot, manage_guild=True, channel_id=903)
    await cog.settings.callback(cog, admin, time="09:15", exclude="survey, position paper", keywords="-")
    sub = book.subscription(903)
    assert sub is not None and sub.time == "09:15" and sub.profile.categories == ["cs.LG"]
    assert sub.profile.exclude_keywords == ["survey", "position paper"] and sub.profile.keywords == []
    with pytest.raises(UsageError, match="time must be HH:MM"):
        await cog.settings.callback(cog, admin, time="7pm")
