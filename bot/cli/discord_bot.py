"""``paperbot run`` (the Discord bot) and ``paperbot sync`` (push its slash commands).

discord.py is imported only when these commands run, so the rest of the CLI starts without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from bot.cli.app import app, state
from bot.cli.query import service_for
from bot.config import Settings
from bot.credentials import discord_token, install
from bot.errors import PaperbotError, UsageError


def _require_token(settings: Settings) -> None:
    """Fail fast with exit code 2, before any database work, and keep the token out of logs."""
    install(discord_token(settings))


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Errors as exactly one line on stderr (scripts grep it; a wrapped line reads as two)."""
    try:
        yield
    except PaperbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, UsageError) else 1) from None


@app.command("run")
def run_command(
    ctx: typer.Context,
    shard_id: Annotated[int | None, typer.Option("--shard-id", min=0, help="this process's shard")] = None,
    shard_count: Annotated[int | None, typer.Option("--shard-count", min=1, help="number of shards")] = None,
) -> None:
    """Start the Discord bot (needs DISCORD_TOKEN; slash commands are pushed by `paperbot sync`)."""
    settings = state(ctx).settings
    if (shard_id is None) != (shard_count is None) or (
        shard_count and shard_id is not None and shard_id >= shard_count
    ):
        raise UsageError("give --shard-id N and --shard-count M together, with 0 <= N < M")
    if shard_count:
        settings = settings.model_copy(update={"shard_id": shard_id, "shard_count": shard_count})
    with _one_line_errors():
        _require_token(settings)
        service = service_for(ctx, long_running=True)
        # Load the index before connecting (the first autocomplete must answer within 3 s); not
        # warm_up(), which asks a question that an optional LLM rewriter would send out.
        service.engine  # noqa: B018
        from bot.discord import run_bot

        run_bot(settings, service)


@app.command()
def sync(
    ctx: typer.Context,
    guild: Annotated[
        int | None,
        typer.Option("--guild", help="guild id: instant, for development (or PAPERBOT_DEV_GUILD_ID)"),
    ] = None,
    globally: Annotated[
        bool, typer.Option("--global", help="sync globally even if a dev guild is set")
    ] = False,
) -> None:
    """Push the slash commands to Discord: to one guild, or globally."""
    settings = state(ctx).settings
    target = None if globally else (guild or settings.dev_guild_id)
    with _one_line_errors():
        _require_token(settings)
        from bot.discord import sync_commands

        names = asyncio.run(sync_commands(settings, service_for(ctx), target))
    where = f"guild {target}" if target else "all guilds (global; may take a while to show)"
    typer.echo(f"synced {len(names)} commands to {where}: {', '.join('/' + n for n in names)}")
