"""The ``paperbot`` command line: thin commands over the service, one module per area."""

from bot.cli import bench, corpus, maintenance, query  # noqa: F401  (modules register their commands)
from bot.cli.app import app, run

__all__ = ["app", "run"]
