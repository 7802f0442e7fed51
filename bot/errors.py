"""User-facing errors: each becomes one clear line (CLI exit code 2, ephemeral Discord reply)."""


class PaperbotError(Exception):
    """An error the user can act on; its message is shown as is."""


class UsageError(PaperbotError):
    """Bad arguments or missing configuration (CLI exit code 2)."""


class NotFound(PaperbotError):
    """A paper or author that the corpus does not hold."""
