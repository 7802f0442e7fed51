"""The team's library: /save, /reading-list, /top, 🔖 / 👍 / ⭐ reactions on the bot's messages,
and announcements of new arXiv versions of saved papers."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.arxiv_refs import arxiv_refs
from bot.discord import autocomplete, team_embeds
from bot.discord.client import PaperBot
from bot.discord.digest_embeds import listed_arxiv_ids, reacted_item
from bot.discord.respond import NO_MENTIONS, send_pages, think
from bot.errors import PaperbotError
from bot.models import Paper
from bot.reading_list import ReadingList, as_bibtex, as_markdown
from bot.votes import SAVE, VOTES, top, vote

log = logging.getLogger(__name__)
TITLE = "A title (typos are fine), an arXiv id, or #N for a result of the last list here"


class Library(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.reading = ReadingList(bot.service)

    async def cog_load(self) -> None:
        if not self.bot.settings.shard_id:  # one process announces (shard 0, or the only one)
            self.announce_versions.start()

    async def cog_unload(self) -> None:
        self.announce_versions.cancel()

    @app_commands.command()
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=autocomplete.titles)
    async def save(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300]) -> None:
        """Add a paper to this channel's reading list."""
        await think(interaction, ephemeral=True)
        paper, new = await asyncio.to_thread(
            self.reading.save, interaction.channel_id or 0, title, interaction.user.id
        )
        text = "Saved to this channel's reading list" if new else "Already on this channel's reading list"
        await interaction.followup.send(
            f"{text}: {discord.utils.escape_markdown(paper.label)}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="reading-list")
    @app_commands.describe(export="Attach the list as a file instead: bib (BibTeX) or md (Markdown)")
    async def reading_list(
        self, interaction: discord.Interaction, export: Literal["bib", "md"] | None = None
    ) -> None:
        """This channel's reading list: who saved what, when."""
        await think(interaction)
        entries = await asyncio.to_thread(self.reading.entries, interaction.channel_id or 0)
        if export is None:
            await send_pages(interaction, team_embeds.reading_list_pages(entries))
            return
        text = as_bibtex(entries) if export == "bib" else as_markdown(entries)
        name = f"reading-list.{export}"
        await interaction.followup.send(
            f"{len(entries)} papers.",
            file=discord.File(io.BytesIO(text.encode()), filename=name),
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command()
    @app_commands.describe(period="week, month or all time")
    async def top(
        self, interaction: discord.Interaction, period: Literal["week", "month", "all"] = "week"
    ) -> None:
        """The papers this channel voted for most (👍 and ⭐ reactions)."""
        await think(interaction)
        ranked = await asyncio.to_thread(top, self.bot.service.store, interaction.channel_id or 0, period)
        await send_pages(interaction, [team_embeds.top_embed(period, ranked)])

    # -- reactions ------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, on=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, on=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, on: bool) -> None:
        emoji = str(payload.emoji)
        if emoji not in VOTES and emoji != SAVE:
            return
        if self.bot.user and payload.user_id == self.bot.user.id:
            return
        channel = self.bot.get_channel(payload.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        try:
            message = await channel.fetch_message(payload.message_id)
        except discord.HTTPException:
            return
        if message.author != self.bot.user or not message.embeds:
            return
        paper = await asyncio.to_thread(self.paper_of, message.embeds[0])
        if paper is None:
            return
        if emoji == SAVE:
            if on:  # taking a 🔖 back does not unsave: the list is the channel's, not one person's
                await asyncio.to_thread(self.reading.save_paper, payload.channel_id, paper, payload.user_id)
        else:
            await asyncio.to_thread(
                vote, self.bot.service.store, payload.channel_id, paper.id, payload.user_id, emoji, on
            )

    def paper_of(self, embed: discord.Embed) -> Paper | None:
        """The paper a card, an answer or a one-item digest is about (a list of several: none)."""
        listed = listed_arxiv_ids(embed.description or "")
        if "digest" in (embed.footer.text or ""):
            chosen = reacted_item("👍", len(listed))  # only a one-paper digest names its paper
            return self.bot.service.store.find_by_arxiv_id(listed[chosen]) if chosen is not None else None
        for ref in arxiv_refs(embed.url or ""):
            if paper := self.bot.service.store.find_by_arxiv_id(ref):
                return paper
        if embed.title:
            try:
                return self.bot.service.paper(discord.utils.remove_markdown(embed.title))
            except PaperbotError:
                return None
        return None

    # -- new versions of saved papers ---------------------------------------------------
    @tasks.loop(minutes=15)
    async def announce_versions(self) -> None:
        for change in await asyncio.to_thread(self.reading.new_versions):
            channel = self.bot.get_channel(change.channel)
            if isinstance(channel, discord.abc.Messageable):
                try:
                    await channel.send(
                        embed=team_embeds.new_version_embed(change), allowed_mentions=NO_MENTIONS
                    )
                except discord.HTTPException as exc:
                    log.warning("could not announce a new version in %s: %s", change.channel, exc)

    @announce_versions.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Library(bot))
