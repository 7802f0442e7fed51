"""The Bot: settings and the service come in through the constructor; cogs load in setup_hook.

``setup_hook`` never syncs commands and never touches the network (``paperbot sync`` does
that on purpose), so creating and starting the bot in tests needs no Discord at all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.arxiv_refs import arxiv_refs
from bot.chat.conversation import Conversation
from bot.chat.dialogue import Dialogue
from bot.config import Settings
from bot.discord import cogs
from bot.discord.checks import Cooldowns
from bot.discord.respond import report_error
from bot.service import PaperService
from bot.workers import answer_threads

log = logging.getLogger(__name__)
T = TypeVar("T")


def intents_for(settings: Settings) -> discord.Intents:
    """Only what the bot uses. Message content is privileged: asked for only with free-text channels."""
    intents = discord.Intents.none()
    intents.guilds = True  # channels and threads, where commands and messages happen
    intents.guild_messages = True  # messages that mention us (Discord sends their content anyway)
    intents.dm_messages = True  # direct messages (content included)
    intents.message_content = settings.free_text_channels
    return intents


def extension_names() -> list[str]:
    """Every module in bot/discord/cogs/, so a new cog file is loaded without touching this code."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class PaperTree(app_commands.CommandTree["PaperBot"]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class PaperBot(commands.Bot):
    """paperbot on Discord: slash commands from the cogs, free text through the same dialogue."""

    def __init__(self, settings: Settings, service: PaperService) -> None:
        # The bot never joins voice: no warnings about voice libraries at every start.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: no prefix commands, but Bot wants one
            intents=intents_for(settings),
            help_command=None,
            tree_cls=PaperTree,
            allowed_mentions=discord.AllowedMentions.none(),
            # Several processes share the guilds (and one database): each serves its shard.
            shard_id=settings.shard_id,
            shard_count=settings.shard_count,
        )
        self.settings = settings
        self.service = service
        self.dialogue = Dialogue(service, Conversation())
        self.cooldowns = Cooldowns(settings.cooldown_seconds)
        self.free_text_channels: set[int] = set()
        self._answering = answer_threads(settings.answer_threads)

    async def answer(self, call: Callable[..., T], *args: Any, question: str = "") -> T:
        """``call(*args)`` (a search, an answer: CPU work) in the answer threads, in turn. A
        ``question`` with arXiv links may wait seconds on arXiv for papers the library lacks: it
        runs beside them instead, not holding one of the few answer threads while it waits."""
        if question and self.service.arxiv is not None and arxiv_refs(question):
            return await asyncio.to_thread(call, *args)
        return await asyncio.get_running_loop().run_in_executor(
            self._answering, functools.partial(call, *args)
        )

    async def close(self) -> None:
        await super().close()
        self._answering.shutdown(wait=False, cancel_futures=True)

    async def setup_hook(self) -> None:
        self.free_text_channels = await asyncio.to_thread(self.service.store.free_text_channels)
        for name in extension_names():
            await self.load_extension(name)

    def serves_guild(self, guild_id: int | None) -> bool:
        """Whether this process's shard serves a guild (Discord's rule: (id >> 22) % count)."""
        if guild_id is None or not self.settings.shard_count:
            return True
        return (guild_id >> 22) % self.settings.shard_count == (self.settings.shard_id or 0)

    def free_text_enabled(self, channel: object) -> bool:
        """Whether every message in this channel (or the thread's parent channel) is for us."""
        if not self.settings.free_text_channels:
            return False
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return bool(ids & self.free_text_channels)

    async def on_message(self, message: discord.Message) -> None:
        """Messages are handled by the ask cog's listener; no prefix commands to process."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))
