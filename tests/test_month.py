"""A month of operation, simulated (#17): 30 days on a fake clock.

- a local arXiv stand-in (tests/month_world.py) serves each weekday's cs.LG and cs.CL listings
  (new papers, cross-lists, replacements) and a 503 now and then, sometimes for a whole hour;
- ``paperbot fetch --rss`` runs every 6 hours and ``paperbot ingest`` reads each weekday's saved
  API response (stat.ML), both real CLI subprocesses, SIGKILLed at random moments and re-run the
  next hour, as an hourly cron with a lock would;
- the digest posts to three channels in two time zones through a strict fake Discord (every
  delivery is recorded, a repeat is a duplicate), run every hour by the bot, simulated in this
  process with a service of its own: it crashes now and then at the digest's kill points (before
  the commit, before the send, after the send but before Discord's answer) and restarts with a
  new service and connection (``digest run`` subprocesses SIGKILLed: tests/test_digest.py);
- one long-running ``PaperService(background_refresh=True)`` answers 20 questions a day while the
  fetches run, and finds each day's new papers by their titles before the day is over.

``PAPERBOT_MONTH_SEED`` picks another month.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import service as service_module
from bot.config import Settings
from bot.digest.book import DigestBook
from bot.digest.models import Digest, Profile, Subscription, digest_marker
from bot.digest.run import DigestRunner
from bot.doctor import run_checks
from bot.ingest.pipeline import ingest_paths
from bot.service import PaperService
from bot.store import SQLiteStore
from bot.store.sqlite import integrity_problems
from bot.text import fold
from tests.conftest import SEEDS
from tests.month_world import FOLLOWED, LISTED, Month, Paper, StandIn, hours

SEED = int(os.environ.get("PAPERBOT_MONTH_SEED", "17"))
# Mid-October to mid-November 2026: both clock changes (Europe on 25 Oct, New York on 1 Nov).
START = dt.datetime(2026, 10, 12, tzinfo=dt.UTC)
DAYS = int(os.environ.get("PAPERBOT_MONTH_DAYS", "30"))
FETCH_HOURS = (0, 6, 12, 18)
INGEST_HOUR = 6  # the morning cron ingests the API responses saved since (at 18:00 UTC)
KILL_RATE = 0.3  # of the subprocess runs
DIGEST_CRASH_RATE = 0.25  # of the bot's digest runs with something due
OUTAGE_RATE = 0.05  # of the hours in which arXiv answers nothing but 503
QUESTIONS_A_DAY = 20

CHANNELS = [
    Subscription(
        channel_id=1,
        time="08:00",
        tz="Europe/Paris",
        profile=Profile(authors=[], categories=["cs.LG", "stat.ML"], max_papers=100),
    ),
    Subscription(
        channel_id=2,
        time="09:00",
        tz="America/New_York",
        profile=Profile(authors=[], categories=["cs.CL"], keywords=["distillation"], max_papers=100),
    ),
    Subscription(
        channel_id=3,
        time="17:30",
        tz="America/New_York",
        profile=Profile(
            authors=[FOLLOWED], categories=["cs.CL"], exclude_keywords=["survey"], max_papers=100
        ),
    ),
]


def wanted(sub: Subscription, paper: Paper) -> bool:
    """The channel's profile, decided from the month's own record (not by the digest's code)."""
    profile = sub.profile
    if any(k in fold(paper.title) for k in profile.exclude_keywords):
        return False
    return bool(set(profile.categories) & set(paper.categories)) or any(
        fold(a) in map(fold, paper.authors) for a in profile.authors or []
    )


class Crash(BaseException):
    """The bot process dies here (not an Exception: nothing in the runner may catch it)."""


@dataclass
class FakeDiscord:
    """Every message delivered, per channel; a crash can land before or after a delivery."""

    messages: dict[int, list[Digest]] = field(default_factory=dict)
    crash: str | None = None
    crashes: Counter[str] = field(default_factory=Counter)

    def post(self, sub: Subscription, digest: Digest) -> None:
        if self.crash == "before_send":
            self._crash()
        self.messages.setdefault(sub.channel_id, []).append(digest)
        if self.crash == "after_send":
            self._crash()  # delivered; the process died before Discord's answer came

    def find(self, sub: Subscription, digest: Digest) -> bool:
        marker = digest_marker(digest.date)
        return any(digest_marker(d.date) == marker for d in self.messages.get(sub.channel_id, []))

    def _crash(self) -> None:
        self.crashes[self.crash or "?"] += 1
        self.crash = None
        raise Crash


class Bot:
    """The process that posts digests: its own service, restarted after each crash."""

    def __init__(self, db: Path, discord: FakeDiscord) -> None:
        self.db, self.discord, self.restarts = db, discord, 0
        self.start()

    def start(self) -> None:
        self.service = PaperService(SQLiteStore(self.db), embedder=False, background_refresh=True)
        self.runner = DigestRunner(self.service)

    def run(self, now: dt.datetime, crash: str | None) -> None:
        self.discord.crash = crash if crash in ("before_send", "after_send") else None
        if crash == "before_commit":

            def die(*args: object, **kwargs: object) -> None:
                self.discord.crashes["before_commit"] += 1
                raise Crash

            self.runner.book.finish = die  # type: ignore[method-assign]
        try:
            self.runner.run_due(now, self.discord.post, find=self.discord.find)
        except Crash:
            self.service.store.close()  # the process is gone: its connection and lock with it
            self.restarts += 1
            self.start()
        self.discord.crash = None
        vars(self.runner.book).pop("finish", None)  # a crash planned for a run that posted nothing


@dataclass
class Figures:
    subprocesses: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    questions: int = 0
    old_misses: list[str] = field(default_factory=list)
    new_found_early: int = 0
    new_asked: int = 0
    day_misses: list[str] = field(default_factory=list)
    checked_same_day: int = 0
    slowest_answer: float = 0.0
    stale_plans: int = 0


@pytest.mark.slow
def test_a_month_of_operation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    began = time.perf_counter()
    # The long-running service looks at the corpus version every 0.1 s instead of every second:
    # a fake day lasts a few real seconds.
    monkeypatch.setattr(service_module, "VERSION_CHECK_SECONDS", 0.1)
    month = Month(START.date(), DAYS, SEED)
    rng = random.Random(SEED)
    db = tmp_path / "team.db"
    with SQLiteStore(db) as store:
        ingest_paths(store, [SEEDS])
        book = DigestBook(store)
        for sub in CHANNELS:
            book.subscribe(sub)
    reader = SQLiteStore(db)  # the test's own look at the database
    seed_titles = [p.label for p in reader.iter_papers()]
    live = PaperService(SQLiteStore(db), embedder=False, background_refresh=True)
    assert live.search(seed_titles[0], k=1)
    discord = FakeDiscord()
    bot = Bot(db, discord)
    figures = Figures()

    with StandIn(month, SEED) as arxiv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOT_")}
        env |= {
            "PAPERBOT_ARXIV_RSS_URL": arxiv.url,
            "PAPERBOT_ARXIV_DELAY_SECONDS": "0.01",
            "PAPERBOT_SEMANTIC": "false",
        }
        base = [sys.executable, "-m", "bot", "--db", str(db)]
        fetch = [*base, "fetch", "--rss", *(a for c in LISTED for a in ("--category", c))]
        pending: dict[str, list[str]] = {}  # step -> command, until it completes
        took: dict[str, list[float]] = {"fetch": [1.0], "ingest": [1.0]}
        known = {p.arxiv_id for p in reader.iter_papers() if p.arxiv_id}
        old_pool = list(seed_titles)
        questions: list[str] = []

        def run(step: str, command: list[str]) -> None:
            """One cron run: questions answered meanwhile, a SIGKILL at a random moment."""
            kind = step.split()[0]
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            started = time.perf_counter()
            figures.subprocesses[kind] += 1
            for question in questions[:5]:
                ask(question)
            del questions[:5]
            killed = False
            if rng.random() < KILL_RATE:
                typical = sorted(took[kind])[len(took[kind]) // 2]
                time.sleep(max(0.0, started + rng.uniform(0.2, 1.0) * typical - time.perf_counter()))
                if process.poll() is None:
                    process.kill()
                    killed = True
                    figures.kills[kind] += 1
            _, err = process.communicate(timeout=120)
            assert "Traceback" not in err, err
            if process.returncode == 0:
                took[kind].append(time.perf_counter() - started)
                pending.pop(step, None)
            else:
                if not killed:
                    figures.failures[kind] += 1
                pending[step] = command  # the next hour's cron runs it again

        def ask(title: str) -> None:
            started = time.perf_counter()
            hits = live.search(title, k=1)
            figures.slowest_answer = max(figures.slowest_answer, time.perf_counter() - started)
            figures.questions += 1
            top = hits[0].paper.label if hits else None
            if title in new_titles:
                figures.new_asked += 1
                figures.new_found_early += top == title
            elif top != title:
                figures.old_misses.append(f"{title!r} -> {top!r}")

        saved: set[dt.date] = set()
        seen: dict[tuple[int, str], set[str]] = {}  # (channel, day): the papers stored when planned

        def digest(now: dt.datetime, crash: str | None) -> None:
            """The bot's hourly digest run; notes what was stored when each day was planned."""
            stored = {
                a for (a,) in reader.db.execute("SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL")
            }
            bot.run(now, crash)
            for channel, day in reader.db.execute("SELECT channel_id, digest_date FROM digests"):
                seen.setdefault((channel, day), stored)

        def save(day: dt.date) -> Path:
            """The stat.ML API response of ``day``, saved to a file for `paperbot ingest`."""
            path = tmp_path / f"stat-ml-{day}.xml"
            path.write_bytes(month.atom(day))
            saved.add(day)
            return path

        def found_by_title(now: dt.datetime, before: set[str]) -> set[str]:
            """Each paper that arrived since ``before`` is the top hit for its title; returns the
            arXiv ids stored now."""
            stored = {p.arxiv_id: p for p in reader.iter_papers() if p.arxiv_id}
            for arxiv_id in sorted(set(stored) - before):
                title = stored[arxiv_id].label
                hits = live.search(title, k=1)
                figures.checked_same_day += 1
                if not hits or hits[0].paper.arxiv_id != arxiv_id:
                    figures.day_misses.append(f"{now:%m-%d} {title!r}")
            return set(stored)

        for now in hours(START, DAYS):
            arxiv.now = now
            arxiv.down = rng.random() < OUTAGE_RATE
            if now.hour == 0:  # a new day: its 20 questions, old papers' titles and today's
                today = month.new_on(now.date())
                new_titles = {p.title for p in today}
                fresh = [p.title for p in rng.sample(today, min(8, len(today)))]  # none at weekends
                picks = rng.sample(old_pool, QUESTIONS_A_DAY - len(fresh)) + fresh
                rng.shuffle(picks)
                questions[:] = picks
                arrived_before = set(known)
            if now.hour in FETCH_HOURS:  # one fetch an hour: this one reads what a failed one missed
                for step in [s for s in pending if s.startswith("fetch")]:
                    del pending[step]
            for step, command in list(pending.items()):
                run(step, command)
            if now.hour in FETCH_HOURS:
                run(f"fetch {now:%m-%d %H}", fetch)
            if now.hour == INGEST_HOUR:  # yesterday's (Friday's on Monday), dated the day before
                for day in [d for d in month.api_files if d < now.date() and d not in saved]:
                    run(f"ingest {day:%m-%d}", [*base, "ingest", str(save(day))])
            if bot.runner.due(now) and bot.service._version < reader.corpus_version():
                figures.stale_plans += 1  # the digest brings the bot's index up to date first
            crash = rng.choice(["before_commit", "before_send", "after_send"])
            digest(now, crash if rng.random() < DIGEST_CRASH_RATE and bot.runner.due(now) else None)
            if now.hour == 23:  # the day is over: every paper that arrived today is found by its title
                for question in questions:
                    ask(question)
                questions.clear()
                settle(live, reader)
                known = found_by_title(now, arrived_before)
                old_pool = [p.title for p in month.papers.values() if p.arxiv_id in known] + seed_titles

        # The storm is over: what is still pending runs, and the next day's digests go out.
        arxiv.down, arxiv.error_rate = False, 0.0
        for command in [
            *pending.values(),
            *([*base, "ingest", str(save(d))] for d in month.api_files if d not in saved),
        ]:
            subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)
        settle(live, reader)
        late = found_by_title(START + dt.timedelta(days=DAYS), known) - known
        settle(bot.service, reader)
        after = list(hours(START + dt.timedelta(days=DAYS), 1))  # the next day: digests only
        for now in after:
            digest(now, None)
        end = after[-1]

    wall = time.perf_counter() - began
    papers = list(reader.iter_papers())
    world = month.papers
    by_arxiv = Counter(p.arxiv_id for p in papers if p.arxiv_id)
    digests = reader.db.execute("SELECT channel_id, digest_date, status FROM digests").fetchall()
    posted = sum(len(v) for v in discord.messages.values())
    print(
        f"\nmonth (seed {SEED}): {len(world)} papers over {DAYS} days ({len(papers)} stored with the seeds), "
        f"{month.replacements} replacements; {dict(figures.subprocesses)} cron runs, kills {dict(figures.kills)}, "
        f"failed runs (arXiv 503) {dict(figures.failures)}, stand-in answers {arxiv.served} ok / {arxiv.refused} 503; "
        f"digest crashes {dict(discord.crashes)}, bot restarts {bot.restarts}; {len(digests)} digest days, "
        f"{figures.stale_plans} planned while the bot's background refresh lagged, "
        f"{posted} posted; {figures.questions} questions (slowest {figures.slowest_answer * 1000:.0f} ms), "
        f"today's papers found before the day's end of fetches {figures.new_found_early}/{figures.new_asked}, "
        f"old-paper misses {len(figures.old_misses)}, same-day title checks {figures.checked_same_day} "
        f"({len(late)} after the last day), "
        f"misses {len(figures.day_misses)}; wall {wall:.0f} s"
    )
    assert sum(figures.kills.values()) >= DAYS // 3 and sum(discord.crashes.values()) >= DAYS // 6  # a storm

    # Every paper stored once, with its newest version.
    assert set(by_arxiv) == set(world) and max(by_arxiv.values()) == 1, by_arxiv.most_common(3)
    assert len(papers) == len(world) + len(seed_titles)  # no version kept as a paper of its own
    stored = {p.arxiv_id: p for p in papers if p.arxiv_id}
    stale = [
        a
        for a, p in world.items()
        if (stored[a].abstract, stored[a].version) != (p.newest.abstract, p.newest.number)
    ]
    assert not stale, f"{len(stale)} replacements not applied, e.g. {stale[:3]}"
    assert all(stored[a].date == p.day for a, p in world.items())

    # Each channel: one digest per local day, none posted twice, no paper twice, none missed.
    outside: list[str] = []
    for sub in CHANNELS:
        days = {
            sub.local(t).date()
            for t in [*hours(START, DAYS), *after]
            if sub.local(t).time() >= sub.due_time()
        }
        rows = {dt.date.fromisoformat(d): s for c, d, s in digests if c == sub.channel_id}
        assert set(rows) == days and set(rows.values()) <= {"posted", "empty"}, (sub.channel_id, rows)
        messages = discord.messages.get(sub.channel_id, [])
        dates = [m.date for m in messages]
        assert sorted(dates) == sorted(d.isoformat() for d, s in rows.items() if s == "posted")
        assert len(dates) == len(set(dates)), "a digest posted twice"
        ids = [i.arxiv_id for m in messages for i in m.items]
        assert len(ids) == len(set(ids)), "a paper in two digests"
        # The digest's rule: a paper is due in the first digest planned after it was stored when
        # its date is in that digest's window (from the channel's previous digest day, or
        # lookback_days before the first), or, as a late arrival stored after the previous
        # digest, up to lookback_days before the window; older ones are never posted (counted).
        order = sorted(rows)
        lookback = dt.timedelta(days=sub.profile.lookback_days)
        starts = [order[0] - lookback, *order[:-1]]
        expected = set()
        for a, p in world.items():
            if wanted(sub, p):
                i, start = next(
                    (i, s)
                    for i, (s, d) in enumerate(zip(starts, order, strict=True))
                    if a in seen[(sub.channel_id, d.isoformat())]
                )
                if p.day >= start or (i > 0 and p.day >= start - lookback):
                    expected.add(a)
                else:
                    outside.append(f"{sub.channel_id}: {a} of {p.day} stored after the digest of {start}")
        assert set(ids) == expected, (
            sub.channel_id,
            sorted(expected - set(ids))[:5],
            sorted(set(ids) - expected)[:5],
        )
        assert all(len(m.items) < sub.profile.max_papers for m in messages)  # the cap never hid one
    print(f"late arrivals outside every digest window (the digest's date rule): {len(outside)} {outside[:4]}")

    # Questions: old papers always found; each day's new papers found by their titles that day.
    assert figures.questions >= QUESTIONS_A_DAY * DAYS
    assert not figures.old_misses, figures.old_misses[:5]
    assert figures.checked_same_day == len(world)  # every paper checked, the day it arrived
    assert not figures.day_misses, figures.day_misses[:5]

    # Integrity: SQLite's own checks and the doctor's database, index and digest checks.
    assert integrity_problems(reader) == []
    settings = Settings(db=db, semantic=False, discord_token=None)
    checks = [
        c for c in run_checks(settings, offline=True, now=end) if c.name in ("database", "index", "digest")
    ]
    print("doctor: " + "; ".join(f"{c.name} {c.status}: {c.detail}" for c in checks))
    assert checks and all(c.status != "fail" for c in checks), [c.model_dump() for c in checks]
    live.store.close()
    bot.service.store.close()
    reader.close()
    print(json.dumps({"seed": SEED, "wall_seconds": round(wall)}))


def settle(service: PaperService, reader: SQLiteStore, timeout: float = 60.0) -> None:
    """Until the service's background refresh has caught up with the database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = reader.corpus_version()
        service.search("settle", k=1)  # the next question notices the change, and refreshes
        service.wait_for_refresh(timeout)
        if service._version >= version:
            return
        time.sleep(0.05)
    raise AssertionError("the background refresh never caught up")
