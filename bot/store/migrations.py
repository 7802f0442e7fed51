"""Versioned schema migrations for the SQLite store, applied in order and recorded."""

from __future__ import annotations

from bot.store.changes import CHANGE_TABLES
from bot.store.fulltext import ASKED_TABLES, FULLTEXT_TABLES
from bot.store.team import team_tables

# Each entry: (version, description, SQL script). Never edit a released entry: add one.
SQLITE_MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "papers, authors, ingest log",
        """
        CREATE TABLE papers (
            id TEXT PRIMARY KEY,
            title_key TEXT,
            arxiv_id TEXT,
            date TEXT,
            category TEXT,
            data TEXT NOT NULL,             -- the Paper model as JSON: the source of truth
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX papers_title_key ON papers(title_key);
        CREATE UNIQUE INDEX papers_arxiv_id ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL;
        CREATE INDEX papers_date ON papers(date);
        CREATE TABLE paper_authors (
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            author_key TEXT NOT NULL,       -- accent- and case-folded identity
            name TEXT NOT NULL,             -- display spelling
            PRIMARY KEY (paper_id, position)
        );
        CREATE INDEX paper_authors_key ON paper_authors(author_key);
        CREATE TABLE ingests (
            id INTEGER PRIMARY KEY,
            finished_at TEXT NOT NULL,
            added INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            files TEXT NOT NULL
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
    (
        2,
        "embeddings cache",
        """
        CREATE TABLE embeddings (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,        -- hash of the embedded text: stale when it changes
            vector BLOB NOT NULL            -- float16 array
        );
        """,
    ),
    (
        3,
        "per-channel settings (Discord free text)",
        """
        CREATE TABLE channel_settings (
            channel_id INTEGER PRIMARY KEY, -- a Discord channel or thread id
            guild_id INTEGER,
            free_text INTEGER NOT NULL DEFAULT 0,  -- answer every message, not only mentions
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        "daily digests: subscriptions, digests per (channel, day), posted papers, reactions",
        """
        CREATE TABLE subscriptions (
            channel_id INTEGER PRIMARY KEY,
            guild_id INTEGER,
            time TEXT NOT NULL,                 -- HH:MM, local to tz
            tz TEXT NOT NULL,
            profile TEXT NOT NULL,              -- the digest profile as JSON
            post_when_empty INTEGER NOT NULL DEFAULT 0,
            paused INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE digests (
            channel_id INTEGER NOT NULL,
            digest_date TEXT NOT NULL,          -- the subscription's local date
            status TEXT NOT NULL,               -- claimed | posted | empty
            claimed_at TEXT NOT NULL,
            posted_at TEXT,
            items TEXT,
            PRIMARY KEY (channel_id, digest_date)
        );
        CREATE TABLE posted (
            channel_id INTEGER NOT NULL,
            paper_id TEXT NOT NULL,
            digest_date TEXT NOT NULL,
            posted_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, paper_id)
        );
        CREATE TABLE reactions (
            channel_id INTEGER NOT NULL,
            paper_id TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, paper_id, user_id)
        );
        """,
    ),
    (
        5,
        "author look-ups read the index alone",
        # "papers by X" read every (paper, author) row of X through the table: with the paper
        # id in the index, SQLite answers from the index (a prolific author at 1M papers).
        """
        CREATE INDEX paper_authors_key_paper ON paper_authors(author_key, paper_id);
        DROP INDEX paper_authors_key;
        """,
    ),
    (
        6,
        "the team's library: reading lists, votes, personal watches, shared links",
        ";\n".join(team_tables("INTEGER PRIMARY KEY AUTOINCREMENT")) + ";",
    ),
    (
        7,
        "full texts: one document per paper, its passages with section, page and anchor",
        ";\n".join(FULLTEXT_TABLES) + ";",
    ),
    (
        8,
        "the change feed: papers stamped with the version that wrote them, tombstones of removed ones",
        ";\n".join(CHANGE_TABLES) + ";",
    ),
    (
        9,
        "the papers people asked about (fulltext fetch --asked)",
        ";\n".join(ASKED_TABLES) + ";",
    ),
]
