"""Storage behind one small interface. Nothing above this package writes SQL."""

from __future__ import annotations

from pathlib import Path

from bot.errors import UsageError
from bot.store.sqlite import SQLiteStore

# The interface every backend offers; SQLiteStore is the embedded default.
Store = SQLiteStore


def open_store(database_url: str | None = None, path: str | Path | None = None) -> Store:
    """Open the store named by a database URL (``sqlite:///path``) or a SQLite path."""
    if database_url:
        if database_url.startswith("sqlite:///"):
            return SQLiteStore(database_url.removeprefix("sqlite:///"))
        if database_url == "sqlite://":
            return SQLiteStore(":memory:")
        raise UsageError(f"unsupported database URL {database_url.split(':', 1)[0]}:// (use sqlite:///PATH)")
    if path is None:
        raise UsageError("no database: set PAPERBOT_DB or pass --db PATH")
    return SQLiteStore(path)
