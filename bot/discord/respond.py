"""Sending: deferring, pages with a paginator, replies to messages, and errors as users see them.

Everything sent here carries ``AllowedMentions.none()``: replies echo paper and user text, and
a paper titled "@everyone" must not ping a server.
"""

from __future__ import annotations

import contextlib
import io
import logging

import discord
from discord import app_commands

from bot.discord.embeds import message_text
from bot.discord.views import Paginator
from bot.errors import PaperbotError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again in a moment."


async def think(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Defer (the "thinking…" state) before slow work: Discord wants an answer within 3 s."""
    interaction.extras["ephemeral"] = ephemeral
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)


async def send_pages(
    interaction: discord.Interaction, pages: list[discord.Embed], *, ephemeral: bool = False
) -> None:
    """Follow up a deferred interaction with one embed, or a paginator when there are several."""
    if len(pages) == 1:
        await interaction.followup.send(embed=pages[0], ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
        return
    view = Paginator(pages, interaction.user.id)
    view.message = await interaction.followup.send(
        embed=pages[0], view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, wait=True
    )


async def send_chart(interaction: discord.Interaction, embed: discord.Embed, png: bytes, name: str) -> None:
    """Follow up with an embed that shows a PNG chart attached to the same message."""
    embed.set_image(url=f"attachment://{name}")
    await interaction.followup.send(
        embed=embed, file=discord.File(io.BytesIO(png), filename=name), allowed_mentions=NO_MENTIONS
    )


async def reply_pages(message: discord.Message, pages: list[discord.Embed]) -> discord.Message:
    """Reply to (quote) a message with embeds; several pages get a paginator for its author."""
    view = Paginator(pages, message.author.id) if len(pages) > 1 else None
    sent = await message.reply(
        embed=pages[0], mention_author=False, allowed_mentions=NO_MENTIONS, view=view or discord.utils.MISSING
    )
    if view is not None:
        view.message = sent
    return sent


async def reply_text(message: discord.Message, text: str) -> discord.Message:
    return await message.reply(message_text(text), mention_author=False, allowed_mentions=NO_MENTIONS)


# -- errors ---------------------------------------------------------------------------------
def error_message(error: Exception) -> str | None:
    """What to tell the user about an error, or None when it is our bug (log it, apologise)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, PaperbotError):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the Manage Server permission for this."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not read '{str(error.value)[:50]}' as a {error.type.name}."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """The tree's error handler: a short ephemeral message; unexpected errors are logged with context."""
    text = error_message(error)
    if text is None:
        original = getattr(error, "original", error)
        log.error(
            "command %r failed (user %s, guild %s, channel %s, options %r)",
            interaction.command.qualified_name if interaction.command else None,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            dict(interaction.namespace),
            exc_info=original,
        )
        text = APOLOGY
    if interaction.type is discord.InteractionType.autocomplete:
        return  # nothing can be shown in an autocomplete box
    try:
        await send_error(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


async def send_error(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral error, whatever state the interaction is in."""
    content = message_text(text)
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    if interaction.extras.get("ephemeral"):  # our own "thinking…" is private: turn it into the error
        await interaction.edit_original_response(content=content, embed=None, view=None)
        return
    # A public "thinking…" would show the error to everyone: remove it, then answer privately.
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)
