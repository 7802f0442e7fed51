"""The PostgreSQL store: the same interface as ``SQLiteStore``, for deployments that outgrow one
process (several bot shards, a cron job beside the bot, millions of papers).

psycopg 3 with a connection pool. Outside ``atomic()`` each call borrows a connection in
autocommit mode; inside, the thread keeps one connection and one transaction. Ingests take
an advisory lock, so concurrent ingests of overlapping files never interleave their merges.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir
from psycopg import Connection
from psycopg_pool import ConnectionPool

from bot.models import IngestReport, Paper, author_rows
from bot.search.analysis import analyze, defined_names
from bot.store.pg_migrations import POSTGRES_MIGRATIONS
from bot.text import key

# Fields hold our own analysed terms (folded, stemmed, camel-case parts: bot.search.analysis),
# so that the database and the in-process index see the same words.
TSV = """setweight(to_tsvector('simple', %(title)s), 'A')
      || setweight(to_tsvector('simple', %(authors)s), 'B')
      || setweight(to_tsvector('simple', %(abstracts)s), 'C')"""
TITLE_TSV = "setweight(to_tsvector('simple', %(title)s), 'A')"
# Document frequencies (terms.df) and papers per author (author_keys.papers) follow the papers
# exactly: a paper's words and authors are uncounted before it is replaced or deleted, and
# counted once stored. The changes add up in memory and are written once, at commit: updating
# the same rows after every batch of a million-paper ingest (one transaction) left thousands of
# row versions per common word, and each batch got slower than the last.
_WORDS_OF = """SELECT w, COUNT(*) FROM papers, unnest(tsvector_to_array(tsv)) w
    WHERE id = ANY(%s) GROUP BY w"""
_AUTHORS_OF = """SELECT author_key, COUNT(DISTINCT paper_id) FROM paper_authors
    WHERE paper_id = ANY(%s) GROUP BY author_key"""


class _Counts:
    """Changes to terms.df and author_keys.papers made by one transaction, not yet written."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.authors: Counter[str] = Counter()
        self.names: dict[str, str] = {}  # author key -> display spelling (accents kept)

    def name(self, folded: str, name: str) -> None:
        shown = self.names.get(folded)
        if shown is None or (shown.isascii() and not name.isascii()):
            self.names[folded] = name

    def write(self, conn: Connection[Any]) -> None:
        words = sorted((w, n) for w, n in self.words.items() if n)
        if words:
            conn.execute(
                """INSERT INTO terms (term, df) SELECT * FROM unnest(%s::text[], %s::int[])
                   ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df""",
                ([w for w, _ in words], [n for _, n in words]),
            )
        keys = sorted(set(self.names) | {k for k, n in self.authors.items() if n})
        if keys:
            conn.execute(
                """INSERT INTO author_keys (author_key, name, papers)
                   SELECT * FROM unnest(%s::text[], %s::text[], %s::int[])
                   ON CONFLICT (author_key) DO UPDATE SET papers = author_keys.papers + excluded.papers,
                     name = CASE WHEN author_keys.name ~ '^[ -~]*$' AND excluded.name !~ '^[ -~]*$'
                                 THEN excluded.name ELSE author_keys.name END""",
                (keys, [self.names.get(k, k) for k in keys], [self.authors[k] for k in keys]),
            )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PostgresStore:
    kind = "postgresql"

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.path = url  # for messages; there is no file
        self.pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True
        )
        self._local = threading.local()
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
        """One transaction; nested calls join it. ``lock`` names an advisory lock held until commit."""
        if getattr(self._local, "tx", None) is not None:
            yield
            return
        with self.pool.connection() as conn, conn.transaction():
            self._local.tx, self._local.counts = conn, _Counts()
            try:
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                yield
                self._local.counts.write(conn)
            finally:
                self._local.tx = self._local.counts = None

    def _uncount(self, cursor: Any, ids: list[str]) -> None:
        """Take the stored words and authors of these papers out of the counts."""
        counts: _Counts = self._local.counts
        cursor.execute(_WORDS_OF, (ids,))
        counts.words.subtract(dict(cursor.fetchall()))
        cursor.execute(_AUTHORS_OF, (ids,))
        counts.authors.subtract(dict(cursor.fetchall()))

    def close(self) -> None:
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

    def find_by_title_key(self, title_key: str) -> list[Paper]:
        rows = self._execute("SELECT data::text FROM papers WHERE title_key = %s", (title_key,))
        return [Paper.model_validate_json(row[0]) for row in rows]

    def put_paper(self, paper: Paper) -> None:
        self.put_papers([paper])

    def put_papers(self, papers: list[Paper]) -> None:
        """Insert or replace papers: one pipelined statement per table for the whole batch."""
        if not papers:
            return
        rows: list[dict[str, object]] = []
        for paper in papers:
            title_terms = analyze(" ".join([paper.label, *defined_names(paper)]))
            author_terms = analyze(" ".join(paper.authors))
            body_terms = analyze(" ".join([paper.abstract, *paper.other_abstracts]))
            rows.append(
                {
                    "id": paper.id,
                    "title_key": key(paper.title) if paper.title else None,
                    "label_key": key(paper.label),
                    "arxiv_id": paper.arxiv_id,
                    "date": paper.date,
                    "category": paper.category,
                    "categories": [c for c in dict.fromkeys([paper.category, *paper.categories]) if c],
                    "has_code": paper.has_code,
                    "data": paper.model_dump_json(exclude={"label"}),
                    "title": " ".join(title_terms),
                    "authors": " ".join(author_terms),
                    "abstracts": " ".join(body_terms),
                }
            )
        ids = [p.id for p in papers]
        authors = author_rows(papers)
        with self.atomic(), self._conn() as conn, conn.cursor() as cursor:
            self._uncount(cursor, ids)  # papers replaced: their old words and authors no longer count
            cursor.execute("DELETE FROM embeddings WHERE paper_id = ANY(%s)", (ids,))  # their text may change
            cursor.executemany(
                f"""INSERT INTO papers (id, title_key, label_key, arxiv_id, date, category, categories, has_code,
                                        data, tsv, title_tsv)
                    VALUES (%(id)s, %(title_key)s, %(label_key)s, %(arxiv_id)s, %(date)s, %(category)s,
                            %(categories)s, %(has_code)s, %(data)s::jsonb, {TSV}, {TITLE_TSV})
                    ON CONFLICT (id) DO UPDATE SET title_key = excluded.title_key, label_key = excluded.label_key,
                      arxiv_id = excluded.arxiv_id, date = excluded.date, category = excluded.category,
                      categories = excluded.categories, has_code = excluded.has_code, data = excluded.data,
                      tsv = excluded.tsv, title_tsv = excluded.title_tsv, updated_at = now()""",
                rows,
            )
            cursor.execute(_WORDS_OF, (ids,))
            counts: _Counts = self._local.counts
            counts.words.update(dict(cursor.fetchall()))
            cursor.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", (ids,))
            if authors:
                cursor.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s)", authors)
            for _, _, folded, name in authors:
                counts.name(folded, name)
            counts.authors.update(folded for _, folded in {(a[0], a[2]) for a in authors})

    def unlinked_titles(self) -> list[tuple[str, str, str]]:
        rows = self._execute(
            """SELECT p.id, p.title_key, a.author_key FROM papers p
               JOIN paper_authors a ON a.paper_id = p.id AND a.position = 0
               WHERE p.arxiv_id IS NULL AND p.title_key IS NOT NULL"""
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def known_arxiv_ids(self, arxiv_ids: list[str]) -> list[str]:
        return [
            r[0] for r in self._execute("SELECT arxiv_id FROM papers WHERE arxiv_id = ANY(%s)", (arxiv_ids,))
        ]

    def delete_paper(self, paper_id: str) -> None:
        with self.atomic():
            with self._conn() as conn, conn.cursor() as cursor:
                self._uncount(cursor, [paper_id])
            self._execute("DELETE FROM papers WHERE id = %s", (paper_id,))

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        last = ""
        while True:
            rows = self._execute(
                "SELECT id, data::text FROM papers WHERE id > %s ORDER BY id LIMIT %s", (last, batch)
            )
            if not rows:
                return
            for row in rows:
                yield Paper.model_validate_json(row[1])
            last = rows[-1][0]

    def untitled_papers(self) -> list[Paper]:
        rows = self._execute("SELECT data::text FROM papers WHERE title_key IS NULL")
        return [Paper.model_validate_json(row[0]) for row in rows]

    def count_papers(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM papers")[0][0])

    # -- authors -----------------------------------------------------------------------
    def author_names(self) -> dict[str, tuple[str, int]]:
        rows = self._execute("SELECT author_key, name, papers FROM author_keys WHERE papers > 0")
        return {folded: (name, int(count)) for folded, name, count in rows}

    def embeddings_for(self, model: str, paper_ids: list[str]) -> dict[str, tuple[str, bytes]]:
        rows = self._execute(
            "SELECT paper_id, text_hash, vector FROM embeddings WHERE model = %s AND paper_id = ANY(%s)",
            (model, paper_ids),
        )
        return {row[0]: (row[1], bytes(row[2])) for row in rows}

    def iter_vectors(self, model: str, batch: int = 10_000) -> Iterator[tuple[str, bytes | None]]:
        """Every paper id in id order with its stored vector (None when it has none), read in
        keyset pages: loading a million vectors must not parse a million papers."""
        last = ""
        while True:
            rows = self._execute(
                """SELECT p.id, e.vector FROM papers p
                   LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model = %s
                   WHERE p.id > %s ORDER BY p.id LIMIT %s""",
                (model, last, batch),
            )
            if not rows:
                return
            for pid, vector in rows:
                yield pid, bytes(vector) if vector is not None else None
            last = rows[-1][0]

    def put_embeddings(self, model: str, rows: Iterable[tuple[str, str, bytes]]) -> None:
        with self.atomic(), self._conn() as conn, conn.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO embeddings (paper_id, model, text_hash, vector) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (paper_id) DO UPDATE SET model = excluded.model, text_hash = excluded.text_hash,
                     vector = excluded.vector""",
                [(pid, model, digest, vector) for pid, digest, vector in rows],
            )

    def index_folder(self) -> Path | None:
        """Where this process caches search indexes built from the database."""
        digest = hashlib.sha1(self.url.encode()).hexdigest()[:12]
        return Path(user_cache_dir("paperbot", appauthor=False)) / f"pg-{digest}.index"

    # -- ingest log and key/value state -------------------------------------------------
    def record_ingest(self, report: IngestReport) -> None:
        self._execute(
            "INSERT INTO ingests (finished_at, added, updated, unchanged, skipped, files) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                _now(),
                report.added,
                report.updated,
                report.unchanged,
                len(report.skipped),
                json.dumps(report.files),
            ),
        )
        if report.added or report.updated:
            self.bump_corpus_version()

    def bump_corpus_version(self) -> None:
        self._execute(
            """INSERT INTO meta VALUES ('corpus_version', '1') ON CONFLICT (key)
               DO UPDATE SET value = (meta.value::bigint + 1)::text"""
        )

    def corpus_version(self) -> int:
        return int(self.get_meta("corpus_version") or 0)

    def last_ingest(self) -> dict[str, Any] | None:
        with self._conn() as conn:
            cursor = conn.execute("SELECT * FROM ingests ORDER BY id DESC LIMIT 1")
            row = cursor.fetchone()
            return dict(zip([c.name for c in cursor.description or []], row, strict=True)) if row else None

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
