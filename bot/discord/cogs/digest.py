"""/digest: subscribe a channel to the daily digest; a loop posts what is due, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks
from pydantic import ValidationError

from bot.digest.book import DigestBook
from bot.digest.models import Digest, Profile, Subscription, digest_marker, digest_nonce
from bot.digest.run import ChannelUnavailable, DigestRunner
from bot.discord import digest_embeds
from bot.discord.checks import require_admin
from bot.discord.respond import NO_MENTIONS, think
from bot.errors import invalid

if TYPE_CHECKING:
    from bot.discord.client import PaperBot

log = logging.getLogger(__name__)


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class DigestCog(commands.GroupCog, group_name="digest", group_description="The daily digest of new papers"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.runner = DigestRunner(bot.service)
        self.book = DigestBook(bot.service.store)
        super().__init__()

    async def cog_load(self) -> None:
        self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.describe(
        time="Local time of day, HH:MM",
        timezone="IANA zone, e.g. Europe/Paris",
        categories="arXiv categories, comma-separated (cs.LG, cs.CL)",
        authors="Followed authors, comma-separated (default: the seed authors)",
        keywords="Keywords, comma-separated",
        exclude="Leave out papers that mention any of these, comma-separated",
        max_papers="Most papers per digest",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        time: str = "08:00",
        timezone: str = "UTC",
        categories: str | None = None,
        authors: str | None = None,
        keywords: str | None = None,
        max_papers: app_commands.Range[int, 1, 50] = 10,
        exclude: str | None = None,
    ) -> None:
        """Post new papers in this channel every day (Manage Server)."""
        require_admin(interaction)
        try:
            profile = Profile(
                authors=_names(authors) or None,
                categories=_names(categories),
                keywords=_names(keywords),
                exclude_keywords=_names(exclude),
                max_papers=max_papers,
            )
            sub = Subscription(
                channel_id=interaction.channel_id or 0,
                guild_id=interaction.guild_id,
                time=time,
                tz=timezone,
                profile=profile,
            )
        except ValidationError as exc:
            raise invalid(exc) from exc
        saved = await asyncio.to_thread(self.book.subscribe, sub)
        await interaction.response.send_message(embed=digest_embeds.subscription_embed(saved), ephemeral=True)

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        """Stop this channel's digest (Manage Server)."""
        require_admin(interaction)
        removed = await asyncio.to_thread(self.book.unsubscribe, interaction.channel_id or 0)
        text = "This channel's digest is stopped." if removed else "This channel has no digest."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command()
    @app_commands.describe(
        time="Local time of day, HH:MM",
        timezone="IANA zone, e.g. Europe/Paris",
        categories="arXiv categories, comma-separated ('-' for none)",
        authors="Followed authors, comma-separated ('-' for the seed authors)",
        keywords="Keywords, comma-separated ('-' for none)",
        exclude="Leave out papers that mention any of these ('-' for none)",
        max_papers="Most papers per digest",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        time: str | None = None,
        timezone: str | None = None,
        categories: str | None = None,
        authors: str | None = None,
        keywords: str | None = None,
        exclude: str | None = None,
        max_papers: app_commands.Range[int, 1, 50] | None = None,
    ) -> None:
        """Show this channel's digest settings; with options, change them (Manage Server)."""
        sub = await asyncio.to_thread(self.book.subscription, interaction.channel_id or 0)
        if sub is None:
            await interaction.response.send_message(
                "No digest here: an admin can run /digest subscribe.", ephemeral=True
            )
            return
        changes = {
            "categories": categories,
            "authors": authors,
            "keywords": keywords,
            "exclude_keywords": exclude,
        }
        edits = {k: (_names(v) if v.strip() != "-" else None) for k, v in changes.items() if v is not None}
        if edits or time or timezone or max_papers:
            require_admin(interaction)
            profile = sub.profile.model_dump()
            profile |= {k: (v if v is not None or k == "authors" else []) for k, v in edits.items()}
            if max_papers:
                profile["max_papers"] = max_papers
            try:
                sub = Subscription(
                    **(sub.model_dump() | {"time": time or sub.time, "tz": timezone or sub.tz}),
                )
                sub.profile = Profile.model_validate(profile)
            except ValidationError as exc:
                raise invalid(exc) from exc
            sub = await asyncio.to_thread(self.book.subscribe, sub)
        await interaction.response.send_message(embed=digest_embeds.subscription_embed(sub), ephemeral=True)

    @app_commands.command()
    async def preview(self, interaction: discord.Interaction) -> None:
        """What this channel's digest would post now (only you see it)."""
        await think(interaction, ephemeral=True)
        sub = await asyncio.to_thread(self.book.subscription, interaction.channel_id or 0)
        profile = sub.profile if sub else Profile()
        items = await asyncio.to_thread(self.runner.preview, profile)
        digest = Digest(channel=interaction.channel_id or 0, date=dt.date.today().isoformat(), items=items)
        await interaction.followup.send(
            embed=digest_embeds.digest_messages(digest)[0], ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def now(self, interaction: discord.Interaction) -> None:
        """Post the digests that are due now (Manage Server)."""
        require_admin(interaction)
        await think(interaction, ephemeral=True)
        posted = await self.run_due(dt.datetime.now(dt.UTC))
        await interaction.followup.send(f"Posted {len(posted)} digest(s).", ephemeral=True)

    # -- the schedule -------------------------------------------------------------------
    @tasks.loop(minutes=1)
    async def tick(self) -> None:
        await self.run_due(dt.datetime.now(dt.UTC))

    @tick.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def run_due(self, now: dt.datetime) -> list[Digest]:
        loop = asyncio.get_running_loop()

        def post(sub: Subscription, digest: Digest) -> None:  # runs in the worker thread
            asyncio.run_coroutine_threadsafe(self.post(sub, digest), loop).result(timeout=120)

        def find(sub: Subscription, digest: Digest) -> bool:
            return asyncio.run_coroutine_threadsafe(self.find(sub, digest), loop).result(timeout=60)

        serves = lambda sub: self.bot.serves_guild(sub.guild_id)  # noqa: E731
        return await asyncio.to_thread(self.runner.run_due, now, post, serves, find)

    async def post(self, sub: Subscription, digest: Digest) -> None:
        """One message, and a thread under it for what does not fit."""
        channel = self.bot.get_channel(sub.channel_id)
        try:
            if channel is None:
                channel = await self.bot.fetch_channel(sub.channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise ChannelUnavailable(f"channel {sub.channel_id} cannot receive messages")
            pages = digest_embeds.digest_messages(digest)
            message = await channel.send(
                embed=pages[0],
                allowed_mentions=NO_MENTIONS,
                nonce=digest_nonce(digest.channel, digest.date),  # discord.py sets enforce_nonce
            )
            if len(pages) > 1 and isinstance(message, discord.Message):
                thread = await message.create_thread(name=f"More papers {digest.date}")
                for page in pages[1:]:
                    await thread.send(embed=page, allowed_mentions=NO_MENTIONS)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{type(exc).__name__}: {exc.text or exc}") from exc

    async def find(self, sub: Subscription, digest: Digest, limit: int = 50) -> bool:
        """Whether the channel's recent messages hold this digest from us (its footer names the day)."""
        channel = self.bot.get_channel(sub.channel_id) or await self.bot.fetch_channel(sub.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return False
        marker = digest_marker(digest.date)
        async for message in channel.history(limit=limit):
            if message.author == self.bot.user and any(
                (embed.footer.text or "").startswith(marker) for embed in message.embeds
            ):
                return True
        return False

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction on a digest teaches the channel's library: a number (1️⃣-🔟) picks that item,
        any reaction on a one-paper digest picks its paper."""
        if self.bot.user and payload.user_id == self.bot.user.id:
            return
        channel = self.bot.get_channel(payload.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        try:
            message = await channel.fetch_message(payload.message_id)
        except discord.HTTPException:
            return
        if (
            message.author != self.bot.user
            or not message.embeds
            or "digest" not in (message.embeds[0].footer.text or "")
        ):
            return
        arxiv_ids = digest_embeds.listed_arxiv_ids(message.embeds[0].description or "")
        chosen = digest_embeds.reacted_item(str(payload.emoji), len(arxiv_ids))
        if chosen is None:
            return
        paper = await asyncio.to_thread(self.bot.service.store.find_by_arxiv_id, arxiv_ids[chosen])
        if paper:
            await asyncio.to_thread(self.book.react, payload.channel_id, paper.id, payload.user_id)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(DigestCog(bot))
