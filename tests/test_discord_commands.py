"""Slash command callbacks with fake interactions: deferral, limits, errors, permissions, cooldowns."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord_fakes import fake_interaction, make_bot, sent_embeds, settings_for

from bot.discord import PaperBot, create_bot
from bot.discord import embeds as embeds_module
from bot.discord.autocomplete import authors, categories, titles
from bot.discord.cogs.admin import Admin
from bot.discord.cogs.ask import Ask
from bot.discord.cogs.papers import Papers
from bot.discord.embeds import CHOICE_NAME, CHOICES, DESCRIPTION, FIELD_VALUE, FIELDS, TITLE, TOTAL
from bot.discord.respond import APOLOGY, report_error
from bot.discord.views import Paginator
from bot.errors import NotFound, UsageError
from bot.store import SQLiteStore


@pytest.fixture
def bot(seeded_db: Path) -> PaperBot:
    return make_bot(seeded_db)


def within_limits(embed: discord.Embed) -> bool:
    return (
        len(embed) <= TOTAL
        and len(embed.title or "") <= TITLE
        and len(embed.description or "") <= DESCRIPTION
        and len(embed.fields) <= FIELDS
        and all(len(f.value or "") <= FIELD_VALUE for f in embed.fields)
    )


def bot_command(bot: PaperBot, name: str) -> app_commands.Command:
    cog = {"ask": Ask, "search": Ask, "ingest": Admin, "freetext": Admin}.get(name, Papers)(bot)
    return next(c for c in cog.get_app_commands() if c.name == name)


def spy_work(bot: PaperBot, interaction: Any, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """Record in ``interaction.calls`` when the dialogue starts the slow part."""
    original = getattr(bot.dialogue, method)

    def work(*args: Any, **kwargs: Any) -> Any:
        interaction.calls.append("work")
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.dialogue, method, work)


async def test_ask_defers_before_the_work_and_answers_within_limits(
    bot: PaperBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog, interaction = Ask(bot), fake_interaction(bot)
    spy_work(bot, interaction, monkeypatch, "ask")
    await cog.ask.callback(cog, interaction, question="which paper averages reward models?")
    assert interaction.calls == ["defer", "work", "followup"]
    [embed] = sent_embeds(interaction)
    assert "WARM" in (embed.title or "") and within_limits(embed)
    assert interaction.followup.send.await_args.kwargs["allowed_mentions"].to_dict() == {"parse": []}


async def test_questions_wait_their_turn_in_the_answer_threads(
    seeded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers run in the bot's answer threads, no more at once than it has, in the order asked."""
    bot = make_bot(seeded_db, answer_threads=2)
    lock, running, most, order, threads = threading.Lock(), [0], [0], [], set()
    original = bot.dialogue.ask

    def ask(channel_id: int, question: str) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            order.append(question)
            threads.add(threading.current_thread().name)
        time.sleep(0.05)
        try:
            return original(channel_id, question)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(bot.dialogue, "ask", ask)
    cog = Ask(bot)
    questions = [f"which paper averages reward models? ({i})" for i in range(6)]
    interactions = [fake_interaction(bot, channel_id=600 + i) for i in range(6)]
    await asyncio.gather(
        *(cog.ask.callback(cog, i, question=q) for i, q in zip(interactions, questions, strict=True))
    )
    assert most[0] == 2 and order == questions
    assert len(threads) == 2 and all(name.startswith("paperbot-answer") for name in threads)
    assert all(sent_embeds(i) for i in interactions)
    await bot.close()


async def test_a_question_that_may_wait_on_arxiv_does_not_hold_an_answer_thread(
    seeded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot(seeded_db, answer_threads=1)
    bot.service.arxiv = object()  # type: ignore[assignment]  # lookups on: never reached below
    threads: dict[str, str] = {}
    monkeypatch.setattr(
        bot.dialogue,
        "ask",
        lambda channel_id, question: threads.setdefault(question, threading.current_thread().name),
    )
    cog = Ask(bot)
    monkeypatch.setattr(embeds_module, "reply_pages", lambda reply: [discord.Embed(title="ok")])
    for question in ["what is https://arxiv.org/abs/2403.08295 about?", "what is GKD?"]:
        await cog.ask.callback(cog, fake_interaction(bot), question=question)
    assert not threads["what is https://arxiv.org/abs/2403.08295 about?"].startswith("paperbot-answer")
    assert threads["what is GKD?"].startswith("paperbot-answer")
    await bot.close()


@pytest.mark.parametrize(
    ("cog_class", "command", "method", "kwargs"),
    [
        (Ask, "search", "search", {"query": "reinforcement learning"}),
        (Papers, "paper", "paper", {"title": "gemma 2"}),
        (Papers, "author", "author", {"name": "perolat"}),
        (Papers, "recent", "recent", {"days": 3650}),
        (Papers, "similar", "similar", {"title": "WARM"}),
        (Papers, "cite", "cite", {"title": "WARM"}),
        (Papers, "stats", "stats", {}),
    ],
)
async def test_every_slow_command_defers_first_and_stays_within_limits(
    bot: PaperBot, monkeypatch: pytest.MonkeyPatch, cog_class: type, command: str, method: str, kwargs: dict
) -> None:
    cog, interaction = cog_class(bot), fake_interaction(bot)
    spy_work(bot, interaction, monkeypatch, method)
    await getattr(cog, command).callback(cog, interaction, **kwargs)
    assert interaction.calls[:2] == ["defer", "work"]
    embeds = sent_embeds(interaction)
    assert embeds and all(within_limits(e) for e in embeds)


async def test_search_pages_come_with_a_paginator_for_the_invoker(bot: PaperBot) -> None:
    cog, interaction = Ask(bot), fake_interaction(bot, user_id=7)
    await cog.search.callback(cog, interaction, query="learning")
    kwargs = interaction.followup.send.await_args.kwargs
    view = kwargs["view"]
    assert isinstance(view, Paginator) and view.owner_id == 7 and len(view.pages) > 1
    assert kwargs["wait"] is True and view.message is not None  # kept, to disable the buttons later


async def test_cite_sends_bibtex_in_a_code_block_and_a_reference(bot: PaperBot) -> None:
    cog, interaction = Papers(bot), fake_interaction(bot)
    await cog.cite.callback(cog, interaction, title="Gemma 2")
    [embed] = sent_embeds(interaction)
    assert embed.description.startswith("```bibtex\n@misc{")
    assert embed.description.rstrip().endswith("Improving Open Language Models at a Practical Size.")


async def test_help_is_instant_and_private(bot: PaperBot) -> None:
    cog, interaction = Ask(bot), fake_interaction(bot)
    await cog.help_command.callback(cog, interaction)
    assert interaction.calls == ["send_message"]
    assert interaction.response.send_message.await_args.kwargs["ephemeral"] is True


async def test_a_bad_date_fails_before_deferring_and_the_error_is_ephemeral(bot: PaperBot) -> None:
    cog, interaction = Ask(bot), fake_interaction(bot)
    with pytest.raises(UsageError) as caught:
        await cog.search.callback(cog, interaction, query="x", since="last year")
    assert interaction.calls == []
    await report_error(interaction, app_commands.CommandInvokeError(cog.search, caught.value))
    args, kwargs = interaction.response.send_message.await_args
    assert kwargs["ephemeral"] is True and "YYYY" in args[0]


async def test_not_found_after_a_public_defer_is_shown_privately(bot: PaperBot) -> None:
    cog, interaction = Papers(bot), fake_interaction(bot)
    with pytest.raises(NotFound) as caught:
        await cog.paper.callback(cog, interaction, title="zzqx wubble")
    await bot.tree.on_error(interaction, app_commands.CommandInvokeError(cog.paper, caught.value))
    interaction.delete_original_response.assert_awaited()  # the public "thinking…" goes away
    args, kwargs = interaction.followup.send.await_args
    assert kwargs["ephemeral"] is True and args[0].startswith("No paper titled like")


async def test_unexpected_errors_are_logged_with_context_and_apologised_for(
    bot: PaperBot, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = fake_interaction(bot, user_id=99, channel_id=31)
    error = app_commands.CommandInvokeError(Ask(bot).ask, RuntimeError("secret internals"))
    with caplog.at_level(logging.ERROR):
        await bot.tree.on_error(interaction, error)
    args, kwargs = interaction.response.send_message.await_args
    assert args[0] == APOLOGY and kwargs["ephemeral"] is True and "secret" not in args[0]
    record = caplog.records[-1]
    assert "user 99" in record.getMessage() and "channel 31" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


async def test_cooldown_refuses_a_second_call_with_a_friendly_ephemeral_message(seeded_db: Path) -> None:
    bot = make_bot(seeded_db, cooldown_seconds=30)
    command = bot_command(bot, "ask")
    interaction = fake_interaction(bot)
    interaction.command = command
    assert await command._check_can_run(interaction)
    with pytest.raises(app_commands.CommandOnCooldown) as caught:
        await command._check_can_run(interaction)
    other = fake_interaction(bot, user_id=43)
    other.command = command
    assert await command._check_can_run(other)  # per user
    await report_error(interaction, caught.value)
    args, kwargs = interaction.response.send_message.await_args
    assert kwargs["ephemeral"] is True and "try again in 30 s" in args[0]


# -- admin -------------------------------------------------------------------------------------
@pytest.fixture
def admin_bot(tmp_path: Path, seeded_db: Path) -> PaperBot:
    """A bot over its own copy of the database: admin commands write to it."""
    db = tmp_path / "admin.db"
    shutil.copy(seeded_db, db)
    return create_bot(settings_for(db))


@pytest.mark.parametrize("name", ["ingest", "freetext"])
async def test_admin_commands_are_hidden_and_checked(admin_bot: PaperBot, name: str) -> None:
    command = bot_command(admin_bot, name)
    assert command.default_permissions is not None and command.default_permissions.manage_guild
    assert command.guild_only
    interaction = fake_interaction(admin_bot, manage_guild=False)
    with pytest.raises(app_commands.MissingPermissions):
        await command._check_can_run(interaction)


@pytest.mark.parametrize("name", ["ingest", "freetext"])
async def test_admin_callbacks_refuse_non_admins_even_if_default_permissions_changed(
    admin_bot: PaperBot, name: str
) -> None:
    """A server can show the command to everyone (Integrations settings): the callback still says no."""
    cog, interaction = Admin(admin_bot), fake_interaction(admin_bot, manage_guild=False)
    extra = {"mode": "on"} if name == "freetext" else {}
    with pytest.raises(app_commands.MissingPermissions):
        await getattr(cog, name).callback(cog, interaction, **extra)
    assert interaction.calls == []  # refused before anything happened
    await report_error(interaction, app_commands.MissingPermissions(["manage_guild"]))
    args, kwargs = interaction.response.send_message.await_args
    assert kwargs["ephemeral"] is True and "Manage Server" in args[0]


async def test_freetext_on_and_off_is_stored_per_channel(admin_bot: PaperBot) -> None:
    cog = Admin(admin_bot)
    interaction = fake_interaction(admin_bot, manage_guild=True, channel_id=777)
    await cog.freetext.callback(cog, interaction, mode="on")
    assert interaction.calls[0] == "defer"
    assert admin_bot.service.store.free_text_channels() == {777}
    assert 777 in admin_bot.free_text_channels
    text = interaction.followup.send.await_args.args[0]
    assert "on in <#777>" in text and "message content intent" in text  # the setting is off here
    await cog.freetext.callback(
        cog, fake_interaction(admin_bot, manage_guild=True, channel_id=777), mode="off"
    )
    assert admin_bot.service.store.free_text_channels() == set()
    assert 777 not in admin_bot.free_text_channels


async def test_ingest_reloads_the_seeds_off_the_event_loop(tmp_path: Path, seeded_db: Path) -> None:
    bot = create_bot(settings_for(tmp_path / "empty.db"))
    cog, interaction = Admin(bot), fake_interaction(bot, manage_guild=True)
    await cog.ingest.callback(cog, interaction)
    assert interaction.calls[0] == "defer" and interaction.extras["ephemeral"] is True
    [embed] = sent_embeds(interaction)
    assert "53 added" in (embed.description or "")
    with SQLiteStore(tmp_path / "empty.db") as store:
        assert store.count_papers() == 53


# -- autocomplete ------------------------------------------------------------------------------
async def test_title_autocomplete_is_fuzzy_and_within_limits(bot: PaperBot) -> None:
    interaction = fake_interaction(bot)
    choices = await titles(interaction, "mean feild gmes")
    assert 0 < len(choices) <= CHOICES
    assert all(len(c.name) <= CHOICE_NAME and len(c.value) <= CHOICE_NAME for c in choices)
    assert "Mean Field" in choices[0].name
    assert len(await titles(interaction, "")) <= CHOICES
    assert len(await titles(interaction, "x" * 5000)) <= CHOICES


async def test_author_autocomplete_ignores_accents(bot: PaperBot) -> None:
    choices = await authors(fake_interaction(bot), "perolat")
    assert choices[0].name == "Julien Pérolat"
    assert len(choices) <= CHOICES


async def test_autocomplete_failures_offer_nothing(bot: PaperBot, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("index gone")

    monkeypatch.setattr(bot.service, "complete_titles", broken)
    assert await titles(fake_interaction(bot), "gemma") == []


async def test_category_autocomplete(bot: PaperBot) -> None:
    names = [c.name for c in await categories(fake_interaction(bot), "cs.")]
    assert "cs.LG" in names and len(names) <= CHOICES


@pytest.mark.parametrize(
    ("command", "kwargs", "name"),
    [("trend", {"topic": "mean field games"}, "trend.png"), ("stats", {}, "library.png")],
)
async def test_charts_are_attached_to_their_embed(
    bot: PaperBot, command: str, kwargs: dict, name: str
) -> None:  # type: ignore[type-arg]
    cog, interaction = Papers(bot), fake_interaction(bot)
    await getattr(cog, command).callback(cog, interaction, **kwargs)
    assert interaction.calls[0] == "defer"
    sent = interaction.followup.send.await_args.kwargs
    assert sent["file"].filename == name and sent["file"].fp.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sent["embed"].image.url == f"attachment://{name}" and within_limits(sent["embed"])
    assert sent["allowed_mentions"].to_dict() == {"parse": []}


async def test_trend_counts_in_the_embed_and_nothing_found_says_so(bot: PaperBot) -> None:
    cog, interaction = Papers(bot), fake_interaction(bot)
    await cog.trend.callback(cog, interaction, topic="mean field games", by="year")
    embed = interaction.followup.send.await_args.kwargs["embed"]
    counts = {c.period: c.n for c in bot.service.trend("mean field games").counts}
    assert all(f"`{p}` {n}" in embed.description for p, n in counts.items())
    empty = fake_interaction(bot)
    await cog.trend.callback(cog, empty, topic="zzqx nothing")
    [embed] = sent_embeds(empty)
    assert "No paper" in embed.description and "file" not in empty.followup.send.await_args.kwargs
    with pytest.raises(UsageError):
        await cog.trend.callback(cog, fake_interaction(bot), topic="x", since="yesterday-ish")
