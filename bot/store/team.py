"""What a team does with papers, for both backends: reading lists, votes, personal watches and
the links shared in a server. The statements are the same in SQLite and PostgreSQL (written with
``?`` placeholders; the PostgreSQL store passes them on as ``%s``); they join the caller's
transaction, and primary keys carry the guarantees (a paper saved once per channel, a vote once
per person and kind, a paper sent once per watch, one batch per person and day)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from bot.store.base import now

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


class SavedRow(NamedTuple):
    channel_id: int
    paper_id: str
    user_id: int | None
    saved_at: str
    version: int | None  # the arXiv version last seen (announced) in this channel
    abstract: str  # the abstract then: what a new version changed is told against it


class WatchRow(NamedTuple):
    id: int
    user_id: int
    query: str
    author: str | None
    time: str
    tz: str
    created_at: str


class ShareRow(NamedTuple):
    channel_id: int
    user_id: int | None
    message_id: int | None
    shared_at: str


_WATCH = "SELECT id, user_id, query, author, time, tz, created_at FROM watches"


class TeamRows:
    """``TeamStore`` over one statement runner of a store."""

    def __init__(self, run: Run) -> None:
        self._run = run

    # -- reading lists ------------------------------------------------------------------
    def save(
        self, channel_id: int, paper_id: str, user_id: int | None, version: int | None, abstract: str
    ) -> bool:
        """Add a paper to a channel's reading list; False when it was there already."""
        return bool(
            self._run(
                """INSERT INTO saved (channel_id, paper_id, user_id, saved_at, version, abstract)
                   VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING paper_id""",
                (channel_id, paper_id, user_id, now(), version, abstract),
            )
        )

    def unsave(self, channel_id: int, paper_id: str) -> bool:
        return bool(
            self._run(
                "DELETE FROM saved WHERE channel_id = ? AND paper_id = ? RETURNING paper_id",
                (channel_id, paper_id),
            )
        )

    def reading_list(self, channel_id: int | None = None) -> list[SavedRow]:
        """A channel's saved papers, oldest first (every channel's with None)."""
        where, params = ("WHERE channel_id = ?", (channel_id,)) if channel_id is not None else ("", ())
        rows = self._run(
            f"SELECT channel_id, paper_id, user_id, saved_at, version, abstract FROM saved {where} ORDER BY saved_at, paper_id",
            params,
        )
        return [SavedRow(int(r[0]), r[1], _int(r[2]), r[3], _int(r[4]), r[5] or "") for r in rows]

    def seen_version(self, channel_id: int, paper_id: str, version: int | None, abstract: str) -> bool:
        """Move a saved paper to a newer version once: False when another process already did."""
        return bool(
            self._run(
                """UPDATE saved SET version = ?, abstract = ? WHERE channel_id = ? AND paper_id = ?
                   AND (version IS NULL OR version < ?) RETURNING paper_id""",
                (version, abstract, channel_id, paper_id, version),
            )
        )

    # -- votes --------------------------------------------------------------------------
    def vote(self, channel_id: int, paper_id: str, user_id: int, kind: str, on: bool) -> None:
        if on:
            self._run(
                """INSERT INTO votes (channel_id, paper_id, user_id, kind, voted_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT DO NOTHING""",
                (channel_id, paper_id, user_id, kind, now()),
            )
        else:
            self._run(
                "DELETE FROM votes WHERE channel_id = ? AND paper_id = ? AND user_id = ? AND kind = ?",
                (channel_id, paper_id, user_id, kind),
            )

    def top(self, channel_id: int, since: str | None, limit: int) -> list[tuple[str, int]]:
        """(paper id, voters) of the most voted papers in a channel since a time, most first."""
        rows = self._run(
            """SELECT paper_id, COUNT(DISTINCT user_id) AS n FROM votes
               WHERE channel_id = ? AND voted_at >= ? GROUP BY paper_id ORDER BY n DESC, paper_id LIMIT ?""",
            (channel_id, since or "", limit),
        )
        return [(r[0], int(r[1])) for r in rows]

    def voted_ids(self, channel_id: int) -> list[str]:
        return [
            r[0] for r in self._run("SELECT DISTINCT paper_id FROM votes WHERE channel_id = ?", (channel_id,))
        ]

    # -- watches ------------------------------------------------------------------------
    def add_watch(self, user_id: int, query: str, author: str | None, time: str, tz: str) -> WatchRow:
        rows = self._run(
            """INSERT INTO watches (user_id, query, author, time, tz, created_at) VALUES (?, ?, ?, ?, ?, ?)
               RETURNING id, user_id, query, author, time, tz, created_at""",
            (user_id, query, author, time, tz, now()),
        )
        return _watch(rows[0])

    def watches(self, user_id: int | None = None) -> list[WatchRow]:
        if user_id is None:
            return [_watch(r) for r in self._run(_WATCH + " ORDER BY user_id, id", ())]
        return [_watch(r) for r in self._run(_WATCH + " WHERE user_id = ? ORDER BY id", (user_id,))]

    def remove_watch(self, user_id: int, watch_id: int) -> bool:
        self._run(
            "DELETE FROM watch_sent WHERE watch_id = ? AND watch_id IN (SELECT id FROM watches WHERE user_id = ?)",
            (watch_id, user_id),
        )
        return bool(
            self._run("DELETE FROM watches WHERE id = ? AND user_id = ? RETURNING id", (watch_id, user_id))
        )

    def sent_ids(self, watch_id: int) -> set[str]:
        return {r[0] for r in self._run("SELECT paper_id FROM watch_sent WHERE watch_id = ?", (watch_id,))}

    def claim_batch(self, user_id: int, day: str) -> bool:
        """Take a person's batch of a day; False when another process took it or it is done."""
        return bool(
            self._run(
                """INSERT INTO watch_batches (user_id, batch_date, claimed_at) VALUES (?, ?, ?)
                   ON CONFLICT DO NOTHING RETURNING user_id""",
                (user_id, day, now()),
            )
        )

    def batch_done(self, user_id: int, day: str) -> bool:
        return bool(
            self._run("SELECT 1 FROM watch_batches WHERE user_id = ? AND batch_date = ?", (user_id, day))
        )

    def record_sent(self, watch_id: int, paper_ids: Sequence[str], day: str) -> None:
        at = now()
        for pid in paper_ids:
            self._run(
                """INSERT INTO watch_sent (watch_id, paper_id, batch_date, sent_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT DO NOTHING""",
                (watch_id, pid, day, at),
            )

    def undo_batch(self, user_id: int, day: str) -> None:
        """Forget a batch whose message failed: its papers count as unsent again."""
        self._run(
            """DELETE FROM watch_sent WHERE batch_date = ? AND watch_id IN (SELECT id FROM watches WHERE user_id = ?)""",
            (day, user_id),
        )
        self._run("DELETE FROM watch_batches WHERE user_id = ? AND batch_date = ?", (user_id, day))

    def papers_added_after(self, when: str) -> list[str]:
        """Ids of the papers first stored after a time (a watch reports only those)."""
        return [
            r[0] for r in self._run("SELECT id FROM papers WHERE added_at > ? ORDER BY added_at, id", (when,))
        ]

    # -- links shared in a server -------------------------------------------------------
    def share(
        self, guild_id: int, paper_id: str, channel_id: int, user_id: int | None, message_id: int
    ) -> None:
        self._run(
            """INSERT INTO shares (guild_id, paper_id, channel_id, user_id, message_id, shared_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (guild_id, paper_id, channel_id, user_id, message_id, now()),
        )

    def first_share(self, guild_id: int, paper_id: str) -> ShareRow | None:
        rows = self._run(
            """SELECT channel_id, user_id, message_id, shared_at FROM shares WHERE guild_id = ? AND paper_id = ?
               ORDER BY shared_at, message_id LIMIT 1""",
            (guild_id, paper_id),
        )
        return ShareRow(int(rows[0][0]), _int(rows[0][1]), _int(rows[0][2]), rows[0][3]) if rows else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _watch(row: Sequence[Any]) -> WatchRow:
    return WatchRow(int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6])


# The tables, the same DDL on both backends but for the key column of watches.
def team_tables(serial_key: str) -> list[str]:
    return [
        """CREATE TABLE saved (
            channel_id BIGINT NOT NULL, paper_id TEXT NOT NULL, user_id BIGINT, saved_at TEXT NOT NULL,
            version INTEGER, abstract TEXT, PRIMARY KEY (channel_id, paper_id))""",
        """CREATE TABLE votes (
            channel_id BIGINT NOT NULL, paper_id TEXT NOT NULL, user_id BIGINT NOT NULL, kind TEXT NOT NULL,
            voted_at TEXT NOT NULL, PRIMARY KEY (channel_id, paper_id, user_id, kind))""",
        f"""CREATE TABLE watches (
            id {serial_key}, user_id BIGINT NOT NULL, query TEXT NOT NULL, author TEXT,
            time TEXT NOT NULL, tz TEXT NOT NULL, created_at TEXT NOT NULL)""",
        "CREATE INDEX watches_user ON watches (user_id)",
        """CREATE TABLE watch_sent (
            watch_id BIGINT NOT NULL, paper_id TEXT NOT NULL, batch_date TEXT NOT NULL, sent_at TEXT NOT NULL,
            PRIMARY KEY (watch_id, paper_id))""",
        """CREATE TABLE watch_batches (
            user_id BIGINT NOT NULL, batch_date TEXT NOT NULL, claimed_at TEXT NOT NULL,
            PRIMARY KEY (user_id, batch_date))""",
        """CREATE TABLE shares (
            guild_id BIGINT NOT NULL, paper_id TEXT NOT NULL, channel_id BIGINT NOT NULL, user_id BIGINT,
            message_id BIGINT NOT NULL, shared_at TEXT NOT NULL, PRIMARY KEY (guild_id, paper_id, message_id))""",
        "CREATE INDEX papers_added_at ON papers (added_at)",
    ]
