"""``paperbot chat``: the console chat on the same service as the Discord bot, no token needed."""

from __future__ import annotations

import typer

from bot.cli.app import app, err, state
from bot.cli.query import service_for
from bot.console import ConsoleChat
from bot.dialogue import Dialogue


@app.command()
def chat(ctx: typer.Context) -> None:
    """Talk to the bot in the terminal (or answer stdin lines): questions, /search, /paper, /help..."""
    if state(ctx).store.count_papers() == 0 and err.is_terminal:
        err.print("First run: loading the bundled seed papers…", style="dim")
    raise typer.Exit(ConsoleChat(Dialogue(service_for(ctx))).run())
