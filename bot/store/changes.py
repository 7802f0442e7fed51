"""The change feed, for both backends: every write to the papers takes the next corpus version
and stamps the rows it writes (removed papers leave a tombstone), so "papers changed since
version V" is one indexed query and any process can bring a search index built at V up to date
from the database alone.

Versions are taken from the ``corpus_version`` row of ``meta`` inside the writing transaction:
the row lock (PostgreSQL) or the database's write lock (SQLite) makes writers take turns, so
versions become visible in order and a reader that saw version V never later finds a change
numbered V or lower that it missed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

# Appended to both backends' migrations (the statements are valid in both).
CHANGE_TABLES = [
    "ALTER TABLE papers ADD COLUMN changed BIGINT NOT NULL DEFAULT 0",
    "CREATE INDEX papers_changed ON papers(changed)",
    """CREATE TABLE removed_papers (
        id TEXT PRIMARY KEY,
        changed BIGINT NOT NULL          -- the version that removed it
    )""",
    "CREATE INDEX removed_papers_changed ON removed_papers(changed)",
]


class Changes(NamedTuple):
    """What changed after a version: the papers added or replaced, the ids removed (both
    sorted), and the version they bring the corpus to."""

    version: int
    changed: list[str]
    removed: list[str]

    def __len__(self) -> int:
        return len(self.changed) + len(self.removed)


def next_version(run: Run, key: str = "corpus_version") -> int:
    """Take the next value of a version counter in ``meta`` (call inside the writing
    transaction): the corpus's, or another's (the full texts' in bot/store/fulltext.py)."""
    rows = run(
        """INSERT INTO meta VALUES (?, '1') ON CONFLICT (key)
           DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value""",
        (key,),
    )
    return int(rows[0][0])


def forget_removals(run: Run, ids: Sequence[str]) -> None:
    """Papers written again are no longer removed (called with the ids of written papers)."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        run(f"DELETE FROM removed_papers WHERE id IN ({','.join('?' * len(chunk))})", chunk)


def record_removal(run: Run, paper_id: str, version: int) -> None:
    """A tombstone for a paper about to be deleted (none for an unknown id)."""
    run(
        """INSERT INTO removed_papers (id, changed) SELECT id, ? FROM papers WHERE id = ?
           ON CONFLICT (id) DO UPDATE SET changed = excluded.changed""",
        (version, paper_id),
    )


def changes_since(run: Run, version: int) -> Changes:
    """The papers changed and removed after ``version``. The current version is read first:
    a write that commits meanwhile is listed too, and listed again next time (applying a
    change twice is harmless: the newer row replaces the older)."""
    current = run("SELECT value FROM meta WHERE key = 'corpus_version'", ())
    now = int(current[0][0]) if current else 0
    changed = [r[0] for r in run("SELECT id FROM papers WHERE changed > ? ORDER BY id", (version,))]
    removed = [r[0] for r in run("SELECT id FROM removed_papers WHERE changed > ? ORDER BY id", (version,))]
    return Changes(now, changed, removed)
