"""Checks: admin permission, per-user cooldowns, and when a plain message is meant for the bot."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.discord.client import PaperBot

T = TypeVar("T")


# -- admin ----------------------------------------------------------------------------------
def require_admin(interaction: discord.Interaction) -> None:
    """Raise unless the invoker may manage the server.

    ``default_permissions`` only hides a command, and server admins can change who sees it
    (Integrations settings); this check is the one that counts, so commands call it too.
    """
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage("This command only works in a server.")
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])


def is_admin() -> Callable[[T], T]:
    """Decorator form of :func:`require_admin`, checked before the command runs."""

    def predicate(interaction: discord.Interaction) -> bool:
        require_admin(interaction)
        return True

    return app_commands.check(predicate)


# -- cooldowns ------------------------------------------------------------------------------
class Cooldowns:
    """One use per ``seconds`` per key (command, user). Thread-safe; a clock can be injected."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: Hashable) -> float:
        """0 and the use is counted, or the seconds left to wait (the use is not counted)."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.seconds:
                return self.seconds - (now - last)
            self._last[key] = now
            if len(self._last) > 10_000:  # forget users who are long done
                self._last = {k: t for k, t in self._last.items() if now - t < self.seconds}
        return 0.0


def cooldown() -> Callable[[T], T]:
    """Per-user cooldown (Settings.cooldown_seconds) on an expensive slash command."""

    def predicate(interaction: discord.Interaction[Any]) -> bool:
        bot: PaperBot = interaction.client
        name = interaction.command.qualified_name if interaction.command else "?"
        retry = bot.cooldowns.retry_after((name, interaction.user.id))
        if retry > 0:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, bot.cooldowns.seconds), retry)
        return True

    return app_commands.check(predicate)


# -- free text ------------------------------------------------------------------------------
def free_text_question(message: discord.Message, me: discord.abc.User, channel_enabled: bool) -> str | None:
    """The question in a message meant for the bot, or None when it is not addressed to us.

    Meant for us: a DM, a message mentioning the bot (or its managed role), a reply to one of
    our messages, or any message in a channel where an admin turned free text on. The mentions are taken out of the question.
    """
    if message.author.bot or message.webhook_id is not None:
        return None
    guild = message.guild
    own_role = guild.self_role if guild is not None else None
    addressed = (
        guild is None
        or any(user.id == me.id for user in message.mentions)
        or (own_role is not None and own_role in message.role_mentions)
        or channel_enabled
        or _replies_to(message, me)
    )
    if not addressed:
        return None
    text = re.sub(rf"<@!?{me.id}>", " ", message.content)
    if own_role is not None:
        text = text.replace(own_role.mention, " ")
    return " ".join(text.split()).lstrip(",:;").strip()


def _replies_to(message: discord.Message, me: discord.abc.User) -> bool:
    """A reply to one of our messages is for us, even with the reply ping turned off."""
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id
