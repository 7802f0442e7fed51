"""The daily digest: ranking, scheduling on a fake clock, exactly-once across runs, crashes and
processes, and the CLI contract."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pg_server import create_database, find_bindir, postgres_server
from bot.digest.book import DigestBook
from bot.digest.models import Digest, Profile, Subscription, load_profile
from bot.digest.run import ChannelUnavailable, DigestRunner
from bot.errors import UsageError
from bot.ingest.pipeline import ingest_paths
from bot.models import Paper, paper_id
from bot.service import PaperService
from bot.store import SQLiteStore, open_store
from tests.conftest import SEEDS

UTC = dt.UTC
MONDAY = dt.date(2026, 11, 23)


def arxiv_paper(n: int, day: dt.date, authors: list[str] | None = None, category: str = "cs.LG") -> Paper:
    title = f"New Result Number {n} on Reward Models"
    abstract = f"We study reward models and distillation, result {n}. It improves alignment."
    return Paper(
        id=paper_id(title, abstract),
        title=title,
        abstract=abstract,
        authors=authors or [f"Someone Else{n}"],
        category=category,
        categories=[category],
        date=day,
        arxiv_id=f"2611.{n:05d}",
        version=1,
        sources=["api.xml"],
    )


@pytest.fixture
def service(tmp_path: Path) -> PaperService:
    store = SQLiteStore(tmp_path / "db.sqlite")
    ingest_paths(store, [SEEDS])
    return PaperService(store, embedder=False)


def add(service: PaperService, *papers: Paper) -> None:
    with service.store.atomic():
        for paper in papers:
            service.store.put_paper(paper)
        service.store.bump_corpus_version()
    service.invalidate()


def subscribe(service: PaperService, channel: int = 1, **profile: object) -> Subscription:
    sub = Subscription(
        channel_id=channel, time="08:00", tz="Europe/Paris", profile=Profile(categories=["cs.LG"], **profile)
    )
    return DigestBook(service.store).subscribe(sub)


class Recorder:
    def __init__(self) -> None:
        self.posts: list[Digest] = []

    def __call__(self, sub: Subscription, digest: Digest) -> None:
        self.posts.append(digest)

    def papers(self) -> list[str]:
        return [i.id for d in self.posts for i in d.items]


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_ranking_and_reasons(service: PaperService) -> None:
    followed = arxiv_paper(1, MONDAY, ["Nino Vieillard"])
    keyword = arxiv_paper(2, MONDAY, category="cs.CL")
    in_category = arxiv_paper(3, MONDAY)
    outsider = arxiv_paper(4, MONDAY, category="q-bio.GN")
    add(service, followed, keyword, in_category, outsider)
    profile = Profile(authors=["Nino Vieillard"], categories=["cs.LG", "cs.CL"], keywords=["distillation"])
    items = DigestRunner(service).preview(profile, since=MONDAY, today=MONDAY)
    assert items[0].id == followed.id and outsider.id not in [i.id for i in items]
    assert items[0].reason == "follows Nino Vieillard"
    assert {i.reason for i in items[1:]} == {"keyword: distillation"}
    assert all(i.summary and i.links["abs"].startswith("https://arxiv.org/abs/") for i in items)
    # the default followed authors are the seed corpus's
    default = DigestRunner(service).preview(Profile(), since=MONDAY, today=MONDAY)
    assert [i.id for i in default] == [followed.id]


def test_two_runs_the_same_day_post_once(service: PaperService) -> None:
    add(service, arxiv_paper(1, MONDAY))
    subscribe(service)
    runner, post = DigestRunner(service), Recorder()
    assert runner.run_due(at(MONDAY, 6), post) == []  # 07:00 in Paris: not yet
    assert len(runner.run_due(at(MONDAY, 8), post)) == 1
    assert runner.run_due(at(MONDAY, 20), post) == []
    assert post.papers() == [arxiv_paper(1, MONDAY).id]


def test_first_digest_looks_back_lookback_days(service: PaperService) -> None:
    add(service, arxiv_paper(1, MONDAY - dt.timedelta(days=5)), arxiv_paper(2, MONDAY - dt.timedelta(days=1)))
    subscribe(service, lookback_days=2)
    post = Recorder()
    DigestRunner(service).run_due(at(MONDAY, 9), post)
    assert post.papers() == [arxiv_paper(2, MONDAY - dt.timedelta(days=1)).id]


def test_three_day_outage_posts_one_catch_up_digest(service: PaperService) -> None:
    subscribe(service)
    runner, post = DigestRunner(service), Recorder()
    add(service, arxiv_paper(1, MONDAY))
    runner.run_due(at(MONDAY, 9), post)
    later = [arxiv_paper(n, MONDAY + dt.timedelta(days=n - 1)) for n in (2, 3, 4)]
    add(service, *later)
    thursday = MONDAY + dt.timedelta(days=3)  # down Tuesday and Wednesday
    runner.run_due(at(thursday, 9), post)
    assert len(post.posts) == 2 and sorted(i.id for i in post.posts[1].items) == sorted(p.id for p in later)


def test_weekend_posts_nothing_and_is_not_rechecked(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(service)
    runner, post = DigestRunner(service), Recorder()
    saturday = MONDAY - dt.timedelta(days=2)
    assert runner.run_due(at(saturday, 9), post) == []
    assert DigestBook(service.store).digest_status(1, saturday.isoformat()) == "empty"
    planned = []
    monkeypatch.setattr(runner, "plan", lambda *a: planned.append(a) or pytest.fail("re-planned"))
    runner.run_due(at(saturday, 18), post)
    assert planned == [] and post.posts == []


def test_failed_post_is_retried_and_gone_channel_pauses(service: PaperService) -> None:
    add(service, arxiv_paper(1, MONDAY))
    subscribe(service, channel=1)
    subscribe(service, channel=2)
    runner, post = DigestRunner(service), Recorder()

    def flaky(sub: Subscription, digest: Digest) -> None:
        if sub.channel_id == 1:
            raise RuntimeError("Discord hiccup")
        raise ChannelUnavailable("404 Unknown Channel")

    assert runner.run_due(at(MONDAY, 9), flaky) == []
    book = DigestBook(service.store)
    assert book.digest_status(1, MONDAY.isoformat()) is None  # given back: tried again
    paused = book.subscription(2)
    assert paused and paused.paused and "Unknown Channel" in (paused.last_error or "")
    runner.run_due(at(MONDAY, 10), post)
    assert [d.channel for d in post.posts] == [1]  # retried; the paused channel is left alone


def test_restart_after_the_claim_never_duplicates(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that dies after recording the digest but before posting: no repost, ever."""
    add(service, arxiv_paper(1, MONDAY))
    subscribe(service)

    def die(sub: Subscription, digest: Digest) -> None:
        raise SystemExit("killed")  # not an Exception: the recorded digest stays, like a real kill

    with pytest.raises(SystemExit):
        DigestRunner(service).run_due(at(MONDAY, 9), die)
    post = Recorder()
    for day in (MONDAY, MONDAY + dt.timedelta(days=1)):
        DigestRunner(service).run_due(at(day, 9), post)
    assert arxiv_paper(1, MONDAY).id not in post.papers()


def test_profile_and_subscription_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"max_papers": "lots"}')
    with pytest.raises(UsageError, match=r"bad\.json"):
        load_profile(bad)
    with pytest.raises(UsageError, match="no such profile"):
        load_profile(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="HH:MM"):
        Subscription(channel_id=1, time="25:00")
    with pytest.raises(ValueError, match="time zone"):
        Subscription(channel_id=1, tz="Mars/Olympus")


# -- the CLI, several processes, kills --------------------------------------------------------
def cli(db: str, *args: str, url: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERBOT_SEMANTIC": "false"}
    if url:
        env["PAPERBOT_DATABASE_URL"] = db
        base = [sys.executable, "-m", "bot"]
    else:
        base = [sys.executable, "-m", "bot", "--db", db]
    return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, env=env)


def prepared(db: Path, tmp_path: Path) -> Path:
    with SQLiteStore(db) as store:
        ingest_paths(store, [SEEDS])
        for n in range(1, 13):
            store.put_paper(arxiv_paper(n, MONDAY - dt.timedelta(days=n % 3)))
        store.bump_corpus_version()
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"categories": ["cs.LG"], "max_papers": 20, "lookback_days": 3}))
    return profile


def test_cli_contract(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    profile = prepared(db, tmp_path)
    preview = json.loads(
        cli(str(db), "digest", "preview", "--profile", str(profile), "--since", "2026-11-20", "--json").stdout
    )
    keys = {"id", "arxiv_id", "title", "authors", "date", "score", "reason", "summary", "links"}
    assert len(preview["items"]) == 12 and all(keys <= set(i) for i in preview["items"])
    scores = [i["score"] for i in preview["items"]]
    assert scores == sorted(scores, reverse=True)
    sub = json.loads(
        cli(
            str(db),
            "digest",
            "subscribe",
            "--channel",
            "77",
            "--profile",
            str(profile),
            "--time",
            "09:30",
            "--tz",
            "Europe/Paris",
        ).stdout
    )
    assert (sub["channel_id"], sub["time"], sub["tz"]) == (77, "09:30", "Europe/Paris")
    early = cli(str(db), "digest", "run", "--now", "2026-11-23T07:00:00+00:00", "--print")
    assert early.returncode == 0 and early.stdout == ""
    line = json.loads(cli(str(db), "digest", "run", "--now", "2026-11-23T09:00:00+00:00", "--print").stdout)
    assert line["channel"] == 77 and line["date"] == "2026-11-23" and len(line["items"]) == 12
    again = cli(str(db), "digest", "run", "--now", "2026-11-23T10:00:00+00:00", "--print")
    assert again.returncode == 0 and again.stdout == ""
    assert cli(str(db), "digest", "run").returncode == 2  # posting needs Discord or --print


def concurrent_runs(target: str, url: bool, processes: int = 4) -> list[dict]:  # type: ignore[type-arg]
    env = {**os.environ, "PAPERBOT_SEMANTIC": "false", **({"PAPERBOT_DATABASE_URL": target} if url else {})}
    base = [sys.executable, "-m", "bot", *([] if url else ["--db", target])]
    command = [*base, "digest", "run", "--now", "2026-11-23T12:00:00+00:00", "--print"]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(processes)
    ]
    lines = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        lines += [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines


def assert_once(lines: list[dict], channels: int) -> None:  # type: ignore[type-arg]
    assert sorted(line["channel"] for line in lines) == list(range(1, channels + 1))  # one digest each
    for channel in range(1, channels + 1):
        ids = [i["id"] for line in lines if line["channel"] == channel for i in line["items"]]
        assert len(ids) == len(set(ids)) == 12


def test_processes_at_once_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    profile = prepared(db, tmp_path)
    for channel in (1, 2, 3):
        assert (
            cli(
                str(db), "digest", "subscribe", "--channel", str(channel), "--profile", str(profile)
            ).returncode
            == 0
        )
    assert_once(concurrent_runs(str(db), url=False), channels=3)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    if find_bindir() is None:
        pytest.skip("no PostgreSQL server binary (initdb/postgres) here")
    with postgres_server() as url:
        yield url


def test_processes_at_once_on_postgres(tmp_path: Path, pg_server: str) -> None:
    url = create_database(pg_server, "digest_concurrency")
    store = open_store(url)
    try:
        ingest_paths(store, [SEEDS])
        store.put_papers([arxiv_paper(n, MONDAY - dt.timedelta(days=n % 3)) for n in range(1, 13)])
        store.bump_corpus_version()
    finally:
        store.close()
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"categories": ["cs.LG"], "max_papers": 20, "lookback_days": 3}))
    for channel in (1, 2, 3):
        assert (
            cli(
                url, "digest", "subscribe", "--channel", str(channel), "--profile", str(profile), url=True
            ).returncode
            == 0
        )
    assert_once(concurrent_runs(url, url=True), channels=3)


def test_digest_run_killed_at_random_points_never_duplicates(tmp_path: Path) -> None:
    base = tmp_path / "base.sqlite"
    profile = prepared(base, tmp_path)
    for channel in range(1, 9):
        assert (
            cli(
                str(base), "digest", "subscribe", "--channel", str(channel), "--profile", str(profile)
            ).returncode
            == 0
        )
    rng = random.Random(3)
    for attempt in range(5):
        db = tmp_path / f"run-{attempt}.sqlite"
        shutil.copy(base, db)
        command = [
            sys.executable,
            "-m",
            "bot",
            "--db",
            str(db),
            "digest",
            "run",
            "--now",
            "2026-11-23T12:00:00+00:00",
            "--print",
        ]
        env = {**os.environ, "PAPERBOT_SEMANTIC": "false"}
        first = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        time.sleep(rng.uniform(0.5, 2.5))
        if first.poll() is None:
            first.send_signal(signal.SIGKILL)
        out, _ = first.communicate()
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        lines = [
            json.loads(line) for line in (out + second.stdout).splitlines() if line.strip().startswith("{")
        ]
        for channel in range(1, 9):
            ids = [i["id"] for line in lines if line["channel"] == channel for i in line["items"]]
            assert len(ids) == len(set(ids))  # never twice, whatever the kill interrupted
        with SQLiteStore(db) as store:
            statuses = {row[0] for row in store.db.execute("SELECT status FROM digests")}
            assert (
                statuses <= {"posted", "empty"}
                and store.db.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 8
            )


# -- exactly once across a crash between the commit and Discord's answer ------------------------
class Killed(BaseException):
    """The process dies here (not an Exception: nothing in the runner may catch it)."""


class FakeChannel:
    """Discord as the runner sees it: messages with footers, and nonces that refuse repeats."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (nonce, footer)
        self.kill: str | None = None

    def post(self, sub: Subscription, digest: Digest) -> None:
        from bot.digest.models import digest_marker, digest_nonce

        if self.kill == "before_send":
            raise Killed
        nonce = digest_nonce(digest.channel, digest.date)
        if all(n != nonce for n, _ in self.messages):  # enforce_nonce: a repeat is dropped
            self.messages.append((nonce, f"{digest_marker(digest.date)} · react"))
        if self.kill == "after_send":
            raise Killed  # delivered, but the process died before Discord's answer came back

    def find(self, sub: Subscription, digest: Digest) -> bool:
        from bot.digest.models import digest_marker

        return any(footer.startswith(digest_marker(digest.date)) for _, footer in self.messages)


@pytest.mark.parametrize("kill", ["before_commit", "before_send", "after_send", None])
def test_every_kill_point_posts_exactly_once(service: PaperService, kill: str | None) -> None:
    add(service, *(arxiv_paper(n, MONDAY) for n in range(1, 4)))
    subscribe(service)
    channel = FakeChannel()
    channel.kill = kill if kill != "before_commit" else None
    first = DigestRunner(service)
    if kill == "before_commit":
        first.book.finish = lambda *a, **k: (_ for _ in ()).throw(Killed())  # type: ignore[method-assign]
    if kill:
        with pytest.raises(Killed):
            first.run_due(at(MONDAY, 12), channel.post, find=channel.find)
    else:
        assert len(first.run_due(at(MONDAY, 12), channel.post, find=channel.find)) == 1
    channel.kill = None
    restarted = DigestRunner(PaperService(service.store, embedder=False))  # a new process
    restarted.run_due(at(MONDAY, 13), channel.post, find=channel.find)
    restarted.run_due(at(MONDAY, 14), channel.post, find=channel.find)
    assert len(channel.messages) == 1  # exactly once, whatever the kill interrupted
    book = DigestBook(service.store)
    assert book.digest_status(1, MONDAY.isoformat()) == "posted" and book.unconfirmed(1) == []
    assert len(book.posted_ids(1)) == 3


def test_an_unconfirmed_digest_that_never_arrived_is_sent_again(service: PaperService) -> None:
    add(service, arxiv_paper(1, MONDAY))
    subscribe(service)
    channel = FakeChannel()
    channel.kill = "before_send"
    with pytest.raises(Killed):
        DigestRunner(service).run_due(at(MONDAY, 12), channel.post, find=channel.find)
    assert DigestBook(service.store).unconfirmed(1)  # recorded, not confirmed
    channel.kill = None
    sent = DigestRunner(service).run_due(at(MONDAY, 12), channel.post, find=channel.find)
    assert [d.date for d in sent] == [MONDAY.isoformat()] and len(channel.messages) == 1


def test_exclude_keywords_leave_papers_out(service: PaperService) -> None:
    survey = arxiv_paper(1, MONDAY)
    survey = survey.model_copy(
        update={"title": "A Survey of Reward Models", "id": "survey1", "arxiv_id": "2611.09001"}
    )
    add(service, survey, arxiv_paper(2, MONDAY))
    runner = DigestRunner(service)
    keep_all = runner.preview(Profile(categories=["cs.LG"]), since=MONDAY, today=MONDAY)
    assert "survey1" in [i.id for i in keep_all]
    leave_out = runner.preview(
        Profile(categories=["cs.LG"], exclude_keywords=["SURVEY"]), since=MONDAY, today=MONDAY
    )
    ids = [i.id for i in leave_out]
    assert "survey1" not in ids and arxiv_paper(2, MONDAY).id in ids
    surveyed = runner.preview(
        Profile(categories=["cs.LG"], exclude_keywords=["surveys"]), since=MONDAY, today=MONDAY
    )
    assert "survey1" in [i.id for i in surveyed]  # whole words only


def test_a_long_running_bot_plans_with_the_papers_stored_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper that arrives late (dated yesterday, stored after yesterday's digest) is in today's
    digest even while the bot's index is still being refreshed in the background: tomorrow's
    window starts today, so a digest planned from the old index would never post it."""
    import threading

    from bot import service as service_module

    path = tmp_path / "db.sqlite"
    with SQLiteStore(path) as writer:
        ingest_paths(writer, [SEEDS])
    bot = PaperService(SQLiteStore(path), embedder=False, background_refresh=True)
    subscribe(bot)
    runner, post = DigestRunner(bot), Recorder()
    sunday = MONDAY - dt.timedelta(days=1)
    assert runner.run_due(at(sunday, 9), post) == []  # nothing new: recorded as empty
    release = threading.Event()
    real_build = PaperService._build_engine

    def slow_background_build(self: PaperService, merge: bool = True):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "index-refresh":
            release.wait(10)  # the refresh in the background takes its time
        return real_build(self, merge)

    monkeypatch.setattr(PaperService, "_build_engine", slow_background_build)
    monkeypatch.setattr(service_module, "VERSION_CHECK_SECONDS", 0.0)
    late = arxiv_paper(1, sunday)
    with SQLiteStore(path) as writer:  # cron's fetch, in another process
        writer.put_papers([late])
    try:
        runner.run_due(at(MONDAY, 9), post)
    finally:
        release.set()
    bot.wait_for_refresh(10)
    runner.run_due(at(MONDAY + dt.timedelta(days=1), 9), post)
    assert post.papers() == [late.id]


def test_a_paper_stored_after_the_digest_that_follows_its_date_comes_in_the_next_one(
    service: PaperService,
) -> None:
    """A paper dated Saturday that arrives after Sunday's digest (a listing fetched late, an ingest
    killed and re-run after the digest hour) is outside Monday's window (from Sunday): it comes
    as a late arrival, once."""
    subscribe(service)
    runner, post = DigestRunner(service), Recorder()
    sunday = MONDAY - dt.timedelta(days=1)
    assert runner.run_due(at(sunday, 9), post) == []  # nothing new: recorded as empty
    late, old = arxiv_paper(1, sunday - dt.timedelta(days=1)), arxiv_paper(2, sunday - dt.timedelta(days=30))
    service.store.put_papers([late, old])  # old: stored late too, but dated before any lookback
    service.invalidate()
    runner.run_due(at(MONDAY, 9), post)
    runner.run_due(at(MONDAY + dt.timedelta(days=1), 9), post)
    assert post.papers() == [late.id]
