"""Papers' full texts, for both backends: one document row per paper (where the text came from,
its hash and licence, when it was added, its page count) and its passages in reading order
(section, page, anchor, text); and which papers people asked about (one row per answered
question: ``fulltext fetch --asked`` downloads the texts of this week's). The statements are the
same in SQLite and PostgreSQL (written with ``?`` placeholders; the PostgreSQL store passes them
on as ``%s``).

``replace`` swaps a paper's whole full text in one transaction: a reader sees the old text or the
new one, never half of either. Deleting a paper takes its full text with it (foreign keys).

``version()`` tells an index of every passage (bot/fulltext/index.py) whether it is stale: a
counter in the meta table that ``replace`` and ``remove`` bump in their transaction, with the
number of full texts (deleting a paper drops its text by cascade without bumping the counter, and
only lowers the count: so an unchanged (counter, count) pair means unchanged texts). Two
look-ups by primary key, cheap enough to ask before each library-wide search.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from bot.store.base import now
from bot.store.changes import next_version

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
RunMany = Callable[[str, Sequence[Sequence[Any]]], None]


class FulltextDoc(NamedTuple):
    """A paper's full text as stored (``added_at`` is set by the store; ``passages`` counted)."""

    paper_id: str
    kind: str  # "pdf" | "html"
    sha256: str  # of the file's bytes
    pages: int | None = None  # None for HTML
    licence: str | None = None
    source: str | None = None  # the file name or URL it came from
    fetched_at: str | None = None  # when it was downloaded (None: a local file)
    arxiv_id: str | None = None  # the arXiv id the file names (its stamp, its HTML address)
    added_at: str = ""
    passages: int = 0


class PassageRow(NamedTuple):
    """One passage of a full text: a paragraph (or a piece of a long one) in reading order."""

    paper_id: str
    ordinal: int
    section: str
    page: int | None
    anchor: str | None  # the HTML id of its section ("S3"), None in a PDF
    text: str


VERSION_KEY = "fulltext_version"

_DOC = """SELECT d.paper_id, d.kind, d.sha256, d.pages, d.licence, d.source, d.fetched_at, d.arxiv_id, d.added_at,
          (SELECT COUNT(*) FROM passages p WHERE p.paper_id = d.paper_id) FROM fulltexts d"""


class FulltextRows:
    """``store.fulltext``: full texts and passages over one statement runner of a store."""

    def __init__(self, run: Run, many: RunMany, atomic: Callable[[], AbstractContextManager[None]]) -> None:
        self._run = run
        self._many = many
        self._atomic = atomic

    def replace(self, paper_id: str, doc: FulltextDoc, passages: Iterable[PassageRow]) -> None:
        """Store a paper's full text and passages in place of any earlier one: all or nothing.
        ``added_at`` is now, unless the document brings its own (an imported text)."""
        rows = [(paper_id, i, p.section, p.page, p.anchor, p.text) for i, p in enumerate(passages)]
        with self._atomic():
            self._run("DELETE FROM passages WHERE paper_id = ?", (paper_id,))
            self._run("DELETE FROM fulltexts WHERE paper_id = ?", (paper_id,))
            self._run(
                """INSERT INTO fulltexts (paper_id, kind, sha256, pages, licence, source, fetched_at, arxiv_id, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    paper_id,
                    doc.kind,
                    doc.sha256,
                    doc.pages,
                    doc.licence,
                    doc.source,
                    doc.fetched_at,
                    doc.arxiv_id,
                    doc.added_at or now(),  # an imported text keeps its date
                ),
            )
            if rows:
                self._many(
                    "INSERT INTO passages (paper_id, ordinal, section, page, anchor, text) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            next_version(self._run, VERSION_KEY)

    def remove(self, paper_id: str) -> bool:
        """Forget a paper's full text; False when it had none."""
        with self._atomic():
            self._run("DELETE FROM passages WHERE paper_id = ?", (paper_id,))
            removed = bool(
                self._run("DELETE FROM fulltexts WHERE paper_id = ? RETURNING paper_id", (paper_id,))
            )
            if removed:
                next_version(self._run, VERSION_KEY)
            return removed

    def version(self) -> str:
        """What the stored full texts are, for an index built from them: "counter:count" (see
        the module's doc); equal versions mean the same texts."""
        counter = self._run("SELECT value FROM meta WHERE key = ?", (VERSION_KEY,))
        count = self._run("SELECT COUNT(*) FROM fulltexts", ())
        return f"{counter[0][0] if counter else 0}:{int(count[0][0])}"

    def iter_passages(self, skip_sections: Sequence[str] = (), batch: int = 2000) -> Iterator[PassageRow]:
        """Every stored passage, paper by paper in reading order, read ``batch`` at a time (keyset
        pages: memory stays flat whatever the library holds); passages of ``skip_sections``
        ("Abstract") are not read."""
        skip = list(skip_sections)
        unless = f" AND section NOT IN ({','.join('?' * len(skip))})" if skip else ""
        sql = (
            "SELECT paper_id, ordinal, section, page, anchor, text FROM passages"
            " WHERE (paper_id > ? OR (paper_id = ? AND ordinal > ?))"
            + unless
            + " ORDER BY paper_id, ordinal LIMIT ?"
        )
        last, after = "", -1
        while rows := self._run(sql, (last, last, after, *skip, batch)):
            for r in rows:
                yield PassageRow(r[0], int(r[1]), r[2], _int(r[3]), r[4], r[5])
            last, after = rows[-1][0], int(rows[-1][1])
            if len(rows) < batch:
                return

    def passages_at(self, places: Sequence[tuple[str, int]]) -> builtins.list[PassageRow]:
        """The passages at these (paper id, ordinal) places, in the order asked (a place that no
        longer holds one is left out)."""
        found: dict[tuple[str, int], PassageRow] = {}
        for start in range(0, len(places), 200):
            chunk = places[start : start + 200]
            where = " OR ".join(["(paper_id = ? AND ordinal = ?)"] * len(chunk))
            params = [v for place in chunk for v in place]
            for r in self._run(
                f"SELECT paper_id, ordinal, section, page, anchor, text FROM passages WHERE {where}", params
            ):
                found[(r[0], int(r[1]))] = PassageRow(r[0], int(r[1]), r[2], _int(r[3]), r[4], r[5])
        return [found[p] for p in places if p in found]

    def get(self, paper_id: str) -> FulltextDoc | None:
        rows = self._run(_DOC + " WHERE d.paper_id = ?", (paper_id,))
        return _doc(rows[0]) if rows else None

    def list(self) -> builtins.list[FulltextDoc]:
        """Every stored full text, most recently added first."""
        return [_doc(r) for r in self._run(_DOC + " ORDER BY d.added_at DESC, d.paper_id", ())]

    def having(self, paper_ids: Sequence[str]) -> set[str]:
        """Which of these papers have a full text."""
        ids = list(dict.fromkeys(paper_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {
                r[0] for r in self._run(f"SELECT paper_id FROM fulltexts WHERE paper_id IN ({marks})", chunk)
            }
        return found

    def passages(self, paper_id: str) -> builtins.list[PassageRow]:
        """A paper's passages in reading order (none when it has no full text)."""
        rows = self._run(
            "SELECT paper_id, ordinal, section, page, anchor, text FROM passages WHERE paper_id = ? ORDER BY ordinal",
            (paper_id,),
        )
        return [PassageRow(r[0], int(r[1]), r[2], _int(r[3]), r[4], r[5]) for r in rows]

    # -- the papers people asked about -----------------------------------------------------
    def record_asked(self, paper_id: str, at: dt.datetime | None = None) -> None:
        """Note that a question about this paper was answered (a paper the store does not hold,
        such as an arXiv paper a link named, is not noted)."""
        when = _stamp(at) if at else now()
        self._run(
            "INSERT INTO asked (paper_id, asked_at) SELECT id, ? FROM papers WHERE id = ?", (when, paper_id)
        )

    def asked_since(self, when: dt.datetime) -> builtins.list[str]:
        """The papers asked about since ``when``: the most asked first, then the latest asked."""
        rows = self._run(
            """SELECT paper_id FROM asked WHERE asked_at >= ?
               GROUP BY paper_id ORDER BY COUNT(*) DESC, MAX(asked_at) DESC, paper_id""",
            (_stamp(when),),
        )
        return [r[0] for r in rows]


def _stamp(when: dt.datetime) -> str:
    """A time as the tables write it (``now()``: UTC, ISO 8601 to the second), so that text
    comparison is time order; a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _doc(row: Sequence[Any]) -> FulltextDoc:
    return FulltextDoc(
        row[0], row[1], row[2], _int(row[3]), row[4], row[5], row[6], row[7], str(row[8]), int(row[9] or 0)
    )


# The tables, the same DDL on both backends.
FULLTEXT_TABLES = [
    """CREATE TABLE fulltexts (
        paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,                 -- pdf | html
        sha256 TEXT NOT NULL,               -- of the source file's bytes
        pages INTEGER,                      -- a PDF's page count
        licence TEXT,
        source TEXT,                        -- file name or URL
        fetched_at TEXT,                    -- when downloaded (NULL: a local file)
        arxiv_id TEXT,                      -- the arXiv id the file names
        added_at TEXT NOT NULL)""",
    """CREATE TABLE passages (
        paper_id TEXT NOT NULL REFERENCES fulltexts(paper_id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,           -- reading order
        section TEXT NOT NULL,
        page INTEGER,                       -- NULL in HTML
        anchor TEXT,                        -- the section's HTML id ("S3")
        text TEXT NOT NULL,
        PRIMARY KEY (paper_id, ordinal))""",
]

# Which papers people asked about (migration 9 on SQLite, 11 on PostgreSQL).
ASKED_TABLES = [
    """CREATE TABLE asked (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        asked_at TEXT NOT NULL              -- UTC, ISO 8601 (text order is time order)
    )""",
    "CREATE INDEX asked_by_time ON asked (asked_at)",
    "CREATE INDEX asked_by_paper ON asked (paper_id)",
]
