"""The ``paperbot`` command line: thin commands over the service, one module per area."""

from bot.cli import corpus  # noqa: F401  (registers its commands)
from bot.cli.app import app, run

__all__ = ["app", "run"]
