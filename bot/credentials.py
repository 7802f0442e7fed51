"""The Discord token: required where it is needed, and kept out of every log line and traceback."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.errors import UsageError

REDACTED = "[redacted]"


def discord_token(settings: Settings) -> str:
    """The token, or a usage error (exit code 2) that says how to set one."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise UsageError(
            "no Discord token: set DISCORD_TOKEN in the environment or in .env (see .env.example); "
            "`paperbot chat` works without one"
        )
    return token


class RedactFilter(logging.Filter):
    """Replaces each secret in the formatted message and in exception text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(*secrets: str) -> RedactFilter:
    """Filter every handler of the root logger (filters on a logger miss its children's records)."""
    redactor = RedactFilter(list(secrets))
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(redactor)
    return redactor
