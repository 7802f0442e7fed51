"""Storage behind one protocol (``bot.store.base.Store``). Nothing above this package writes SQL.

SQLite (one file, no server) is the default; PostgreSQL serves deployments with several
processes or hosts. ``open_store`` picks one from a database URL. The modules:

- ``base``: the ``Store`` and ``DigestStore`` protocols, their typed rows and shared semantics;
- ``sqlite`` / ``postgres``: papers, embeddings, ingest log, meta and settings per backend;
- ``digests``: the digest's tables, one set of statements for both backends;
- ``team`` / ``fulltext``: the team's library; papers' full texts and passages (the same);
- ``migrations`` / ``pg_migrations``: each backend's versioned schema.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import UsageError
from bot.store.base import DigestStore, IngestRow, Store, StoredVector, SubscriptionRow, UnlinkedTitle
from bot.store.sqlite import SQLiteStore

__all__ = [
    "DigestStore",
    "IngestRow",
    "SQLiteStore",
    "Store",
    "StoredVector",
    "SubscriptionRow",
    "UnlinkedTitle",
    "open_store",
]


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
