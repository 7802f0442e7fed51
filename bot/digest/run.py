"""Running digests: what is due, what each contains, and posting each one exactly once.

Exactly once, across processes and crashes:

1. A digest is due for a channel when its local time has passed today and no digest row exists
   for (channel, local day). The items are planned first, from a ready search index and with
   nothing written; then one short transaction under the ``digest`` lock claims the day by
   inserting that row (the primary key refuses a second) and records the items as posted,
   dropping any that another process posted meanwhile. Only then does it post. Nothing is built
   or written inside the claim: an index rebuild writes embeddings in transactions of its own,
   which a claim held open on SQLite would lock out.
2. A paper is new for a channel when its arXiv date is on or after the channel's previous digest
   day (``lookback_days`` before the first one) and it is not in ``posted`` for that channel; so
   after downtime one digest covers the whole missed window, and nothing is posted twice.
3. If posting fails, the day and its ``posted`` rows are removed again (the next run retries);
   a channel that is gone or refuses us pauses the subscription with an admin-visible error.
4. A process killed between the commit and Discord's answer: when the poster can look back
   (``find``, the Discord bot), the day is recorded as ``sending`` and confirmed once Discord
   answers. A later run finds the unconfirmed day and reconciles it against the channel's recent
   messages from the bot (the footer names the day): found, it is confirmed; not found, it is sent
   again, with the same nonce (Discord drops a repeat of a recent nonce). Without ``find``
   (``digest run --print``) printing counts as posting and the day is recorded as posted.
5. A day with nothing new is recorded as ``empty`` (weekends, holidays) and is not re-checked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.digest.book import DigestBook, dump_items, load_items, seed_library
from bot.digest.models import Digest, DigestItem, Profile, Subscription
from bot.digest.rank import rank
from bot.models import Paper
from bot.search.filters import Filters
from bot.service import PaperService

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5000
# A digest is claimed just after it is planned: papers stored this long before the claim count as
# arrived after the plan (one that the plan did see is in the channel's posted set or was ranked out).
PLAN_MARGIN = dt.timedelta(minutes=10)


class ChannelUnavailable(Exception):
    """Posting failed for good: pause the subscription."""


Poster = Callable[[Subscription, Digest], None]
# Whether a digest is already in its channel (a post whose confirmation a crash lost).
Finder = Callable[[Subscription, Digest], bool]


class DigestRunner:
    def __init__(self, service: PaperService) -> None:
        self.service = service
        self.store = service.store
        self.book = DigestBook(service.store)

    def candidates(self, since: dt.date, until: dt.date) -> list[Paper]:
        # A current index: a paper stored before this plan whose date is before today would fall
        # out of tomorrow's window if the bot's background refresh had not taken it in yet.
        ids = self.service.current_engine().newest(Filters(since=since, until=until), None, MAX_CANDIDATES)
        return self.store.get_papers(ids)

    def library(self, channel_id: int | None = None) -> list[Paper]:
        papers = seed_library(self.store)
        if channel_id is not None:
            liked = [*self.book.reacted_ids(channel_id), *self.store.team.voted_ids(channel_id)]
            papers += self.store.get_papers(liked)
        return list({p.id: p for p in papers}.values())

    def preview(
        self, profile: Profile, since: dt.date | None = None, today: dt.date | None = None
    ) -> list[DigestItem]:
        today = today or dt.date.today()
        since = since or today - dt.timedelta(days=profile.lookback_days)
        return rank(self.candidates(since, today), profile, self.library(), self.service.embedder)

    def plan(self, sub: Subscription, day: dt.date) -> Digest:
        previous = self.book.previous_digest(sub.channel_id, day.isoformat())
        since = (
            dt.date.fromisoformat(previous)
            if previous
            else day - dt.timedelta(days=sub.profile.lookback_days)
        )
        posted = self.book.posted_ids(sub.channel_id)
        candidates = self.candidates(since, day)
        if previous:
            candidates += self.late_arrivals(sub, previous, since)
        fresh = [p for p in {p.id: p for p in candidates}.values() if p.id not in posted]
        items = rank(fresh, sub.profile, self.library(sub.channel_id), self.service.embedder)
        return Digest(
            channel=sub.channel_id, date=day.isoformat(), items=items, window_start=since.isoformat()
        )

    def late_arrivals(self, sub: Subscription, previous: str, since: dt.date) -> list[Paper]:
        """Papers dated before this digest's window (within the profile's lookback) but stored
        after the channel's previous digest was planned: a listing fetched late, an ingest killed
        and re-run after the digest hour. The window alone would never offer them again."""
        claimed = self.book.claimed_at(sub.channel_id, previous)
        if claimed is None:
            return []
        planned = (dt.datetime.fromisoformat(claimed) - PLAN_MARGIN).isoformat(timespec="seconds")
        earliest = since - dt.timedelta(days=sub.profile.lookback_days)
        return [
            p
            for p in self.store.get_papers(self.store.added_since(planned))
            if p.date is not None and earliest <= p.date < since
        ]

    def due(self, now: dt.datetime) -> list[tuple[Subscription, dt.date]]:
        found = []
        for sub in self.book.subscriptions():
            local = sub.local(now)
            if sub.paused or local.time() < sub.due_time():
                continue
            if self.book.digest_status(sub.channel_id, local.date().isoformat()) is None:
                found.append((sub, local.date()))
        return found

    def run_due(
        self,
        now: dt.datetime,
        post: Poster,
        serves: Callable[[Subscription], bool] | None = None,
        find: Finder | None = None,
    ) -> list[Digest]:
        """Reconcile unconfirmed posts, then claim, plan, record and post every digest due at
        ``now``; returns those posted."""
        subs = [s for s in self.book.subscriptions() if not s.paused and (serves is None or serves(s))]
        done = self._reconcile(subs, post, find) if find is not None else []
        for sub, day in self.due(now):
            if serves is not None and not serves(sub):
                continue  # another shard's guild
            planned = self.plan(sub, day)  # reads only; may build the index
            with self.store.atomic(lock="digest"):
                if not self.book.claim(sub.channel_id, planned.date):
                    continue  # another process has this day
                posted = self.book.posted_ids(sub.channel_id)
                digest = planned.model_copy(
                    update={"items": [i for i in planned.items if i.id not in posted]}
                )
                self.book.finish(
                    sub.channel_id,
                    digest.date,
                    [i.id for i in digest.items],
                    dump_items(digest.items),
                    confirmed=find is None,
                )
            if not digest.items and not sub.post_when_empty:
                continue  # recorded as empty: nothing to say today
            if self._send(sub, digest, post, undo_on_error=True):
                done.append(digest)
                self.store.set_meta("last_digest", now.isoformat(timespec="seconds"))
        return done

    def _reconcile(self, subs: list[Subscription], post: Poster, find: Finder) -> list[Digest]:
        """Digests recorded but never confirmed: confirmed if the channel has them, else sent again."""
        sent: list[Digest] = []
        for sub in subs:
            for day, items in self.book.unconfirmed(sub.channel_id):
                digest = Digest(channel=sub.channel_id, date=day, items=load_items(items))
                try:
                    already = find(sub, digest)
                except Exception:
                    log.exception("could not look for the digest of %s in channel %s", day, sub.channel_id)
                    continue  # unknown: look again at the next run rather than risk a duplicate
                if already:
                    self.book.confirm(sub.channel_id, day)
                elif self._send(sub, digest, post, undo_on_error=False):
                    sent.append(digest)
        return sent

    def _send(self, sub: Subscription, digest: Digest, post: Poster, undo_on_error: bool) -> bool:
        try:
            post(sub, digest)
        except ChannelUnavailable as exc:
            self._undo(sub.channel_id, digest.date)
            self.book.pause(sub.channel_id, str(exc))
            log.warning("digest for channel %s paused: %s", sub.channel_id, exc)
            return False
        except Exception:
            if undo_on_error:
                self._undo(sub.channel_id, digest.date)
            log.exception("digest for channel %s failed; it will be tried again", sub.channel_id)
            return False
        self.book.confirm(sub.channel_id, digest.date)
        return True

    def _undo(self, channel_id: int, day: str) -> None:
        self.book.undo(channel_id, day)
