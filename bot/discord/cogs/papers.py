"""Papers: /paper, /author, /recent, /similar, /cite, /fulltext, /stats, /trend."""

from __future__ import annotations

import asyncio
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import library_png, trend_png
from bot.dates import parse_date
from bot.discord import autocomplete, embeds
from bot.discord.checks import cooldown
from bot.discord.client import PaperBot
from bot.discord.respond import send_chart, send_pages, think
from bot.fulltext.library import FullTexts

TITLE = "A title (typos are fine), an arXiv id, or #N for a result of the last list here"


class Papers(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command()
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=autocomplete.titles)
    async def paper(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300]) -> None:
        """One paper: abstract, authors, date and links."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.paper, interaction.channel_id, title)
        await send_pages(interaction, [embeds.paper_embed(reply.paper)])

    @app_commands.command()
    @app_commands.describe(name="An author's name (accents optional)")
    @app_commands.autocomplete(name=autocomplete.authors)
    @cooldown()
    async def author(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        """An author's papers, newest first."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.author, interaction.channel_id, name)
        await send_pages(interaction, embeds.list_pages(reply.heading, reply.papers, reply.empty))

    @app_commands.command()
    @app_commands.describe(category="Only this arXiv category, e.g. cs.LG", days="How many days back (30)")
    @app_commands.autocomplete(category=autocomplete.categories)
    @cooldown()
    async def recent(
        self,
        interaction: discord.Interaction,
        category: str | None = None,
        days: app_commands.Range[int, 1, 3650] = 30,
    ) -> None:
        """The newest papers in the library."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.recent, interaction.channel_id, category, days)
        await send_pages(interaction, embeds.list_pages(reply.heading, reply.papers, reply.empty))

    @app_commands.command()
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=autocomplete.titles)
    @cooldown()
    async def similar(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300]) -> None:
        """Papers close to a given one."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.similar, interaction.channel_id, title)
        await send_pages(interaction, embeds.list_pages(reply.heading, reply.papers, reply.empty))

    @app_commands.command()
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=autocomplete.titles)
    async def cite(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300]) -> None:
        """A BibTeX entry and a plain-text reference."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.cite, interaction.channel_id, title)
        await send_pages(interaction, [embeds.citation_embed(reply.paper, reply.bibtex, reply.reference)])

    @app_commands.command()
    @app_commands.describe(title="A paper whose full text to outline; leave empty to list them all")
    @app_commands.autocomplete(title=autocomplete.titles)
    async def fulltext(
        self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300] | None = None
    ) -> None:
        """The papers whose full text the bot can quote, or one paper's sections and pages."""
        await think(interaction)
        texts = FullTexts(self.bot.service)
        if title is None:
            await send_pages(interaction, embeds.fulltext_pages(await asyncio.to_thread(texts.list)))
            return
        paper, passages = await asyncio.to_thread(texts.passages, title)
        await send_pages(interaction, [embeds.fulltext_outline(paper, passages)])

    @app_commands.command()
    @cooldown()
    async def stats(self, interaction: discord.Interaction) -> None:
        """What the library holds: papers, authors, categories, last ingest, and a chart."""
        await think(interaction)
        reply = await self.bot.answer(self.bot.dialogue.stats)
        shape = await asyncio.to_thread(self.bot.service.library_shape)
        embed = embeds.stats_embed(reply.stats)
        if not shape.periods:
            await send_pages(interaction, [embed])
            return
        png = await asyncio.to_thread(library_png, shape)
        await send_chart(interaction, embed, png, "library.png")

    @app_commands.command()
    @app_commands.describe(
        topic="Words every counted paper contains, e.g. mean field games",
        by="Count per year or per month",
        since="From this date on: YYYY, YYYY-MM or May 2023",
    )
    @cooldown()
    async def trend(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 200],
        by: Literal["year", "month"] = "year",
        since: str | None = None,
    ) -> None:
        """How many papers on a topic per year or month, as a chart."""
        start = parse_date(since) if since else None  # a bad date fails now, before "thinking…"
        await think(interaction)
        result = await self.bot.answer(self.bot.service.trend, topic, by, start)
        embed = embeds.trend_embed(result)
        if not result.counts:
            await send_pages(interaction, [embed])
            return
        png = await asyncio.to_thread(trend_png, result)
        await send_chart(interaction, embed, png, "trend.png")


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Papers(bot))
