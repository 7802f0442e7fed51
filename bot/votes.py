"""Votes: 👍 and ⭐ reactions on the bot's cards, answers and digest items, one per person and
kind (removing the reaction takes the vote back). They feed the channel's library, which ranks
its digest, and ``/top`` lists the most voted papers of a week, a month or all time."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from bot.models import Paper
from bot.store.base import Store

VOTES = {"👍": "up", "⭐": "star"}
SAVE = "🔖"
Period = Literal["week", "month", "all"]
SPAN = {"week": 7, "month": 30}


def vote(store: Store, channel: int, paper_id: str, user: int, emoji: str, on: bool) -> bool:
    """Record (or take back) a vote; False when the emoji is not a vote."""
    kind = VOTES.get(emoji)
    if kind is None:
        return False
    with store.atomic():
        store.team.vote(channel, paper_id, user, kind, on)
    return True


def top(
    store: Store, channel: int, period: Period = "week", limit: int = 10, now: dt.datetime | None = None
) -> list[tuple[Paper, int]]:
    """The channel's most voted papers (by people, whatever the emoji) in the period, most first."""
    since = None
    if period in SPAN:
        since = ((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=SPAN[period])).isoformat(
            timespec="seconds"
        )
    counts = store.team.top(channel, since, limit)
    papers = {p.id: p for p in store.get_papers([pid for pid, _ in counts])}
    return [(papers[pid], n) for pid, n in counts if pid in papers]
