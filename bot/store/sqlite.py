"""The embedded SQLite store: one file, WAL, versioned migrations, one transaction per ingest.

Implements ``bot.store.base.Store`` (see there for the semantics both backends share)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.models import IngestReport, Paper, author_rows
from bot.store.base import (
    IngestRow,
    StoredVector,
    UnlinkedTitle,
    abstract_versions,
    display_names,
    in_pages,
    ingest_row,
)
from bot.store.base import now as _now
from bot.store.changes import Changes, changes_since, forget_removals, next_version, record_removal
from bot.store.digests import DigestRows
from bot.store.fulltext import FulltextRows
from bot.store.migrations import SQLITE_MIGRATIONS
from bot.store.team import TeamRows
from bot.text import key

# Indexes that no query of an ingest reads: a bulk load drops them and makes them again at its
# end, one sort each instead of an insert at a random place per row (see ``indexes_deferred``).
DEFERRABLE_INDEXES = (
    "paper_authors_key_paper",
    "papers_title_key",
    "papers_date",
    "papers_added_at",
    "papers_changed",
)


class SQLiteStore:
    """Papers and bot state in one SQLite file. Nothing above the store writes SQL.

    One connection per thread (SQLite connections must not be shared across threads);
    ``atomic()`` wraps a unit of work in one transaction.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        self.migrate()

    # -- connections -------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        if self.path == ":memory:":  # one shared connection, or every thread sees its own empty db
            if self._memory is None:
                self._memory = self._connect()
            return self._memory
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        # A new file gets 16 KiB pages (a no-op on an existing one): a paper's row is about 3 KB,
        # so a 4 KiB page held one and wasted a quarter of itself (50k papers: 205 -> 157 MB).
        conn.execute("PRAGMA page_size=16384")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        # 64 MiB of page cache (default 2 MiB): an ingest inserts into indexes of millions of rows
        # and re-read their pages (100k papers: 31 -> 26 s to parse and store).
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None) or self._memory
        if conn is not None:
            conn.close()
        self._local.conn = None
        self._memory = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def atomic(self, lock: str | None = None) -> Iterator[None]:
        """One transaction; nested calls join the outer one. On error nothing is written.

        ``lock`` is honoured by a stronger lock: BEGIN IMMEDIATE takes the database's one write
        lock until commit, so every unit of work that writes takes turns with every other one,
        whatever its lock's name (in this process's threads and in other processes).
        """
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def indexes_deferred(self) -> Iterator[None]:
        """Inside a transaction, for loading many papers: the indexes no ingest query reads are
        dropped, and made again when the block ends. Readers keep seeing them (they read the
        last commit); if the block fails, the rollback brings them back."""
        assert self.db.in_transaction, "indexes_deferred is for inside atomic()"
        marks = ",".join("?" * len(DEFERRABLE_INDEXES))
        found = self.db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
            DEFERRABLE_INDEXES,
        ).fetchall()
        for name, _ in found:
            self.db.execute(f'DROP INDEX "{name}"')
        yield
        for _, sql in found:
            self.db.execute(sql)

    # -- schema ------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply pending migrations; returns the versions applied."""
        db = self.db
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT, applied_at TEXT)"
        )
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, description, script in SQLITE_MIGRATIONS:
            if version in done:
                continue
            with self.atomic():
                for statement in _statements(script):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, description, _now()))
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    # -- papers ------------------------------------------------------------------------
    def get_paper(self, paper_id: str) -> Paper | None:
        row = self.db.execute("SELECT data FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return Paper.model_validate_json(row[0]) if row else None

    def get_papers(self, ids: Iterable[str]) -> list[Paper]:
        """Papers in the order of ``ids`` (unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT data FROM papers WHERE id IN ({marks})", chunk):
                paper = Paper.model_validate_json(row[0])
                found[paper.id] = paper
        return [found[i] for i in wanted if i in found]

    def find_by_arxiv_id(self, arxiv_id: str) -> Paper | None:
        row = self.db.execute("SELECT data FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        return Paper.model_validate_json(row[0]) if row else None

    def put_paper(self, paper: Paper) -> None:
        """Insert or replace one paper (and its author rows)."""
        self.put_papers([paper])

    def put_papers(self, papers: list[Paper]) -> None:
        """Insert or replace papers and their author rows: one statement per table for the batch.
        A replaced paper keeps its added_at and its embeddings (stale ones are told by their hash)."""
        if not papers:
            return
        now = _now()
        with self.atomic():
            version = next_version(self._rows)
            self.db.executemany(
                """INSERT INTO papers (id, title_key, arxiv_id, date, category, data, added_at, updated_at, changed)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET title_key=excluded.title_key, arxiv_id=excluded.arxiv_id,
                     date=excluded.date, category=excluded.category, data=excluded.data,
                     updated_at=excluded.updated_at, changed=excluded.changed""",
                [(*_paper_row(p, now), version) for p in papers],
            )
            forget_removals(self._rows, [p.id for p in papers])
            self.db.executemany("DELETE FROM paper_authors WHERE paper_id = ?", [(p.id,) for p in papers])
            self.db.executemany("INSERT INTO paper_authors VALUES (?, ?, ?, ?)", author_rows(papers))

    def unlinked_titles(self) -> list[UnlinkedTitle]:
        """Titled papers without an arXiv id, with their first author's key."""
        rows = self.db.execute(
            """SELECT p.id, p.title_key, a.author_key FROM papers p
               JOIN paper_authors a ON a.paper_id = p.id AND a.position = 0
               WHERE p.arxiv_id IS NULL AND p.title_key IS NOT NULL"""
        )
        return [UnlinkedTitle(row[0], row[1], row[2]) for row in rows]

    def known_arxiv_ids(self, arxiv_ids: list[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(arxiv_ids), 500):
            chunk = arxiv_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found += [
                r[0]
                for r in self.db.execute(f"SELECT arxiv_id FROM papers WHERE arxiv_id IN ({marks})", chunk)
            ]
        return found

    def delete_paper(self, paper_id: str) -> None:
        with self.atomic():
            record_removal(self._rows, paper_id, next_version(self._rows))
            self.db.execute("DELETE FROM papers WHERE id = ?", (paper_id,))

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper in id order, read a page of ``batch`` at a time."""
        rows = in_pages(
            lambda last: self.db.execute(
                "SELECT id, data FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
        )
        return (Paper.model_validate_json(row[1]) for row in rows)

    def titled_abstracts(self, batch: int = 1000) -> Iterator[tuple[str, list[str]]]:
        """(id, abstract versions) of every titled paper in id order, without reading the rest."""
        rows = in_pages(
            lambda last: self.db.execute(
                """SELECT id, json_extract(data, '$.abstract'), json_extract(data, '$.other_abstracts')
                   FROM papers WHERE id > ? AND title_key IS NOT NULL ORDER BY id LIMIT ?""",
                (last, batch),
            ).fetchall()
        )
        return ((row[0], abstract_versions(row[1], row[2])) for row in rows)

    def untitled_papers(self) -> list[Paper]:
        rows = self.db.execute("SELECT data FROM papers WHERE title_key IS NULL")
        return [Paper.model_validate_json(row[0]) for row in rows]

    def papers_from_sources(self, suffix: str) -> list[Paper]:
        """Papers one of whose sources (file names) ends with ``suffix`` (".txt": the seeds)."""
        rows = self.db.execute(
            """SELECT data FROM papers WHERE EXISTS (
                 SELECT 1 FROM json_each(papers.data, '$.sources') WHERE value LIKE '%' || ?)""",
            (suffix,),
        )
        return [Paper.model_validate_json(row[0]) for row in rows]

    def added_since(self, when: str) -> list[str]:
        """Ids of the papers first stored after ``when`` (an ISO time)."""
        return [
            r[0] for r in self.db.execute("SELECT id FROM papers WHERE added_at > ? ORDER BY id", (when,))
        ]

    def count_papers(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])

    # -- authors -----------------------------------------------------------------------
    def author_names(self) -> dict[str, tuple[str, int]]:
        """Folded key -> (display spelling, number of papers). Accented spellings win."""
        return display_names(
            self.db.execute(
                "SELECT author_key, name, COUNT(DISTINCT paper_id) FROM paper_authors GROUP BY author_key, name"
            )
        )

    # -- embeddings ------------------------------------------------------------------------
    def embeddings_for(self, model: str, paper_ids: list[str]) -> dict[str, StoredVector]:
        """paper id -> (text hash, float16 vector bytes) of the given papers, for one model."""
        found: dict[str, StoredVector] = {}
        for start in range(0, len(paper_ids), 500):
            chunk = paper_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT paper_id, text_hash, vector FROM embeddings WHERE model = ? AND paper_id IN ({marks})",
                [model, *chunk],
            )
            found.update((row[0], StoredVector(row[1], bytes(row[2]))) for row in rows)
        return found

    def index_folder(self) -> Path | None:
        """Where search indexes of this database are saved (None for an in-memory database)."""
        return None if self.path == ":memory:" else Path(self.path + ".index")

    def put_embeddings(self, model: str, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """Store (paper id, text hash, vector bytes) rows, replacing older ones."""
        with self.atomic():
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings (paper_id, model, text_hash, vector) VALUES (?, ?, ?, ?)",
                [(pid, model, text_hash, vector) for pid, text_hash, vector in rows],
            )

    # -- ingest log and key/value state -------------------------------------------------
    def record_ingest(self, report: IngestReport) -> None:
        self.db.execute(
            "INSERT INTO ingests (finished_at, added, updated, unchanged, skipped, files) VALUES (?, ?, ?, ?, ?, ?)",
            ingest_row(report),
        )

    def bump_corpus_version(self) -> None:
        """Mark the corpus as changed, so search indexes built from it know they are stale
        (writes to the papers do it themselves)."""
        with self.atomic():
            next_version(self._rows)

    def corpus_version(self) -> int:
        return int(self.get_meta("corpus_version") or 0)

    def changes_since(self, version: int) -> Changes:
        return changes_since(self._rows, version)

    def wait_for_change(self, timeout: float) -> bool:
        """SQLite cannot tell other processes of a write: the watcher polls (False: not told)."""
        time.sleep(timeout)
        return False

    def last_ingest(self) -> IngestRow | None:
        row = self.db.execute(
            "SELECT finished_at, added, updated, unchanged, skipped, files FROM ingests ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return IngestRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5])) if row else None

    def store_id(self) -> str:
        """A random id given to this database once: tells a cached index of another database.
        Read first: a write would wait for another process's ingest."""
        if found := self.get_meta("store_id"):
            return found
        self.db.execute(
            "INSERT INTO meta VALUES ('store_id', ?) ON CONFLICT(key) DO NOTHING", (uuid.uuid4().hex,)
        )
        return str(self.get_meta("store_id"))

    def get_meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    # -- channel settings (Discord adapter: free text per channel) ----------------------------
    def set_free_text(self, channel_id: int, enabled: bool, guild_id: int | None = None) -> None:
        """Answer every message in this channel (True) or only mentions (False)."""
        self.db.execute(
            """INSERT INTO channel_settings (channel_id, guild_id, free_text, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(channel_id) DO UPDATE SET free_text = excluded.free_text,
                 guild_id = COALESCE(excluded.guild_id, guild_id), updated_at = excluded.updated_at""",
            (channel_id, guild_id, int(enabled), _now()),
        )

    def free_text_channels(self) -> set[int]:
        """Ids of the channels where every message is answered."""
        rows = self.db.execute("SELECT channel_id FROM channel_settings WHERE free_text = 1")
        return {int(row[0]) for row in rows}

    # -- the digest's tables (bot.store.digests) ----------------------------------------------
    @property
    def digests(self) -> DigestRows:
        return DigestRows(self._rows)

    # -- the team's tables (bot.store.team) ------------------------------------------------
    @property
    def team(self) -> TeamRows:
        return TeamRows(self._rows)

    # -- full texts and their passages (bot.store.fulltext) ----------------------------------
    @property
    def fulltext(self) -> FulltextRows:
        return FulltextRows(self._rows, self._many, self.atomic)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.db.execute(sql, params).fetchall()]

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)


def _paper_row(paper: Paper, now: str) -> tuple[object, ...]:
    """The papers table's row: the model as JSON, plus the columns queries filter on."""
    return (
        paper.id,
        key(paper.title) if paper.title else None,
        paper.arxiv_id,
        paper.date.isoformat() if paper.date else None,
        paper.category,
        paper.model_dump_json(exclude={"label"}),
        now,
        now,
    )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]


# -- maintenance ----------------------------------------------------------------------------
def backup_database(store: SQLiteStore, target: Path) -> int:
    """A consistent copy of the live database (SQLite's online backup API); returns pages copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    copy = sqlite3.connect(str(target))
    try:
        store.db.backup(copy)
        return int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()


def integrity_problems(store: SQLiteStore) -> list[str]:
    """What ``PRAGMA integrity_check`` and the foreign keys report (empty when all is well)."""
    rows = [row[0] for row in store.db.execute("PRAGMA integrity_check")]
    problems = [r for r in rows if r != "ok"]
    problems += [f"dangling row in {row[0]}" for row in store.db.execute("PRAGMA foreign_key_check")]
    return problems
