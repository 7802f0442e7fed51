"""The ``paperbot`` command line: thin commands over the service, one module per area."""

from bot.cli import bench, chat, corpus, digest, discord_bot, fetch, maintenance, query  # noqa: F401  (they register commands)
from bot.cli.app import app, run

__all__ = ["app", "run"]
