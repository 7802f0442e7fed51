"""Helpers for the Discord adapter tests: one service over the seeds, fake interactions, dpytest.

dpytest 0.7 predates discord.py 2.7; four workarounds make it drive the real client:

1. Members: dpytest creates guild members through the member cache, and resolves mentions
   from it. Our bot rightly runs without the members intent, so nothing would be cached and
   dpytest crashes on ``<@bot>``. ``start_dpytest`` grants the intent on the bot's connection
   state just before dpytest copies it into its fake state. (The production intents are
   asserted on a fresh ``create_bot`` in test_discord_bot.py.)
2. Payloads: dpytest's fake HTTP keeps content and embeds but drops ``message_reference`` and
   ``allowed_mentions``. ``PayloadSpy`` wraps discord.py's ``handle_message_parameters`` to
   record every payload the bot sends, so tests can assert that replies quote the question and
   ping nobody.
3. Setup: dpytest never calls ``login``, so ``start_dpytest`` awaits ``_async_setup_hook`` and our
   ``setup_hook`` by hand (the latter is network-free by design, which is what makes this work).
4. Event loop: discord.py 2.x gives the connection state its loop in ``_async_setup_hook``, which
   dpytest's fake state (built afterwards) misses; ``channel.typing()`` needs it, so it is set.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import discord.abc
import discord.ext.test as dpytest
from seeded import seeded_service

from bot.config import Settings
from bot.discord import PaperBot, create_bot


def settings_for(db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"db": db, "semantic": False, "cooldown_seconds": 0, "discord_token": None}
    return Settings(**(values | overrides))


def make_bot(db: Path, **overrides: Any) -> PaperBot:
    return create_bot(settings_for(db, **overrides), service=seeded_service(db))


# -- fake interactions -----------------------------------------------------------------------
class FakeResponse:
    """The parts of ``InteractionResponse`` the cogs use, recording what happened and in what order."""

    def __init__(self, log: list[str]) -> None:
        self._log = log
        self._done = False
        self.defer = AsyncMock(side_effect=self._record("defer"))
        self.send_message = AsyncMock(side_effect=self._record("send_message"))
        self.edit_message = AsyncMock(side_effect=self._record("edit_message"))

    def _record(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            if self._done:
                raise discord.InteractionResponded(MagicMock())
            self._done = True
            self._log.append(name)

        return record

    def is_done(self) -> bool:
        return self._done


def fake_interaction(
    bot: PaperBot,
    *,
    user_id: int = 42,
    manage_guild: bool = False,
    guild_id: int | None = 1234,
    channel_id: int = 555,
) -> MagicMock:
    """An interaction for ``await cog.cmd.callback(cog, interaction, ...)``; ``.calls`` logs the order."""
    calls: list[str] = []
    interaction = MagicMock(spec=discord.Interaction)
    interaction.calls = calls
    interaction.client = bot
    interaction.user = MagicMock(id=user_id)
    interaction.guild = MagicMock(id=guild_id) if guild_id else None
    interaction.guild_id = guild_id
    interaction.channel_id = channel_id
    interaction.channel = MagicMock(id=channel_id)
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.extras = {}
    interaction.namespace = {}  # iterated as (name, value) pairs, like app_commands.Namespace
    interaction.type = discord.InteractionType.application_command
    interaction.command = None
    interaction.response = FakeResponse(calls)

    async def followup_send(*args: Any, **kwargs: Any) -> MagicMock:
        calls.append("followup")
        return MagicMock(edit=AsyncMock())

    interaction.followup = MagicMock()
    interaction.followup.send = AsyncMock(side_effect=followup_send)
    interaction.edit_original_response = AsyncMock()
    interaction.delete_original_response = AsyncMock()
    return interaction


def sent_embeds(interaction: MagicMock) -> list[discord.Embed]:
    """Every embed the interaction sent, in followups or the initial response."""
    found: list[discord.Embed] = []
    for call in [
        *interaction.followup.send.await_args_list,
        *interaction.response.send_message.await_args_list,
    ]:
        found += [e for e in [call.kwargs.get("embed"), *call.kwargs.get("embeds", [])] if e]
    return found


# -- dpytest ---------------------------------------------------------------------------------
class PayloadSpy:
    """Records the JSON payload of every message the bot sends (dpytest drops some fields)."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self._original = discord.abc.handle_message_parameters

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        params = self._original(*args, **kwargs)
        self.payloads.append(dict(params.payload or {}))
        return params

    def install(self, monkeypatch: Any) -> PayloadSpy:
        monkeypatch.setattr(discord.abc, "handle_message_parameters", self)
        return self


async def start_dpytest(bot: PaperBot, members: int = 2) -> None:
    """Configure dpytest around the real bot (see the module docstring for why each step)."""
    await bot._async_setup_hook()
    state = bot._connection
    state._intents.members = True
    state.member_cache_flags = discord.MemberCacheFlags.from_intents(state._intents)
    dpytest.configure(bot, members=members)
    bot._connection.loop = asyncio.get_running_loop()
    await bot.setup_hook()
