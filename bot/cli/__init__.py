"""The ``paperbot`` command line: thin commands over the service, one module per area."""

from bot.cli import (  # noqa: F401  (they register commands)
    bench,
    chat,
    corpus,
    digest,
    discord_bot,
    doctor,
    fetch,
    fulltext,
    maintenance,
    query,
    team,
    trend,
)
from bot.cli.app import app, run

__all__ = ["app", "run"]
