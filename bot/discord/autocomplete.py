"""Autocomplete callbacks shared by the cogs: titles, authors, categories (<= 25 x 100 chars)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.discord.embeds import CHOICE_NAME, CHOICES, choice_name
from bot.models import SUBJECT_CATEGORIES

if TYPE_CHECKING:
    from bot.discord.client import PaperBot

log = logging.getLogger(__name__)
CATEGORIES = sorted(set(SUBJECT_CATEGORIES.values()))


async def titles(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Fuzzy title matches; the value is the paper id, so the command gets exactly that paper."""
    bot: PaperBot = interaction.client
    try:
        pairs = await asyncio.to_thread(bot.service.complete_titles, current[:200], CHOICES)
    except Exception:  # an autocomplete box cannot show errors: log, offer nothing
        log.exception("title autocomplete failed for %r", current[:100])
        return []
    return [app_commands.Choice(name=choice_name(label), value=pid) for label, pid in pairs[:CHOICES]]


async def authors(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Author names, accent-insensitive ("perolat" finds "Pérolat")."""
    bot: PaperBot = interaction.client
    try:
        names = await asyncio.to_thread(bot.service.complete_authors, current[:100], CHOICES)
    except Exception:
        log.exception("author autocomplete failed for %r", current[:100])
        return []
    return [app_commands.Choice(name=choice_name(n), value=n[:CHOICE_NAME]) for n in dict.fromkeys(names)][
        :CHOICES
    ]


async def categories(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    found = [c for c in CATEGORIES if typed in c.lower()]
    return [app_commands.Choice(name=c, value=c) for c in found[:CHOICES]]
