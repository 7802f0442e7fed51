"""The digest's tables, for both backends: the statements are the same in SQLite and PostgreSQL
(written with ``?`` placeholders; the PostgreSQL store passes them on as ``%s``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.store.base import SubscriptionRow, now

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

_SUBSCRIPTION = (
    "SELECT channel_id, guild_id, time, tz, profile, post_when_empty, paused, last_error FROM subscriptions"
)


class DigestRows:
    """``DigestStore`` over one statement runner of a store (joins the store's transaction)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    # -- subscriptions ------------------------------------------------------------------
    def put_subscription(self, row: SubscriptionRow) -> None:
        """Insert or replace a subscription; a replaced one is un-paused and its error cleared."""
        self._run(
            """INSERT INTO subscriptions (channel_id, guild_id, time, tz, profile, post_when_empty, paused, last_error, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, time = excluded.time,
                 tz = excluded.tz, profile = excluded.profile, post_when_empty = excluded.post_when_empty,
                 paused = excluded.paused, last_error = excluded.last_error, updated_at = excluded.updated_at""",
            (
                row.channel_id,
                row.guild_id,
                row.time,
                row.tz,
                row.profile_json,
                int(row.post_when_empty),
                int(row.paused),
                row.last_error,
                now(),
            ),
        )

    def delete_subscription(self, channel_id: int) -> bool:
        return bool(
            self._run("DELETE FROM subscriptions WHERE channel_id = ? RETURNING channel_id", (channel_id,))
        )

    def subscriptions(self) -> list[SubscriptionRow]:
        return [_subscription(row) for row in self._run(_SUBSCRIPTION + " ORDER BY channel_id", ())]

    def subscription(self, channel_id: int) -> SubscriptionRow | None:
        rows = self._run(_SUBSCRIPTION + " WHERE channel_id = ?", (channel_id,))
        return _subscription(rows[0]) if rows else None

    def pause_subscription(self, channel_id: int, error: str) -> None:
        self._run(
            "UPDATE subscriptions SET paused = 1, last_error = ?, updated_at = ? WHERE channel_id = ?",
            (error, now(), channel_id),
        )

    # -- digests ------------------------------------------------------------------------
    def claim(self, channel_id: int, day: str) -> bool:
        """Take (channel, day); False when it is taken (by anyone, finished or not)."""
        return bool(
            self._run(
                """INSERT INTO digests (channel_id, digest_date, status, claimed_at) VALUES (?, ?, 'claimed', ?)
                   ON CONFLICT DO NOTHING RETURNING channel_id""",
                (channel_id, day, now()),
            )
        )

    def status(self, channel_id: int, day: str) -> str | None:
        rows = self._run(
            "SELECT status FROM digests WHERE channel_id = ? AND digest_date = ?", (channel_id, day)
        )
        return str(rows[0][0]) if rows else None

    def previous_day(self, channel_id: int, before: str) -> str | None:
        """The latest day before ``before`` with a finished digest (posted or empty)."""
        rows = self._run(
            """SELECT MAX(digest_date) FROM digests
               WHERE channel_id = ? AND digest_date < ? AND status IN ('posted', 'empty')""",
            (channel_id, before),
        )
        return rows[0][0] if rows and rows[0][0] else None

    def claimed_at(self, channel_id: int, day: str) -> str | None:
        """When the (channel, day) digest was claimed, just after it was planned."""
        rows = self._run(
            "SELECT claimed_at FROM digests WHERE channel_id = ? AND digest_date = ?", (channel_id, day)
        )
        return str(rows[0][0]) if rows else None

    def finish(
        self, channel_id: int, day: str, paper_ids: list[str], items_json: str, confirmed: bool = True
    ) -> None:
        """Record the papers as posted and the day as done (posted, or empty without papers);
        unless ``confirmed``, as ``sending`` until :meth:`confirm`."""
        at = now()
        for pid in paper_ids:
            self._run(
                """INSERT INTO posted (channel_id, paper_id, digest_date, posted_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT DO NOTHING""",
                (channel_id, pid, day, at),
            )
        self._run(
            "UPDATE digests SET status = ?, posted_at = ?, items = ? WHERE channel_id = ? AND digest_date = ?",
            (
                ("posted" if confirmed else "sending") if paper_ids else "empty",
                at,
                items_json,
                channel_id,
                day,
            ),
        )

    def confirm(self, channel_id: int, day: str) -> None:
        self._run(
            """UPDATE digests SET status = 'posted', posted_at = ?
               WHERE channel_id = ? AND digest_date = ? AND status = 'sending'""",
            (now(), channel_id, day),
        )

    def unconfirmed(self, channel_id: int) -> list[tuple[str, str]]:
        rows = self._run(
            "SELECT digest_date, items FROM digests WHERE channel_id = ? AND status = 'sending' ORDER BY digest_date",
            (channel_id,),
        )
        return [(row[0], row[1]) for row in rows]

    def undo(self, channel_id: int, day: str) -> None:
        """Forget a day and the papers it recorded as posted, whatever its status."""
        self._run("DELETE FROM posted WHERE channel_id = ? AND digest_date = ?", (channel_id, day))
        self._run("DELETE FROM digests WHERE channel_id = ? AND digest_date = ?", (channel_id, day))

    def posted_ids(self, channel_id: int) -> set[str]:
        return {
            row[0] for row in self._run("SELECT paper_id FROM posted WHERE channel_id = ?", (channel_id,))
        }

    # -- reactions ------------------------------------------------------------------------
    def react(self, channel_id: int, paper_id: str, user_id: int) -> None:
        self._run(
            """INSERT INTO reactions (channel_id, paper_id, user_id, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT DO NOTHING""",
            (channel_id, paper_id, user_id, now()),
        )

    def reacted_ids(self, channel_id: int) -> list[str]:
        rows = self._run(
            "SELECT DISTINCT paper_id FROM reactions WHERE channel_id = ? ORDER BY paper_id", (channel_id,)
        )
        return [row[0] for row in rows]


def _subscription(row: tuple[Any, ...]) -> SubscriptionRow:
    channel, guild, time, tz, profile, empty, paused, error = row
    return SubscriptionRow(
        channel_id=int(channel),
        guild_id=int(guild) if guild is not None else None,
        time=time,
        tz=tz,
        profile_json=profile,
        post_when_empty=bool(empty),
        paused=bool(paused),
        last_error=error,
    )
