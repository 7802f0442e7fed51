"""The digest's bookkeeping in the database (both backends): subscriptions, one digest row per
(channel, local day), and the papers posted to each channel.

The primary keys carry the guarantees: ``digests (channel_id, digest_date)`` lets exactly one
process claim a channel's day, ``posted (channel_id, paper_id)`` lets a paper be recorded as
posted to a channel once. Claims run inside ``store.atomic(lock="digest")``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.digest.models import DigestItem, Profile, Subscription
from bot.store import Store


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _run(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement on either backend (the SQL is written with ``?`` placeholders)."""
    if store.kind == "postgresql":
        # Without parameters psycopg leaves '%' alone; with them '?' becomes '%s'.
        return store._execute(sql.replace("?", "%s") if params else sql, params or None)  # type: ignore[union-attr]
    return [tuple(row) for row in store.db.execute(sql, params).fetchall()]  # type: ignore[union-attr]


class DigestBook:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- subscriptions ------------------------------------------------------------------
    def subscribe(self, sub: Subscription) -> Subscription:
        _run(
            self.store,
            """INSERT INTO subscriptions (channel_id, guild_id, time, tz, profile, post_when_empty, paused, last_error, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?)
               ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, time = excluded.time,
                 tz = excluded.tz, profile = excluded.profile, post_when_empty = excluded.post_when_empty,
                 paused = 0, last_error = NULL, updated_at = excluded.updated_at""",
            (
                sub.channel_id,
                sub.guild_id,
                sub.time,
                sub.tz,
                sub.profile.model_dump_json(),
                int(sub.post_when_empty),
                _now(),
            ),
        )
        found = self.subscription(sub.channel_id)
        assert found is not None
        return found

    def unsubscribe(self, channel_id: int) -> bool:
        existed = self.subscription(channel_id) is not None
        _run(self.store, "DELETE FROM subscriptions WHERE channel_id = ?", (channel_id,))
        return existed

    def subscriptions(self) -> list[Subscription]:
        rows = _run(
            self.store,
            "SELECT channel_id, guild_id, time, tz, profile, post_when_empty, paused, last_error FROM subscriptions ORDER BY channel_id",
        )
        return [self._subscription(row) for row in rows]

    def subscription(self, channel_id: int) -> Subscription | None:
        rows = _run(
            self.store,
            "SELECT channel_id, guild_id, time, tz, profile, post_when_empty, paused, last_error FROM subscriptions WHERE channel_id = ?",
            (channel_id,),
        )
        return self._subscription(rows[0]) if rows else None

    @staticmethod
    def _subscription(row: tuple[Any, ...]) -> Subscription:
        channel, guild, time, tz, profile, empty, paused, error = row
        return Subscription(
            channel_id=int(channel),
            guild_id=int(guild) if guild is not None else None,
            time=time,
            tz=tz,
            profile=Profile.model_validate_json(profile),
            post_when_empty=bool(empty),
            paused=bool(paused),
            last_error=error,
        )

    def pause(self, channel_id: int, error: str) -> None:
        """Stop posting to a channel that is gone or refuses us; the error is shown to admins."""
        _run(
            self.store,
            "UPDATE subscriptions SET paused = 1, last_error = ?, updated_at = ? WHERE channel_id = ?",
            (error[:500], _now(), channel_id),
        )

    # -- digests ------------------------------------------------------------------------
    def claim(self, channel_id: int, day: str) -> bool:
        """Take (channel, day) for this process; False when another took it or it is done."""
        rows = _run(
            self.store,
            "INSERT INTO digests (channel_id, digest_date, status, claimed_at) VALUES (?, ?, 'claimed', ?) ON CONFLICT DO NOTHING RETURNING channel_id",
            (channel_id, day, _now()),
        )
        return bool(rows)

    def digest_status(self, channel_id: int, day: str) -> str | None:
        rows = _run(
            self.store,
            "SELECT status FROM digests WHERE channel_id = ? AND digest_date = ?",
            (channel_id, day),
        )
        return rows[0][0] if rows else None

    def previous_digest(self, channel_id: int, before: str) -> str | None:
        """The latest earlier day this channel had a digest (posted, or recorded as empty)."""
        rows = _run(
            self.store,
            "SELECT MAX(digest_date) FROM digests WHERE channel_id = ? AND digest_date < ? AND status IN ('posted', 'empty')",
            (channel_id, before),
        )
        return rows[0][0] if rows and rows[0][0] else None

    def unfinished(self, channel_id: int, before: str) -> list[str]:
        """Days claimed but never finished (a crash): the day's run is replaced by today's."""
        rows = _run(
            self.store,
            "SELECT digest_date FROM digests WHERE channel_id = ? AND digest_date < ? AND status = 'claimed'",
            (channel_id, before),
        )
        return [row[0] for row in rows]

    def finish(
        self, channel_id: int, day: str, paper_ids: list[str], items_json: str, confirmed: bool = True
    ) -> None:
        """Record the papers as posted and the day as done, in the caller's transaction. Unless
        ``confirmed``, the day stays ``sending`` until :meth:`confirm` (a post that can be
        reconciled after a crash)."""
        status = ("posted" if confirmed else "sending") if paper_ids else "empty"
        for pid in paper_ids:
            _run(
                self.store,
                "INSERT INTO posted (channel_id, paper_id, digest_date, posted_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (channel_id, pid, day, _now()),
            )
        _run(
            self.store,
            "UPDATE digests SET status = ?, posted_at = ?, items = ? WHERE channel_id = ? AND digest_date = ?",
            (status, _now(), items_json, channel_id, day),
        )

    def confirm(self, channel_id: int, day: str) -> None:
        """Discord took the message: the day is posted."""
        _run(
            self.store,
            "UPDATE digests SET status = 'posted', posted_at = ? WHERE channel_id = ? AND digest_date = ? AND status = 'sending'",
            (_now(), channel_id, day),
        )

    def unconfirmed(self, channel_id: int) -> list[tuple[str, str]]:
        """(day, items JSON) of digests recorded but never confirmed: a process stopped between
        the commit and Discord's answer."""
        rows = _run(
            self.store,
            "SELECT digest_date, items FROM digests WHERE channel_id = ? AND status = 'sending' ORDER BY digest_date",
            (channel_id,),
        )
        return [(row[0], row[1]) for row in rows]

    def release(self, channel_id: int, day: str) -> None:
        """Give a claimed day back (posting failed): a later run may take it again."""
        _run(
            self.store,
            "DELETE FROM digests WHERE channel_id = ? AND digest_date = ? AND status = 'claimed'",
            (channel_id, day),
        )

    def forget(self, channel_id: int, day: str) -> None:
        """Undo a recorded day whose post failed: its papers count as unposted again."""
        _run(self.store, "DELETE FROM posted WHERE channel_id = ? AND digest_date = ?", (channel_id, day))
        _run(self.store, "DELETE FROM digests WHERE channel_id = ? AND digest_date = ?", (channel_id, day))

    def posted_ids(self, channel_id: int) -> set[str]:
        return {
            row[0]
            for row in _run(self.store, "SELECT paper_id FROM posted WHERE channel_id = ?", (channel_id,))
        }

    def last_digest(self) -> str | None:
        rows = _run(self.store, "SELECT MAX(posted_at) FROM digests WHERE status = 'posted'")
        return rows[0][0] if rows and rows[0][0] else None

    # -- the team's library ----------------------------------------------------------------
    def react(self, channel_id: int, paper_id: str, user_id: int) -> None:
        """A reaction on a digest item: that paper joins the channel's library."""
        _run(
            self.store,
            "INSERT INTO reactions (channel_id, paper_id, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel_id, paper_id, user_id, _now()),
        )

    def reacted_ids(self, channel_id: int) -> list[str]:
        return [
            row[0]
            for row in _run(
                self.store, "SELECT DISTINCT paper_id FROM reactions WHERE channel_id = ?", (channel_id,)
            )
        ]


def dump_items(items: list[Any]) -> str:
    return json.dumps([i.model_dump() for i in items], ensure_ascii=False)


def load_items(items_json: str | None) -> list[DigestItem]:
    return [DigestItem.model_validate(row) for row in json.loads(items_json or "[]")]


def seed_library(store: Store) -> list[Any]:
    """The team's own papers: those that came from seed files (.txt sources)."""
    from bot.models import Paper

    if store.kind == "postgresql":
        sql = """SELECT data::text FROM papers WHERE EXISTS (
                   SELECT 1 FROM jsonb_array_elements_text(data->'sources') s WHERE s LIKE '%.txt')"""
    else:
        sql = """SELECT data FROM papers WHERE EXISTS (
                   SELECT 1 FROM json_each(papers.data, '$.sources') WHERE value LIKE '%.txt')"""
    return [Paper.model_validate_json(row[0]) for row in _run(store, sql)]
