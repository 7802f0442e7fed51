"""Storage behind one small interface. Nothing above this package writes SQL.

SQLite (one file, no server) is the default; PostgreSQL serves deployments with several
processes. ``open_store`` picks one from a database URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bot.errors import UsageError
from bot.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from bot.store.postgres import PostgresStore

    Store: TypeAlias = SQLiteStore | PostgresStore
else:
    Store = SQLiteStore  # the PostgreSQL store is imported only when it is used


def open_store(database_url: str | None = None, path: str | Path | None = None) -> Store:
    """Open the store named by a database URL (``sqlite:///path``, ``postgresql://...``) or a path."""
    if database_url:
        if database_url.startswith("sqlite:///"):
            return SQLiteStore(database_url.removeprefix("sqlite:///"))
        if database_url == "sqlite://":
            return SQLiteStore(":memory:")
        if database_url.startswith(("postgresql://", "postgres://")):
            try:
                from bot.store.postgres import PostgresStore
            except ImportError as exc:
                raise UsageError("PostgreSQL needs the extra: pip install 'paperbot[postgres]'") from exc
            return PostgresStore(database_url)
        scheme = database_url.split(":", 1)[0]
        raise UsageError(f"unsupported database URL {scheme}:// (use sqlite:///PATH or postgresql://...)")
    if path is None:
        raise UsageError("no database: set PAPERBOT_DB or pass --db PATH")
    return SQLiteStore(path)
