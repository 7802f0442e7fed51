"""User-facing errors: each becomes one clear line (CLI exit code 2, ephemeral Discord reply)."""

from __future__ import annotations

from pydantic import ValidationError


class PaperbotError(Exception):
    """An error the user can act on; its message is shown as is."""


class UsageError(PaperbotError):
    """Bad arguments or missing configuration (CLI exit code 2)."""


class NotFound(PaperbotError):
    """A paper or author that the corpus does not hold."""


def invalid(exc: ValidationError) -> UsageError:
    """The first reason a model refused its input ("time must be HH:MM, not '25:99'"), as a
    UsageError: ``str(exc)`` ends with a link to pydantic's docs, not the reason."""
    return UsageError(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
