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
    service = service_for(ctx, long_running=True)
    code = ConsoleChat(Dialogue(service)).run()
    service.wait_for_records(timeout=RECORD_SECONDS)  # the papers asked about, noted before leaving
    raise typer.Exit(code)


RECORD_SECONDS = 5.0
