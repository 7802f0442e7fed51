"""The digest's bookkeeping (both backends), as plain logic over the store's ``DigestStore``:
subscriptions, one digest row per (channel, local day), and the papers posted to each channel.

The store's primary keys carry the guarantees: one process claims a channel's day (a second
claim is refused), a paper is recorded as posted to a channel once. Claims run inside
``store.atomic(lock="digest")``.
"""

from __future__ import annotations

import json
from typing import Any

from bot.digest.models import DigestItem, Profile, Subscription
from bot.models import Paper
from bot.store import Store, SubscriptionRow

# A paused subscription's error is shown to admins: kept short.
MAX_ERROR = 500


class DigestBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows = store.digests

    # -- subscriptions ------------------------------------------------------------------
    def subscribe(self, sub: Subscription) -> Subscription:
        """Save a subscription (replacing the channel's; a paused one resumes)."""
        self.rows.put_subscription(
            SubscriptionRow(
                channel_id=sub.channel_id,
                guild_id=sub.guild_id,
                time=sub.time,
                tz=sub.tz,
                profile_json=sub.profile.model_dump_json(),
                post_when_empty=sub.post_when_empty,
                paused=False,
                last_error=None,
            )
        )
        found = self.subscription(sub.channel_id)
        assert found is not None
        return found

    def unsubscribe(self, channel_id: int) -> bool:
        return self.rows.delete_subscription(channel_id)

    def subscriptions(self) -> list[Subscription]:
        return [_subscription(row) for row in self.rows.subscriptions()]

    def subscription(self, channel_id: int) -> Subscription | None:
        row = self.rows.subscription(channel_id)
        return _subscription(row) if row else None

    def pause(self, channel_id: int, error: str) -> None:
        """Stop posting to a channel that is gone or refuses us; the error is shown to admins."""
        self.rows.pause_subscription(channel_id, error[:MAX_ERROR])

    # -- digests ------------------------------------------------------------------------
    def claim(self, channel_id: int, day: str) -> bool:
        """Take (channel, day) for this process; False when another took it or it is done."""
        return self.rows.claim(channel_id, day)

    def digest_status(self, channel_id: int, day: str) -> str | None:
        return self.rows.status(channel_id, day)

    def previous_digest(self, channel_id: int, before: str) -> str | None:
        """The latest earlier day this channel had a digest (posted, or recorded as empty)."""
        return self.rows.previous_day(channel_id, before)

    def claimed_at(self, channel_id: int, day: str) -> str | None:
        """When a day's digest was claimed (it was planned just before)."""
        return self.rows.claimed_at(channel_id, day)

    def finish(
        self, channel_id: int, day: str, paper_ids: list[str], items_json: str, confirmed: bool = True
    ) -> None:
        """Record the papers as posted and the day as done, in the caller's transaction. Unless
        ``confirmed``, the day stays ``sending`` until :meth:`confirm` (a post that can be
        reconciled after a crash)."""
        self.rows.finish(channel_id, day, paper_ids, items_json, confirmed)

    def confirm(self, channel_id: int, day: str) -> None:
        """Discord took the message: the day is posted."""
        self.rows.confirm(channel_id, day)

    def unconfirmed(self, channel_id: int) -> list[tuple[str, str]]:
        """(day, items JSON) of digests recorded but never confirmed: a process stopped between
        the commit and Discord's answer."""
        return self.rows.unconfirmed(channel_id)

    def undo(self, channel_id: int, day: str) -> None:
        """Forget a recorded day and its posted papers (posting failed after the commit): the
        next run plans the day again."""
        with self.store.atomic(lock="digest"):
            self.rows.undo(channel_id, day)

    def posted_ids(self, channel_id: int) -> set[str]:
        return self.rows.posted_ids(channel_id)

    # -- the team's library ----------------------------------------------------------------
    def react(self, channel_id: int, paper_id: str, user_id: int) -> None:
        """A reaction on a digest item: that paper joins the channel's library."""
        self.rows.react(channel_id, paper_id, user_id)

    def reacted_ids(self, channel_id: int) -> list[str]:
        return self.rows.reacted_ids(channel_id)


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        channel_id=row.channel_id,
        guild_id=row.guild_id,
        time=row.time,
        tz=row.tz,
        profile=Profile.model_validate_json(row.profile_json),
        post_when_empty=row.post_when_empty,
        paused=row.paused,
        last_error=row.last_error,
    )


def dump_items(items: list[Any]) -> str:
    return json.dumps([i.model_dump() for i in items], ensure_ascii=False)


def load_items(items_json: str | None) -> list[DigestItem]:
    return [DigestItem.model_validate(row) for row in json.loads(items_json or "[]")]


def seed_library(store: Store) -> list[Paper]:
    """The team's own papers: those that came from seed files (.txt sources)."""
    return store.papers_from_sources(".txt")
