"""Asking: /ask, /search, /help, and free text (mentions, DMs, channels with free text on)."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.commands import parse_date
from bot.chat.conversation import parse_follow_up
from bot.chat.dialogue import AnswerReply, Notice, Reply
from bot.discord import autocomplete, embeds
from bot.discord.checks import cooldown, free_text_question
from bot.discord.client import PaperBot
from bot.discord.respond import APOLOGY, NO_MENTIONS, reply_pages, reply_text, send_pages, think
from bot.models import Answer

log = logging.getLogger(__name__)


class Ask(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self._background: set[asyncio.Task[object]] = set()

    @app_commands.command()
    @app_commands.describe(question="A question, a title, an acronym, or 'papers by NAME'")
    @cooldown()
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 500]) -> None:
        """Ask about papers: the passage that answers, the paper, and links."""
        await think(interaction)
        reply = await self.bot.answer(
            self.bot.dialogue.ask, interaction.channel_id, question, question=question
        )
        await send_pages(interaction, embeds.reply_pages(reply))
        self._fetch_body_later(reply)

    @app_commands.command()
    @app_commands.describe(
        query="What to look for",
        author="Only papers by this author",
        category="Only this arXiv category, e.g. cs.LG",
        since="Only papers from this date on: YYYY or YYYY-MM-DD",
        until="Only papers up to this date: YYYY or YYYY-MM-DD",
    )
    @app_commands.autocomplete(author=autocomplete.authors, category=autocomplete.categories)
    @cooldown()
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 300],
        author: str | None = None,
        category: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Search papers, with optional filters; results come in pages."""
        start = parse_date(since) if since else None  # bad dates fail now, before "thinking…"
        end = parse_date(until, end=True) if until else None
        await think(interaction)
        reply = await self.bot.answer(
            self.bot.dialogue.search, interaction.channel_id, query, author, category, start, end
        )
        await send_pages(interaction, embeds.list_pages(reply.heading, reply.papers, reply.empty))

    @app_commands.command(name="help")
    async def help_command(self, interaction: discord.Interaction) -> None:
        """What I can do, with examples."""
        await interaction.response.send_message(embed=embeds.help_embed(), ephemeral=True)

    # -- free text ---------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if self.bot.user is None:
            return
        enabled = self.bot.free_text_enabled(message.channel)
        question = free_text_question(message, self.bot.user, enabled)
        if question is None:
            return
        # In a free-text channel, chatter that was not addressed to us and finds nothing gets no reply.
        addressed = not enabled or free_text_question(message, self.bot.user, False) is not None
        try:
            await self._answer(message, question, addressed)
        except discord.HTTPException as exc:  # e.g. no permission to reply here: nothing to tell anyone
            log.warning("could not reply in channel %s: %s", message.channel.id, exc)

    async def _answer(self, message: discord.Message, question: str, addressed: bool) -> None:
        if not question:  # just "@paperbot": say what it can do
            await reply_pages(message, [embeds.help_embed()])
            return
        # Follow-ups ("the second one") only read memory: they are never slowed down.
        if parse_follow_up(question) is None:
            retry = self.bot.cooldowns.retry_after(("free text", message.author.id))
            if retry > 0:
                if addressed:  # channel chatter is not told off
                    await reply_text(message, f"One question at a time: try again in {retry:.0f} s.")
                return
        try:
            async with message.channel.typing():
                reply = await self.bot.answer(
                    self.bot.dialogue.handle, question, message.channel.id, question=question
                )
        except Exception:
            log.exception(
                "free text failed (user %s, guild %s, channel %s): %r",
                message.author.id,
                message.guild.id if message.guild else None,
                message.channel.id,
                question[:200],
            )
            await reply_text(message, APOLOGY)
            return
        if isinstance(reply, AnswerReply) and reply.answer.intent == "link":
            await self._link_cards(message, reply.answer)
        elif addressed or not _nothing_found(reply):
            await reply_pages(message, embeds.reply_pages(reply))
            self._fetch_body_later(reply)

    def _fetch_body_later(self, reply: Reply) -> None:
        """When the question named a paper whose abstract is silent, fetch its full text in the
        background: the follow-up then answers from the body."""
        if isinstance(reply, AnswerReply) and (paper_id := reply.answer.needs_fulltext):
            task = asyncio.create_task(asyncio.to_thread(self.bot.service.fetch_fulltext, paper_id))
            self._background.add(task)  # a reference until it ends, or the loop may drop it
            task.add_done_callback(self._background.discard)

    async def _link_cards(self, message: discord.Message, answer: Answer) -> None:
        """A card per linked paper; in a server, when it was shared there before (and this share
        is remembered for next time)."""
        shared: dict[str, str] = {}
        if message.guild is not None:
            guild = message.guild.id
            papers = [h.paper.id for h in answer.hits]
            shared = await asyncio.to_thread(self._shares, guild, papers, message)
        await message.reply(
            embeds=embeds.link_cards(answer, shared), mention_author=False, allowed_mentions=NO_MENTIONS
        )

    def _shares(self, guild: int, paper_ids: list[str], message: discord.Message) -> dict[str, str]:
        rows = self.bot.service.store.team
        notes = {}
        for pid in paper_ids:
            first = rows.first_share(guild, pid)
            if first is not None and first.message_id != message.id:
                jump = f"https://discord.com/channels/{guild}/{first.channel_id}/{first.message_id}"
                who = f" by <@{first.user_id}>" if first.user_id else ""
                notes[pid] = (
                    f"Shared before in <#{first.channel_id}>{who} on {first.shared_at[:10]} · [jump]({jump})"
                )
        with self.bot.service.store.atomic():
            for pid in paper_ids:
                rows.share(guild, pid, message.channel.id, message.author.id, message.id)
        return notes


def _nothing_found(reply: Reply) -> bool:
    return isinstance(reply, Notice) or (isinstance(reply, AnswerReply) and not reply.answer.hits)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Ask(bot))
