"""Personal watches: "tell me when a new paper matches my search", by direct message.

A new paper matches a watch when it holds every word of the query as search reads them (stems,
hyphens, typos corrected against the corpus; a query of several words also as a phrase) and,
when the watch names an author, that author wrote it. Only papers first stored after the watch
was made are reported, each at most once per watch, in one batch per person and day at the
person's time. Exactly once works as the digest's does: the day is claimed and the papers
recorded in one short transaction after planning from a ready index, then sent; a failed send
gives the batch back.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable

from pydantic import BaseModel, field_validator

from bot.digest.models import Subscription
from bot.search.filters import Filters
from bot.service import PaperService, phrase_pattern
from bot.store.team import WatchRow

log = logging.getLogger(__name__)
MAX_WATCHES = 25  # per person
MAX_ITEMS = 20  # per batch


class Watch(BaseModel):
    id: int
    user: int
    query: str
    author: str | None = None
    time: str = "08:00"
    tz: str = "UTC"
    created_at: str

    @classmethod
    def of(cls, row: WatchRow) -> Watch:
        return cls(
            id=row.id,
            user=row.user_id,
            query=row.query,
            author=row.author,
            time=row.time,
            tz=row.tz,
            created_at=row.created_at,
        )


class WatchItem(BaseModel):
    id: str
    arxiv_id: str | None
    title: str
    authors: list[str]
    date: str | None
    reason: str
    links: dict[str, str]


class WatchBatch(BaseModel):
    user: int
    date: str
    items: list[WatchItem]

    def to_json(self) -> dict[str, object]:
        return {"user": self.user, "items": [i.model_dump() for i in self.items]}


class WatchSpec(BaseModel):
    """What a person asks to watch (validated like a digest subscription's time and zone)."""

    query: str
    author: str | None = None
    time: str = "08:00"
    tz: str = "UTC"

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        value = " ".join(value.split())
        if not 1 <= len(value) <= 200:
            raise ValueError("a watch needs a query of 1 to 200 characters")
        return value

    @field_validator("time", "tz")
    @classmethod
    def _when(cls, value: str, info) -> str:  # type: ignore[no-untyped-def]
        # The digest's validators say what a bad time or zone is; one set of rules for both.
        checked = Subscription(channel_id=0, **{info.field_name: value})
        return str(getattr(checked, info.field_name))


Sender = Callable[[WatchBatch], None]


class Watches:
    def __init__(self, service: PaperService) -> None:
        self.service = service
        self.store = service.store
        self.rows = service.store.team

    # -- the person's list ----------------------------------------------------------------
    def add(self, user: int, spec: WatchSpec) -> Watch:
        if len(self.rows.watches(user)) >= MAX_WATCHES:
            from bot.errors import UsageError

            raise UsageError(f"at most {MAX_WATCHES} watches per person: remove one first")
        with self.store.atomic():
            return Watch.of(self.rows.add_watch(user, spec.query, spec.author, spec.time, spec.tz))

    def list(self, user: int | None = None) -> list[Watch]:
        return [Watch.of(row) for row in self.rows.watches(user)]

    def remove(self, user: int, watch_id: int) -> bool:
        with self.store.atomic():
            return self.rows.remove_watch(user, watch_id)

    # -- matching ---------------------------------------------------------------------------
    def matches(self, watch: Watch, candidates: builtins.list[str]) -> builtins.list[tuple[str, str]]:
        """(paper id, reason) of the candidates that match the watch, newest first."""
        if not candidates:
            return []
        engine = self.service.engine
        terms = engine.topic_terms(watch.query)
        if not terms:
            return []
        author_keys = None
        if watch.author:
            author_keys = engine.authors.resolve(watch.author) or []
            if not author_keys:
                return []
        wanted = set(candidates)
        ids = [i for i in engine.newest(Filters(topic=terms), author_keys) if i in wanted]
        pattern = phrase_pattern(watch.query)
        papers = self.store.get_papers(ids)
        reason = f"matches “{watch.query}”" + (f" by {watch.author}" if watch.author else "")
        return [
            (p.id, reason) for p in papers if pattern is None or pattern.search(p.label + " " + p.abstract)
        ]

    def plan(
        self, user: int, watches: builtins.list[Watch]
    ) -> builtins.list[tuple[Watch, builtins.list[tuple[str, str]]]]:
        """Each watch's new matching papers not yet sent to it (reads only)."""
        planned = []
        for watch in watches:
            new = [
                i
                for i in self.rows.papers_added_after(watch.created_at)
                if i not in self.rows.sent_ids(watch.id)
            ]
            found = self.matches(watch, new)
            if found:
                planned.append((watch, found))
        return planned

    # -- running ------------------------------------------------------------------------
    def due(self, now: dt.datetime) -> dict[int, tuple[dt.date, builtins.list[Watch]]]:
        """People whose batch time has passed today (their first watch's time and zone) and
        whose batch of today is not done."""
        people: dict[int, builtins.list[Watch]] = {}
        for watch in self.list():
            people.setdefault(watch.user, []).append(watch)
        found = {}
        for user, watches in people.items():
            first = watches[0]
            sub = Subscription(channel_id=0, time=first.time, tz=first.tz)
            local = sub.local(now)
            if local.time() >= sub.due_time() and not self.rows.batch_done(user, local.date().isoformat()):
                found[user] = (local.date(), watches)
        return found

    def run_due(self, now: dt.datetime, send: Sender) -> builtins.list[WatchBatch]:
        """Plan, claim, record and send every batch due at ``now``; returns those sent."""
        sent = []
        for user, (day, watches) in self.due(now).items():
            planned = self.plan(user, watches)  # reads only; may build the index
            with self.store.atomic(lock="watch"):
                if not self.rows.claim_batch(user, day.isoformat()):
                    continue  # another process has this person's day
                seen: dict[str, str] = {}  # paper id -> why, at most MAX_ITEMS (the rest waits a day)
                for watch, found in planned:
                    sent_before = self.rows.sent_ids(watch.id)  # another process may have sent some
                    fresh = [(pid, why) for pid, why in found if pid not in sent_before][
                        : max(0, MAX_ITEMS - len(seen))
                    ]
                    self.rows.record_sent(watch.id, [pid for pid, _ in fresh], day.isoformat())
                    for pid, why in fresh:
                        seen.setdefault(pid, why)
            if not seen:
                continue  # the day is recorded: nothing new for this person
            batch = self._batch(user, day, seen)
            try:
                send(batch)
            except Exception:
                with self.store.atomic(lock="watch"):
                    self.rows.undo_batch(user, day.isoformat())
                log.exception("watch batch for user %s failed; it will be tried again", user)
            else:
                sent.append(batch)
        return sent

    def _batch(self, user: int, day: dt.date, seen: dict[str, str]) -> WatchBatch:
        papers = {p.id: p for p in self.store.get_papers(list(seen))}
        items = [
            WatchItem(
                id=p.id,
                arxiv_id=p.arxiv_id,
                title=p.label,
                authors=p.authors,
                date=p.date.isoformat() if p.date else None,
                reason=seen[p.id],
                links=p.links,
            )
            for pid in seen
            if (p := papers.get(pid))
        ]
        return WatchBatch(user=user, date=day.isoformat(), items=items)
