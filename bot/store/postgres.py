"""The PostgreSQL store: the same ``Store`` protocol as ``SQLiteStore`` (bot.store.base), for
deployments that outgrow one process (several bot shards, a cron job beside the bot, several hosts).

psycopg 3 with a connection pool. Outside ``atomic()`` each call borrows a connection in
autocommit mode; inside, the thread keeps one connection and one transaction. ``atomic(lock=)``
takes an advisory lock, so concurrent ingests of overlapping files never interleave their merges.
Search does not run here: each process builds (or loads from its cache folder) the same
in-process index as on SQLite, from the papers read through the protocol.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir
from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

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
from bot.store.changes import Changes, changes_since, next_version, record_removal
from bot.store.digests import DigestRows
from bot.store.fulltext import FulltextRows
from bot.store.pg_migrations import POSTGRES_MIGRATIONS
from bot.store.team import TeamRows
from bot.text import key

CHANNEL = "paperbot_changes"  # NOTIFY channel of writes to the papers


class PostgresStore:
    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.path = url  # for messages; there is no file
        self.pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True
        )
        self._local = threading.local()
        self._listeners: list[Connection[Any]] = []  # watchers' LISTEN connections
        self.migrate()

    # -- connections -------------------------------------------------------------------
    @contextmanager
    def _conn(self) -> Iterator[Connection[Any]]:
        current = getattr(self._local, "tx", None)
        if current is not None:
            yield current
            return
        with self.pool.connection() as conn:
            yield conn

    def _execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def atomic(self, lock: str | None = None) -> Iterator[None]:
        """One transaction; nested calls join it. ``lock`` names an advisory lock held until
        commit (taken in a nested call too: joining a transaction does not skip its lock)."""
        current = getattr(self._local, "tx", None)
        if current is not None:
            if lock:
                current.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
            yield
            return
        with self.pool.connection() as conn, conn.transaction():
            self._local.tx = conn
            try:
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                yield
            finally:
                self._local.tx = None

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        self.pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        applied = []
        with self.atomic(lock="paperbot-migrations"):
            self._execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT, applied_at TEXT)"
            )
            done = {row[0] for row in self._execute("SELECT version FROM schema_migrations")}
            for version, description, statements in POSTGRES_MIGRATIONS:
                if version in done:
                    continue
                for statement in statements:
                    self._execute(statement)
                self._execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s)", (version, description, _now())
                )
                applied.append(version)
        return applied

    def schema_version(self) -> int:
        return int(self._execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0])

    # -- papers ------------------------------------------------------------------------
    def get_paper(self, paper_id: str) -> Paper | None:
        rows = self._execute("SELECT data::text FROM papers WHERE id = %s", (paper_id,))
        return Paper.model_validate_json(rows[0][0]) if rows else None

    def get_papers(self, ids: Iterable[str]) -> list[Paper]:
        wanted = list(dict.fromkeys(ids))
        rows = self._execute("SELECT data::text FROM papers WHERE id = ANY(%s)", (wanted,)) if wanted else []
        found = {p.id: p for p in (Paper.model_validate_json(row[0]) for row in rows)}
        return [found[i] for i in wanted if i in found]

    def find_by_arxiv_id(self, arxiv_id: str) -> Paper | None:
        rows = self._execute("SELECT data::text FROM papers WHERE arxiv_id = %s", (arxiv_id,))
        return Paper.model_validate_json(rows[0][0]) if rows else None

    def put_paper(self, paper: Paper) -> None:
        self.put_papers([paper])

    def put_papers(self, papers: list[Paper]) -> None:
        """Insert or replace papers and their author rows: one pipelined statement per table for
        the batch. A replaced paper keeps its added_at and its embeddings (stale ones are told by
        their hash)."""
        if not papers:
            return
        with self.atomic(), self._conn() as conn, conn.cursor() as cursor:
            version = next_version(self._rows)
            self._notify(version)
            rows = [
                (
                    p.id,
                    key(p.title) if p.title else None,
                    p.arxiv_id,
                    p.date,
                    p.category,
                    p.model_dump_json(exclude={"label"}),
                    version,
                )
                for p in papers
            ]
            cursor.executemany(
                """INSERT INTO papers (id, title_key, arxiv_id, date, category, data, changed)
                   VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)
                   ON CONFLICT (id) DO UPDATE SET title_key = excluded.title_key, arxiv_id = excluded.arxiv_id,
                     date = excluded.date, category = excluded.category, data = excluded.data,
                     updated_at = now(), changed = excluded.changed""",
                rows,
            )
            cursor.execute("DELETE FROM removed_papers WHERE id = ANY(%s)", ([p.id for p in papers],))
            cursor.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", ([p.id for p in papers],))
            authors = author_rows(papers)
            if authors:
                cursor.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s)", authors)

    def unlinked_titles(self) -> list[UnlinkedTitle]:
        rows = self._execute(
            """SELECT p.id, p.title_key, a.author_key FROM papers p
               JOIN paper_authors a ON a.paper_id = p.id AND a.position = 0
               WHERE p.arxiv_id IS NULL AND p.title_key IS NOT NULL"""
        )
        return [UnlinkedTitle(row[0], row[1], row[2]) for row in rows]

    def known_arxiv_ids(self, arxiv_ids: list[str]) -> list[str]:
        return [
            r[0] for r in self._execute("SELECT arxiv_id FROM papers WHERE arxiv_id = ANY(%s)", (arxiv_ids,))
        ]

    def delete_paper(self, paper_id: str) -> None:
        with self.atomic():
            version = next_version(self._rows)
            self._notify(version)
            record_removal(self._rows, paper_id, version)
            self._execute("DELETE FROM papers WHERE id = %s", (paper_id,))

    def indexes_deferred(self) -> AbstractContextManager[None]:
        """Kept as they are: dropping an index locks its table against readers until commit."""
        return nullcontext()

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        rows = in_pages(
            lambda last: self._execute(
                "SELECT id, data::text FROM papers WHERE id > %s ORDER BY id LIMIT %s", (last, batch)
            )
        )
        return (Paper.model_validate_json(row[1]) for row in rows)

    def titled_abstracts(self, batch: int = 1000) -> Iterator[tuple[str, list[str]]]:
        rows = in_pages(
            lambda last: self._execute(
                """SELECT id, data->>'abstract', data->'other_abstracts' FROM papers
                   WHERE id > %s AND title_key IS NOT NULL ORDER BY id LIMIT %s""",
                (last, batch),
            )
        )
        return ((row[0], abstract_versions(row[1], row[2])) for row in rows)

    def untitled_papers(self) -> list[Paper]:
        rows = self._execute("SELECT data::text FROM papers WHERE title_key IS NULL")
        return [Paper.model_validate_json(row[0]) for row in rows]

    def papers_from_sources(self, suffix: str) -> list[Paper]:
        rows = self._execute(
            """SELECT data::text FROM papers WHERE EXISTS (
                 SELECT 1 FROM jsonb_array_elements_text(data->'sources') s WHERE s LIKE '%%' || %s)""",
            (suffix,),
        )
        return [Paper.model_validate_json(row[0]) for row in rows]

    def added_since(self, when: str) -> list[str]:
        return [r[0] for r in self._execute("SELECT id FROM papers WHERE added_at > %s ORDER BY id", (when,))]

    def count_papers(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM papers")[0][0])

    # -- authors -----------------------------------------------------------------------
    def author_names(self) -> dict[str, tuple[str, int]]:
        return display_names(
            self._execute(
                "SELECT author_key, name, COUNT(DISTINCT paper_id) FROM paper_authors GROUP BY author_key, name"
            )
        )

    def embeddings_for(self, model: str, paper_ids: list[str]) -> dict[str, StoredVector]:
        rows = self._execute(
            "SELECT paper_id, text_hash, vector FROM embeddings WHERE model = %s AND paper_id = ANY(%s)",
            (model, paper_ids),
        )
        return {row[0]: StoredVector(row[1], bytes(row[2])) for row in rows}

    def put_embeddings(self, model: str, rows: Iterable[tuple[str, str, bytes]]) -> None:
        with self.atomic(), self._conn() as conn, conn.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO embeddings (paper_id, model, text_hash, vector) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (paper_id) DO UPDATE SET model = excluded.model, text_hash = excluded.text_hash,
                     vector = excluded.vector""",
                [(pid, model, digest, vector) for pid, digest, vector in rows],
            )

    def index_folder(self) -> Path | None:
        """Where this machine caches the search index built from this database: a folder per
        server and database under the user cache dir (``store_id`` tells a database that was
        dropped and made again under the same name)."""
        info = conninfo_to_dict(self.url)
        name = re.sub(r"[^\w.-]", "_", "-".join(str(info.get(k) or "") for k in ("host", "port", "dbname")))
        return Path(user_cache_dir("paperbot", appauthor=False)) / f"pg-{name}.index"

    # -- ingest log and key/value state -------------------------------------------------
    def record_ingest(self, report: IngestReport) -> None:
        self._execute(
            "INSERT INTO ingests (finished_at, added, updated, unchanged, skipped, files) VALUES (%s, %s, %s, %s, %s, %s)",
            ingest_row(report),
        )

    def bump_corpus_version(self) -> None:
        with self.atomic():
            self._notify(next_version(self._rows))

    def corpus_version(self) -> int:
        return int(self.get_meta("corpus_version") or 0)

    def changes_since(self, version: int) -> Changes:
        return changes_since(self._rows, version)

    def wait_for_change(self, timeout: float) -> bool:
        """Block until a write to the papers commits in any process (``LISTEN``; writers
        ``NOTIFY`` in their transaction, delivered at commit) or ``timeout`` seconds pass."""
        listener = getattr(self._local, "listener", None)
        if listener is None:
            listener = Connection.connect(self.url, autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
            self._local.listener = listener
            self._listeners.append(listener)
        return any(True for _ in listener.notifies(timeout=timeout, stop_after=1))

    def _notify(self, version: int) -> None:
        self._execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(version)))

    def last_ingest(self) -> IngestRow | None:
        rows = self._execute(
            "SELECT finished_at, added, updated, unchanged, skipped, files FROM ingests ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return None
        finished_at, added, updated, unchanged, skipped, files = rows[0]
        return IngestRow(finished_at, added, updated, unchanged, skipped, json.loads(files))

    def store_id(self) -> str:
        """A random id given to this database once: tells a cached index of another database."""
        if found := self.get_meta("store_id"):
            return found
        self._execute(
            "INSERT INTO meta VALUES ('store_id', %s) ON CONFLICT (key) DO NOTHING", (uuid.uuid4().hex,)
        )
        return str(self.get_meta("store_id"))

    def get_meta(self, name: str) -> str | None:
        rows = self._execute("SELECT value FROM meta WHERE key = %s", (name,))
        return rows[0][0] if rows else None

    def set_meta(self, name: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    # -- channel settings (Discord adapter: free text per channel) ------------------------
    def set_free_text(self, channel_id: int, enabled: bool, guild_id: int | None = None) -> None:
        self._execute(
            """INSERT INTO channel_settings (channel_id, guild_id, free_text) VALUES (%s, %s, %s)
               ON CONFLICT (channel_id) DO UPDATE SET free_text = excluded.free_text,
                 guild_id = COALESCE(excluded.guild_id, channel_settings.guild_id), updated_at = now()""",
            (channel_id, guild_id, enabled),
        )

    def free_text_channels(self) -> set[int]:
        return {
            int(row[0]) for row in self._execute("SELECT channel_id FROM channel_settings WHERE free_text")
        }

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

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Many rows of one ``?`` statement, pipelined."""
        with self._conn() as conn, conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A statement written with ``?`` placeholders (the digest's, shared with SQLite)."""
        return self._execute(sql.replace("?", "%s") if params else sql, tuple(params) or None)
