"""Admin: /ingest and /freetext. Hidden from non-admins by default_permissions, and checked inside.

Slash commands are synced with ``paperbot sync``, never from here: syncing is rate-limited and
belongs to a deliberate step, not to every start.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import embeds
from bot.discord.checks import is_admin, require_admin
from bot.discord.client import PaperBot
from bot.discord.respond import NO_MENTIONS, think

NO_CONTENT_INTENT = (
    "\nNote: the bot runs without the message content intent, so it only reads messages that mention it. "
    "Set PAPERBOT_FREE_TEXT_CHANNELS=true and enable Message Content in the Developer Portal "
    "(Bot → Privileged Gateway Intents) to answer every message here."
)


class Admin(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @is_admin()
    async def ingest(self, interaction: discord.Interaction) -> None:
        """Reload the seed papers into the library (Manage Server)."""
        require_admin(interaction)
        await think(interaction, ephemeral=True)
        report = await asyncio.to_thread(self.bot.service.ingest, [self.bot.settings.seeds_dir])
        await interaction.followup.send(
            embed=embeds.ingest_embed(report), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command()
    @app_commands.describe(
        mode="on: answer every message in the channel; off: only mentions and DMs",
        channel="The channel (default: this one)",
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @is_admin()
    async def freetext(
        self,
        interaction: discord.Interaction,
        mode: Literal["on", "off"],
        channel: discord.TextChannel | discord.Thread | None = None,
    ) -> None:
        """Answer every message in a channel, or only mentions (Manage Server)."""
        require_admin(interaction)
        target_id = channel.id if channel else interaction.channel_id
        assert target_id is not None  # guild_only: always in a channel
        await think(interaction, ephemeral=True)
        enabled = mode == "on"
        await asyncio.to_thread(
            self.bot.service.store.set_free_text, target_id, enabled, interaction.guild_id
        )
        if enabled:
            self.bot.free_text_channels.add(target_id)
        else:
            self.bot.free_text_channels.discard(target_id)
        text = f"Free text is {mode} in <#{target_id}>."
        if enabled and not self.bot.settings.free_text_channels:
            text += NO_CONTENT_INTENT
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Admin(bot))
