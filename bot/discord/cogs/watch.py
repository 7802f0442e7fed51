"""/watch: personal watches, sent by direct message at each person's time."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks
from pydantic import ValidationError

from bot.discord import autocomplete, team_embeds
from bot.discord.client import PaperBot
from bot.discord.respond import NO_MENTIONS
from bot.errors import UsageError, invalid
from bot.watches import WatchBatch, Watches, WatchSpec

log = logging.getLogger(__name__)


class WatchCog(
    commands.GroupCog, group_name="watch", group_description="New papers that match your searches, by DM"
):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.watches = Watches(bot.service)
        super().__init__()

    async def cog_load(self) -> None:
        if not self.bot.settings.shard_id:  # DMs are sent by one process (shard 0, or the only one)
            self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()

    @app_commands.command()
    @app_commands.describe(
        query="What to watch for, e.g. offline RL",
        author="Only papers by this author",
        time="Local time of your daily message, HH:MM",
        timezone="IANA zone, e.g. Europe/Paris",
    )
    @app_commands.autocomplete(author=autocomplete.authors)
    async def add(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        author: str | None = None,
        time: str = "08:00",
        timezone: str = "UTC",
    ) -> None:
        """Watch for new papers that match a search (papers already here are never sent)."""
        try:
            spec = WatchSpec(query=query, author=author, time=time, tz=timezone)
        except ValidationError as exc:
            raise invalid(exc) from exc
        watch = await asyncio.to_thread(self.watches.add, interaction.user.id, spec)
        await interaction.response.send_message(
            f"Watching `{watch.id}`: new papers matching “{discord.utils.escape_markdown(watch.query)}”, by DM at {watch.time} {watch.tz}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="list")
    async def list_(self, interaction: discord.Interaction) -> None:
        """Your watches."""
        mine = await asyncio.to_thread(self.watches.list, interaction.user.id)
        await interaction.response.send_message(embed=team_embeds.watches_embed(mine), ephemeral=True)

    @app_commands.command()
    @app_commands.describe(watch_id="The watch's number (/watch list shows it)")
    async def remove(self, interaction: discord.Interaction, watch_id: int) -> None:
        """Stop one of your watches."""
        if not await asyncio.to_thread(self.watches.remove, interaction.user.id, watch_id):
            raise UsageError(f"You have no watch {watch_id}: /watch list shows yours.")
        await interaction.response.send_message(f"Stopped watch {watch_id}.", ephemeral=True)

    @tasks.loop(minutes=5)
    async def tick(self) -> None:
        await self.run_due(dt.datetime.now(dt.UTC))

    @tick.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def run_due(self, now: dt.datetime) -> list[WatchBatch]:
        loop = asyncio.get_running_loop()

        def send(batch: WatchBatch) -> None:  # runs in the worker thread
            asyncio.run_coroutine_threadsafe(self.send(batch), loop).result(timeout=60)

        return await asyncio.to_thread(self.watches.run_due, now, send)

    async def send(self, batch: WatchBatch) -> None:
        user = self.bot.get_user(batch.user) or await self.bot.fetch_user(batch.user)
        await user.send(embed=team_embeds.watch_batch_embed(batch), allowed_mentions=NO_MENTIONS)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(WatchCog(bot))
