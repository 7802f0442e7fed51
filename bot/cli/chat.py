"""``paperbot chat``: the console chat on the same service as the Discord bot, no token needed."""

from __future__ import annotations

import typer

from bot.chat.dialogue import Dialogue
from bot.cli.app import app
from bot.cli.query import service_for
from bot.console.chat import ConsoleChat


@app.command()
def chat(ctx: typer.Context) -> None:
    """Talk to the bot in the terminal (or answer stdin lines): questions, /search, /paper, /help..."""
    raise typer.Exit(ConsoleChat(Dialogue(service_for(ctx, long_running=True))).run())
