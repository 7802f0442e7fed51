"""The Discord adapter: the only package that imports discord.py.

``create_bot`` builds the configured bot without connecting; ``run_bot`` connects;
``sync_commands`` pushes the slash commands to Discord (``paperbot sync``), which starting the
bot never does.
"""

from __future__ import annotations

import discord

from bot.config import Settings
from bot.credentials import discord_token
from bot.discord.client import PaperBot
from bot.errors import PaperbotError, UsageError
from bot.service import PaperService

__all__ = ["PaperBot", "create_bot", "run_bot", "sync_commands"]


def create_bot(settings: Settings | None = None, *, service: PaperService | None = None) -> PaperBot:
    """The configured bot, not connected. The database comes from the settings unless a service is given."""
    settings = settings or Settings()
    if service is None:
        from bot.compose import build_service

        service = build_service(settings)
    return PaperBot(settings, service)


def run_bot(settings: Settings, service: PaperService | None = None) -> None:
    """Connect and serve until stopped. Discord's refusals become one-line usage errors."""
    token = discord_token(settings)
    bot = create_bot(settings, service=service)
    try:
        bot.run(token, log_handler=None)  # keep the CLI's logging, and its token filter
    except discord.LoginFailure:
        raise UsageError(
            "Discord rejected the token: check DISCORD_TOKEN (Developer Portal → Bot)."
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise UsageError(
            "PAPERBOT_FREE_TEXT_CHANNELS=true needs the Message Content intent: enable it in the "
            "Developer Portal (Bot → Privileged Gateway Intents), or set the setting to false."
        ) from None
    except (OSError, discord.GatewayNotFound, discord.HTTPException) as exc:
        raise _unreachable(exc) from None


def _unreachable(exc: Exception) -> PaperbotError:
    """Network trouble at start: one line (aiohttp's connection errors are OSErrors)."""
    return PaperbotError(
        f"could not reach Discord ({type(exc).__name__}: {exc}); check the network and retry"
    )


async def sync_commands(
    settings: Settings, service: PaperService | None = None, guild_id: int | None = None
) -> list[str]:
    """Push the command tree to one guild (instant, for development) or globally; returns the names."""
    token = discord_token(settings)
    bot = create_bot(settings, service=service)
    async with bot:
        try:
            await bot.login(token)  # runs setup_hook: the cogs, hence the commands, are loaded
        except discord.LoginFailure:
            raise UsageError("Discord rejected the token: check DISCORD_TOKEN.") from None
        except (OSError, discord.HTTPException) as exc:
            raise _unreachable(exc) from None
        try:
            if guild_id is not None:
                guild = discord.Object(guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
            else:
                synced = await bot.tree.sync()
        except discord.Forbidden:
            raise UsageError(
                f"Discord refused to sync to guild {guild_id}: is the bot in it, invited with the "
                "applications.commands scope?"
            ) from None
    return sorted(command.name for command in synced)
