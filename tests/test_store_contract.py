"""The ``Store`` protocol's contract: the same tests against SQLite and a real PostgreSQL server.

Every method of ``bot.store.base.Store`` and ``DigestStore`` is exercised on both backends; a
behaviour that differs between them fails here. PostgreSQL runs on a throwaway server the
module starts (skipped where no server binary is installed).
"""

from __future__ import annotations

import datetime as dt
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.pg_server import create_database, find_bindir, postgres_server
from bot.ingest.pipeline import ingest_paths
from bot.models import IngestReport, Paper, paper_id
from bot.store import IngestRow, SQLiteStore, Store, StoredVector, SubscriptionRow, UnlinkedTitle, open_store
from bot.store.base import DigestStore
from bot.store.digests import DigestRows
from bot.store.migrations import SQLITE_MIGRATIONS
from bot.store.pg_migrations import POSTGRES_MIGRATIONS
from tests.conftest import SEEDS

NO_PG = find_bindir() is None
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(NO_PG, reason="no PostgreSQL"))]
Opener = Callable[[], Store]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a store on one fresh database; each call is another connection (another process)."""
    if request.param == "sqlite":
        path = tmp_path / "contract.db"
        return lambda: SQLiteStore(path)
    name = "c_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    url = create_database(request.getfixturevalue("pg_server"), name)
    return lambda: open_store(url)


@pytest.fixture
def store(opener: Opener) -> Iterator[Store]:
    s = opener()
    yield s
    s.close()


def paper(title: str | None, authors: list[str], abstract: str = "An abstract.", **extra: object) -> Paper:
    return Paper(id=paper_id(title, abstract), title=title, authors=authors, abstract=abstract, **extra)  # type: ignore[arg-type]


def kind(store: Store) -> str:
    return "sqlite" if isinstance(store, SQLiteStore) else "postgresql"


# -- the protocol ---------------------------------------------------------------------------
def _members(protocol: type) -> dict[str, inspect.Signature | None]:
    out: dict[str, inspect.Signature | None] = {}
    for name, value in vars(protocol).items():
        if name.startswith("_") and name not in ("__enter__", "__exit__"):
            continue
        out[name] = inspect.signature(value) if inspect.isfunction(value) else None
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_both_backends_implement_the_protocol(backend: str) -> None:
    from bot.store.postgres import PostgresStore

    cls = SQLiteStore if backend == "sqlite" else PostgresStore
    for protocol, implementation in [(Store, cls), (DigestStore, DigestRows)]:
        for name, wanted in _members(protocol).items():
            if name == "path":
                continue  # an attribute set in __init__
            assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
            if wanted is not None:
                got = inspect.signature(getattr(implementation, name))
                assert [(p.name, p.default) for p in got.parameters.values()] == [
                    (p.name, p.default) for p in wanted.parameters.values()
                ], f"{implementation.__name__}.{name}{got} != {wanted}"
    # ``db`` is SQLite's connection: private to bot.store like every connection (test_layers.py).
    extra = [n for n in vars(cls) if not n.startswith("_") and n not in _members(Store) and n != "db"]
    assert not extra, f"public methods outside the protocol: {extra}"


# -- schema -----------------------------------------------------------------------------------
def test_migrations_apply_once(opener: Opener) -> None:
    with opener() as first:
        newest = (SQLITE_MIGRATIONS if kind(first) == "sqlite" else POSTGRES_MIGRATIONS)[-1][0]
        assert first.schema_version() == newest
        assert first.migrate() == []
    with opener() as again:  # a second process opening the database applies nothing
        assert again.migrate() == [] and again.schema_version() == newest


# -- papers -----------------------------------------------------------------------------------
def test_ingest_is_idempotent_and_versions_follow_it(store: Store) -> None:
    assert store.corpus_version() == 0 and store.last_ingest() is None
    first = ingest_paths(store, [SEEDS])
    version = store.corpus_version()
    second = ingest_paths(store, [SEEDS])
    assert (first.added, second.added, second.updated, second.unchanged) == (53, 0, 0, 53)
    assert store.count_papers() == 53
    assert version >= 1 and store.corpus_version() == version  # nothing changed: same version
    last = store.last_ingest()
    assert isinstance(last, IngestRow) and (last.added, last.unchanged) == (0, 53)
    assert last.files == second.files and last.finished_at


def test_put_papers_upserts(store: Store) -> None:
    a, b = paper("Alpha", ["Ann One", "Bo Two"]), paper("Beta", ["Bo Two"], arxiv_id="2401.00001")
    store.put_papers([a, b])
    a2 = a.model_copy(update={"authors": ["Cy Three"], "abstract": "A new abstract."})
    c = paper("Gamma", ["Ann One"])
    store.put_papers([a2, c])  # one replaced, one new, in one batch
    assert store.count_papers() == 3
    assert store.get_paper(a.id) == a2
    assert store.author_names() == {
        "bo two": ("Bo Two", 1),
        "cy three": ("Cy Three", 1),
        "ann one": ("Ann One", 1),
    }
    b2 = b.model_copy(update={"arxiv_id": "2401.00002", "title": "Beta v2"})
    store.put_paper(b2)
    assert store.get_paper(b.id) == b2 and store.find_by_arxiv_id("2401.00001") is None
    assert store.find_by_arxiv_id("2401.00002") == b2


def test_reads_of_papers(store: Store) -> None:
    a = paper("Alpha", ["Ann One"], arxiv_id="2401.00001", sources=["a.txt"])
    b = paper("Beta", ["Bo Two"], sources=["feed.xml"])
    u = paper(None, ["Cy Three"], "RLDS is an ecosystem.", sources=["b.txt", "c.xml"])
    store.put_papers([a, b, u])
    assert store.get_papers([b.id, "nope", a.id, b.id]) == [b, a]
    assert store.get_papers([]) == [] and store.get_paper("nope") is None
    assert store.known_arxiv_ids(["2401.00001", "2401.99999"]) == ["2401.00001"]
    assert store.known_arxiv_ids([]) == []
    assert store.untitled_papers() == [u]
    assert sorted(store.unlinked_titles()) == [UnlinkedTitle(b.id, "beta", "bo two")]
    assert sorted(p.id for p in store.papers_from_sources(".txt")) == sorted([a.id, u.id])
    assert store.papers_from_sources(".json") == []


def test_iter_papers_streams_in_id_order(store: Store) -> None:
    papers = [paper(f"Paper {n}", [f"Author {n}"]) for n in range(7)]
    store.put_papers(papers)
    assert [p.id for p in store.iter_papers(batch=2)] == sorted(p.id for p in papers)


def test_titled_abstracts_give_every_version_of_titled_papers_only(store: Store) -> None:
    papers = [paper(f"Paper {n}", [f"Author {n}"], abstract=f"Abstract {n}.") for n in range(5)]
    papers[1].other_abstracts = ["An earlier version.", "Une version « accentuée »."]
    papers[2].abstract = ""
    untitled = paper(None, [], abstract="An untitled abstract.")
    store.put_papers([*papers, untitled])
    got = list(store.titled_abstracts(batch=2))
    assert got == sorted((p.id, [p.abstract, *p.other_abstracts]) for p in papers)


def test_indexes_deferred_inside_a_transaction_leaves_the_store_as_it_was(store: Store) -> None:
    with store.atomic(), store.indexes_deferred():
        store.put_papers([paper("Deferred", ["Anna Smith"])])
    assert [p.title for p in store.iter_papers()] == ["Deferred"]
    assert store.author_names()["anna smith"] == ("Anna Smith", 1)


def test_the_change_feed_lists_what_changed_after_a_version(store: Store) -> None:
    a, b, c = paper("Alpha", ["Ann One"]), paper("Beta", ["Bo Two"]), paper("Gamma", ["Cy Three"])
    assert store.changes_since(0) == (0, [], [])
    store.put_papers([a, b])
    first = store.corpus_version()
    assert first > 0 and store.changes_since(0) == (first, sorted([a.id, b.id]), [])
    assert store.changes_since(first) == (first, [], [])
    store.put_papers([a.model_copy(update={"abstract": "New."}), c])
    store.delete_paper(b.id)
    store.delete_paper("nope")  # not a paper: no tombstone
    now = store.corpus_version()
    assert now > first and store.changes_since(first) == (now, sorted([a.id, c.id]), [b.id])
    store.put_paper(b)  # back again: changed, no longer removed
    assert store.changes_since(first) == (store.corpus_version(), sorted([a.id, b.id, c.id]), [])
    assert store.changes_since(store.corpus_version()) == (store.corpus_version(), [], [])


def test_a_watcher_is_told_of_another_connections_write(opener: Opener) -> None:
    """PostgreSQL wakes a waiting watcher when a write commits (LISTEN/NOTIFY); SQLite cannot
    tell other processes, so its watcher polls: the wait times out."""
    with opener() as watcher, opener() as writer:
        assert watcher.wait_for_change(0.01) is False  # nothing written since it began to listen
        writer.put_papers([paper("Alpha", ["Ann One"])])
        start = time.monotonic()
        told = watcher.wait_for_change(5.0)
        waited = time.monotonic() - start
        if isinstance(watcher, SQLiteStore):
            assert told is False and waited >= 5.0
        else:
            assert told is True and waited < 5.0


def test_delete_paper_takes_its_rows(store: Store) -> None:
    a, b = paper("Alpha", ["Ann One"]), paper("Beta", ["Bo Two"])
    store.put_papers([a, b])
    store.put_embeddings("m", [(a.id, "h", b"\x00\x01")])
    store.delete_paper(a.id)
    store.delete_paper("nope")
    assert [p.id for p in store.iter_papers()] == [b.id]
    assert store.author_names() == {"bo two": ("Bo Two", 1)}
    assert store.embeddings_for("m", [a.id]) == {}


def test_author_names_keep_accents_and_count_papers(store: Store) -> None:
    store.put_papers(
        [
            paper("One", ["Julien Perolat"]),
            paper("Two", ["Julien Pérolat", "X Y"]),
            paper("Three", ["julien perolat"]),
        ]
    )
    names = store.author_names()
    assert names["julien perolat"] == ("Julien Pérolat", 3) and names["x y"] == ("X Y", 1)


# -- embeddings and the index folder -----------------------------------------------------------
def test_embeddings_are_kept_per_model_and_survive_an_upsert(store: Store) -> None:
    a, b = paper("Alpha", ["Ann One"]), paper("Beta", ["Bo Two"])
    store.put_papers([a, b])
    store.put_embeddings("m1", [(a.id, "h1", b"\x01\x02"), (b.id, "h2", b"\x03\x04")])
    assert store.embeddings_for("m1", [a.id, "nope"]) == {a.id: StoredVector("h1", b"\x01\x02")}
    store.put_embeddings("m1", [(a.id, "h3", b"\x05\x06")])  # replaced
    assert store.embeddings_for("m1", [a.id])[a.id] == ("h3", b"\x05\x06")
    assert store.embeddings_for("m2", [a.id, b.id]) == {}
    store.put_paper(a.model_copy(update={"abstract": "Changed."}))  # the hash tells it is stale
    assert store.embeddings_for("m1", [a.id, b.id]) == {
        a.id: StoredVector("h3", b"\x05\x06"),
        b.id: StoredVector("h2", b"\x03\x04"),
    }


def test_index_folder_is_per_database(store: Store) -> None:
    folder = store.index_folder()
    assert folder is not None
    if kind(store) == "sqlite":
        assert folder == Path(store.path + ".index")
        assert SQLiteStore(":memory:").index_folder() is None
    else:
        from platformdirs import user_cache_dir

        port, dbname = store.path.rsplit(":", 1)[1].split("/")
        assert folder.parent == Path(user_cache_dir("paperbot", appauthor=False))
        assert folder.name == f"pg-127.0.0.1-{port}-{dbname}.index"


# -- versions, meta, settings -------------------------------------------------------------------
def test_versions_meta_and_store_id(opener: Opener) -> None:
    with opener() as store:
        assert store.corpus_version() == 0
        store.record_ingest(IngestReport(unchanged=3, files=["a.txt"]))  # the log alone: no change
        store.record_ingest(IngestReport(added=1, files=["b.txt"]))
        assert store.corpus_version() == 0
        store.bump_corpus_version()
        store.bump_corpus_version()
        assert store.corpus_version() == 2
        assert store.get_meta("k") is None
        store.set_meta("k", "1")
        store.set_meta("k", "2")
        assert store.get_meta("k") == "2"
        sid = store.store_id()
        assert sid and store.store_id() == sid
    with opener() as again:
        assert again.store_id() == sid and again.corpus_version() == 2


def test_store_ids_differ_between_databases(store: Store, tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "other.db") as other:
        assert other.store_id() != store.store_id()


def test_free_text_channels(store: Store) -> None:
    store.set_free_text(7, True, guild_id=1)
    store.set_free_text(8, True)
    store.set_free_text(8, False)
    store.set_free_text(7, True)  # the guild is kept
    assert store.free_text_channels() == {7}


# -- transactions and locks ---------------------------------------------------------------------
def test_atomic_rolls_back_and_nests(store: Store) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        store.put_paper(paper("Alpha", ["Ann One"]))
        with store.atomic(lock="inner"):  # joins the outer transaction
            store.set_meta("k", "v")
        raise RuntimeError
    assert store.count_papers() == 0 and store.get_meta("k") is None
    with store.atomic(lock="x"), store.atomic():
        store.set_meta("k", "v")
    assert store.get_meta("k") == "v"


@pytest.mark.parametrize("nested", [False, True])
def test_a_lock_makes_units_of_work_take_turns(opener: Opener, nested: bool) -> None:
    """A second connection (another process) asking the same lock waits for the first's commit;
    taken inside an already open transaction too."""
    first, second = opener(), opener()
    events: list[str] = []
    entered = threading.Event()

    def hold() -> None:
        with first.atomic(lock=None if nested else "turns"), first.atomic(lock="turns" if nested else None):
            entered.set()
            first.set_meta("holder", "first")
            time.sleep(0.6)
            events.append("first commits")

    def wait() -> None:
        entered.wait(10)
        with second.atomic(lock="turns"):
            events.append("second in")
            second.set_meta("holder", "second")

    threads = [threading.Thread(target=hold), threading.Thread(target=wait)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert events == ["first commits", "second in"]
        assert second.get_meta("holder") == "second"
    finally:
        first.close()
        second.close()


# -- the digest's tables ------------------------------------------------------------------------
def test_subscriptions(store: Store) -> None:
    rows = store.digests
    sub = SubscriptionRow(12, 3, "09:00", "Europe/Paris", '{"a": 1}', False, False, None)
    rows.put_subscription(sub)
    rows.put_subscription(sub._replace(channel_id=11, guild_id=None))
    assert rows.subscription(12) == sub and rows.subscription(99) is None
    assert [s.channel_id for s in rows.subscriptions()] == [11, 12]
    rows.pause_subscription(12, "channel gone")
    assert rows.subscription(12) == sub._replace(paused=True, last_error="channel gone")
    rows.put_subscription(sub._replace(time="10:00"))  # subscribing again resumes
    assert rows.subscription(12) == sub._replace(time="10:00")
    assert rows.delete_subscription(12) is True and rows.delete_subscription(12) is False
    assert [s.channel_id for s in rows.subscriptions()] == [11]


def test_digest_days_are_claimed_once(opener: Opener) -> None:
    store, other = opener(), opener()
    try:
        rows, day = store.digests, "2026-03-02"
        assert rows.status(1, day) is None
        assert rows.claim(1, day) is True
        assert rows.claim(1, day) is False  # a second claim is refused ...
        assert other.digests.claim(1, day) is False  # ... from another process too
        assert rows.status(1, day) == "claimed" and rows.claim(2, day) is True
        rows.finish(1, day, ["p1", "p2"], "[]")
        assert rows.status(1, day) == "posted" and rows.posted_ids(1) == {"p1", "p2"}
        assert rows.previous_day(1, "2026-03-03") == day and rows.previous_day(1, day) is None
        rows.undo(1, day)  # posting failed: the day and its papers are forgotten
        assert rows.status(1, day) is None and rows.posted_ids(1) == set()
        assert rows.claim(1, day) is True
        rows.finish(1, day, [], "[]")
        assert rows.status(1, day) == "empty" and rows.previous_day(1, "2026-03-03") == day
        assert rows.previous_day(2, "2026-03-03") is None  # only claimed, never finished
        claimed = rows.claimed_at(1, day)
        assert claimed is not None and dt.datetime.fromisoformat(claimed).tzinfo is not None
        assert rows.claimed_at(1, "2026-03-09") is None
    finally:
        store.close()
        other.close()


def test_papers_by_when_they_were_first_stored(store: Store) -> None:
    a, b = paper("Alpha", ["Ann One"]), paper("Beta", ["Bo Two"])
    store.put_papers([a])
    time.sleep(1.1)  # SQLite's stored times have seconds
    between = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    time.sleep(1.1)
    store.put_papers([b, a.model_copy(update={"abstract": "Replaced."})])  # a replacement keeps its time
    assert store.added_since(between) == [b.id]
    assert store.added_since("2000-01-01T00:00:00+00:00") == sorted([a.id, b.id])


def test_concurrent_claims_under_the_digest_lock_give_one_winner(opener: Opener) -> None:
    stores = [opener() for _ in range(4)]
    won: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def claim(s: Store) -> None:
        barrier.wait(10)
        with s.atomic(lock="digest"):
            won.append(s.digests.claim(5, dt.date(2026, 3, 2).isoformat()))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for s in stores:
            s.close()
    assert sorted(won) == [False, False, False, True]


def test_posted_papers_and_reactions_are_recorded_once(store: Store) -> None:
    rows = store.digests
    rows.claim(1, "2026-03-02")
    rows.finish(1, "2026-03-02", ["p1"], "[]")
    rows.claim(1, "2026-03-03")
    rows.finish(1, "2026-03-03", ["p1", "p2"], "[]")  # p1 stays recorded under its first day
    assert rows.posted_ids(1) == {"p1", "p2"} and rows.posted_ids(2) == set()
    rows.react(1, "p2", 10)
    rows.react(1, "p2", 10)
    rows.react(1, "p1", 11)
    rows.react(2, "p3", 10)
    assert rows.reacted_ids(1) == ["p1", "p2"] and rows.reacted_ids(3) == []


# -- the team's tables (bot.store.team) --------------------------------------------------------
def test_team_reading_lists_votes_watches_and_shares(store: Store) -> None:
    rows = store.team
    with store.atomic():
        assert rows.save(1, "p1", 10, 1, "old abstract") is True
        assert rows.save(1, "p1", 11, 1, "old abstract") is False  # once per channel
        assert rows.save(2, "p1", None, None, "x") is True
    assert [(r.channel_id, r.paper_id, r.user_id, r.version) for r in rows.reading_list(1)] == [
        (1, "p1", 10, 1)
    ]
    assert len(rows.reading_list()) == 2
    with store.atomic():
        assert rows.seen_version(1, "p1", 2, "new abstract") is True
        assert rows.seen_version(1, "p1", 2, "new abstract") is False  # a second process skips it
    assert rows.reading_list(1)[0].abstract == "new abstract"
    with store.atomic():
        assert rows.unsave(2, "p1") and not rows.unsave(2, "p1")

    with store.atomic():
        rows.vote(1, "p1", 10, "up", True)
        rows.vote(1, "p1", 10, "up", True)  # idempotent
        rows.vote(1, "p1", 11, "star", True)
        rows.vote(1, "p2", 10, "up", True)
        rows.vote(1, "p2", 10, "up", False)  # taken back
    assert rows.top(1, None, 10) == [("p1", 2)] and rows.voted_ids(1) == ["p1"]
    assert rows.top(1, "2999-01-01", 10) == []

    with store.atomic():
        first = rows.add_watch(7, "offline RL", None, "08:00", "UTC")
        second = rows.add_watch(7, "reward models", "Nino Vieillard", "09:00", "Europe/Paris")
    assert second.id > first.id and [w.query for w in rows.watches(7)] == ["offline RL", "reward models"]
    with store.atomic():
        assert rows.claim_batch(7, "2026-12-01") and not rows.claim_batch(7, "2026-12-01")
        rows.record_sent(first.id, ["p1", "p2"], "2026-12-01")
        rows.record_sent(first.id, ["p1"], "2026-12-01")
    assert rows.sent_ids(first.id) == {"p1", "p2"} and rows.batch_done(7, "2026-12-01")
    with store.atomic():
        rows.undo_batch(7, "2026-12-01")
    assert rows.sent_ids(first.id) == set() and not rows.batch_done(7, "2026-12-01")
    with store.atomic():
        assert rows.remove_watch(7, first.id) and not rows.remove_watch(8, second.id)
    assert [w.id for w in rows.watches()] == [second.id]

    with store.atomic():
        rows.share(100, "p1", 5, 10, 900)
        rows.share(100, "p1", 6, 11, 901)
    shared = rows.first_share(100, "p1")
    assert shared is not None and (shared.channel_id, shared.user_id, shared.message_id) == (5, 10, 900)
    assert rows.first_share(100, "p2") is None and rows.first_share(101, "p1") is None


def test_papers_added_after_a_time(store: Store) -> None:
    store.put_papers([paper("Old Paper", ["A"])])
    mark = store.team.papers_added_after("1970-01-01T00:00:00+00:00")
    assert mark == [paper("Old Paper", ["A"]).id]
    time.sleep(1.1)  # added_at has one-second resolution
    cut = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    time.sleep(1.1)
    store.put_papers([paper("New Paper", ["B"])])
    store.put_papers([paper("Old Paper", ["A"])])  # an update keeps its first added_at
    assert store.team.papers_added_after(cut) == [paper("New Paper", ["B"]).id]


# -- full texts and passages (bot.store.fulltext) ---------------------------------------------
def test_full_texts_are_replaced_whole_and_listed(store: Store) -> None:
    from bot.store.fulltext import FulltextDoc, PassageRow

    a, b = paper("Paper A", ["A"]), paper("Paper B", ["B"])
    store.put_papers([a, b])
    rows = store.fulltext
    assert rows.list() == [] and rows.passages(a.id) == [] and rows.get(a.id) is None
    doc = FulltextDoc(a.id, "pdf", "ab" * 32, pages=12, licence="CC BY 4.0", source="a.pdf")
    passages = [
        PassageRow(a.id, 0, "1 Introduction", 1, None, "First paragraph."),
        PassageRow(a.id, 0, "4 Experimental setup", 5, None, "We use a batch size of 512."),
    ]
    rows.replace(a.id, doc, passages)
    got = rows.passages(a.id)
    assert [(p.ordinal, p.section, p.page, p.anchor, p.text) for p in got] == [
        (0, "1 Introduction", 1, None, "First paragraph."),
        (1, "4 Experimental setup", 5, None, "We use a batch size of 512."),
    ]
    listed = rows.list()
    assert len(listed) == 1 and listed[0].paper_id == a.id and listed[0].passages == 2
    assert (listed[0].kind, listed[0].pages, listed[0].licence, listed[0].sha256) == (
        "pdf",
        12,
        "CC BY 4.0",
        "ab" * 32,
    )
    assert listed[0].added_at >= "2026" and rows.having([a.id, b.id, "nope"]) == {a.id}

    # A second text replaces the first whole: HTML, anchors, no pages.
    html = FulltextDoc(a.id, "html", "cd" * 32, source="https://arxiv.org/html/1")
    rows.replace(a.id, html, [PassageRow(a.id, 0, "3 Method", None, "S3", "New text.")])
    assert [(p.section, p.page, p.anchor) for p in rows.passages(a.id)] == [("3 Method", None, "S3")]
    assert (got_doc := rows.get(a.id)) is not None and got_doc.kind == "html" and got_doc.pages is None

    # All or nothing: a failure half-way leaves the previous text.
    bad = [PassageRow(a.id, 0, "S", 1, None, "ok"), PassageRow(a.id, 0, "S", 1, None, None)]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017  (NOT NULL: each backend's own error)
        rows.replace(a.id, doc, bad)
    assert [p.text for p in rows.passages(a.id)] == ["New text."] and rows.get(a.id).kind == "html"  # type: ignore[union-attr]
    # Inside a caller's transaction that rolls back, nothing stays.
    with pytest.raises(RuntimeError), store.atomic():
        rows.replace(b.id, doc._replace(paper_id=b.id), [PassageRow(b.id, 0, "S", 1, None, "x")])
        raise RuntimeError
    assert rows.get(b.id) is None and rows.passages(b.id) == []

    assert rows.remove(a.id) and not rows.remove(a.id) and rows.list() == []


def test_deleting_a_paper_takes_its_full_text(store: Store) -> None:
    from bot.store.fulltext import FulltextDoc, PassageRow

    a = paper("Paper A", ["A"])
    store.put_papers([a])
    store.fulltext.replace(
        a.id, FulltextDoc(a.id, "pdf", "0" * 64, pages=1), [PassageRow(a.id, 0, "S", 1, None, "t")]
    )
    store.put_papers([a])  # an update keeps it
    assert store.fulltext.having([a.id]) == {a.id}
    store.delete_paper(a.id)
    assert store.fulltext.list() == [] and store.fulltext.passages(a.id) == []


def test_full_texts_stream_and_their_version_tells_a_change(store: Store) -> None:
    """``iter_passages`` reads every passage a page at a time (body sections only when asked),
    ``passages_at`` reads some by place, and ``version`` changes with every replace, removal and
    paper deletion (what the library-wide passage index is rebuilt on)."""
    from bot.store.fulltext import FulltextDoc, PassageRow

    a, b, c = paper("Paper A", ["A"]), paper("Paper B", ["B"]), paper("Paper C", ["C"])
    store.put_papers([a, b, c])
    rows = store.fulltext
    versions = [rows.version()]
    assert versions[0] == "0:0" and list(rows.iter_passages()) == []
    for p, n in ((a, 5), (b, 1), (c, 4)):
        texts = [
            PassageRow(p.id, 0, "Abstract" if i == 0 else f"{i} Section", i, None, f"{p.id} {i}")
            for i in range(n)
        ]
        rows.replace(p.id, FulltextDoc(p.id, "pdf", "0" * 64, pages=n), texts)
        versions.append(rows.version())
    everything = list(rows.iter_passages(batch=2))
    assert [(r.paper_id, r.ordinal) for r in everything] == sorted(
        (r.paper_id, r.ordinal) for r in everything
    )
    assert len(everything) == 10 and everything[0].text == f"{everything[0].paper_id} 0"
    body = list(rows.iter_passages(skip_sections=["Abstract", "Front matter"], batch=3))
    assert len(body) == 7 and all(r.section != "Abstract" for r in body)
    assert rows.passages_at([(c.id, 3), (a.id, 1), (a.id, 99)]) == [
        PassageRow(c.id, 3, "3 Section", 3, None, f"{c.id} 3"),
        PassageRow(a.id, 1, "1 Section", 1, None, f"{a.id} 1"),
    ]
    rows.replace(
        b.id, FulltextDoc(b.id, "html", "1" * 64), [PassageRow(b.id, 0, "1 Intro", None, "S1", "new")]
    )
    versions.append(rows.version())
    assert not rows.remove("nope")
    versions.append(rows.version())  # nothing removed: unchanged
    assert rows.remove(b.id)
    versions.append(rows.version())
    store.delete_paper(a.id)  # its text goes by cascade, the counter stays: the count tells
    versions.append(rows.version())
    assert versions == ["0:0", "1:1", "2:2", "3:3", "4:3", "4:3", "5:2", "5:1"]


def test_the_papers_asked_about_since_a_time(store: Store) -> None:
    import datetime as dt

    a, b, c = paper("Paper A", ["A"]), paper("Paper B", ["B"]), paper("Paper C", ["C"])
    store.put_papers([a, b, c])
    rows = store.fulltext
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    assert rows.asked_since(week_ago) == []
    rows.record_asked(c.id, at=week_ago - dt.timedelta(days=1))  # before the week
    rows.record_asked(a.id)
    rows.record_asked(b.id)
    rows.record_asked(b.id)
    rows.record_asked("no-such-paper")  # a paper the store does not hold is not noted
    assert rows.asked_since(week_ago) == [b.id, a.id]  # the most asked first
    assert rows.asked_since(week_ago - dt.timedelta(days=2)) == [b.id, a.id, c.id]
    # A naive time is UTC; a time zone is honoured.
    naive = (week_ago - dt.timedelta(days=2)).replace(tzinfo=None)
    assert rows.asked_since(naive) == [b.id, a.id, c.id]
    paris = dt.timezone(dt.timedelta(hours=1))
    assert rows.asked_since(dt.datetime.now(paris) + dt.timedelta(minutes=5)) == []
    store.delete_paper(b.id)  # deleting a paper takes its questions with it
    assert rows.asked_since(week_ago) == [a.id]


def test_an_imported_full_text_keeps_its_date(store: Store) -> None:
    from bot.fulltext.transfer import ExportedFulltext, exported_texts, import_text
    from bot.store.fulltext import FulltextDoc, PassageRow

    a = paper("Paper A", ["A"])
    store.put_papers([a])
    doc = FulltextDoc(a.id, "html", "ef" * 32, licence="http://creativecommons.org/licenses/by/4.0/")
    store.fulltext.replace(
        a.id, doc._replace(added_at="2025-01-02T03:04:05+00:00"), [PassageRow(a.id, 0, "S", None, "S1", "t")]
    )
    assert store.fulltext.get(a.id).added_at == "2025-01-02T03:04:05+00:00"  # type: ignore[union-attr]
    exported = exported_texts(store)[a.id]
    assert exported["passages"] == [{"section": "S", "page": None, "anchor": "S1", "text": "t"}]
    text = ExportedFulltext.model_validate(exported)
    assert import_text(store, a.id, text) == "kept"  # the same text
    older = text.model_copy(update={"sha256": "00" * 32, "added_at": "2024-01-01T00:00:00+00:00"})
    assert import_text(store, a.id, older) == "kept"  # the database's is later
    newer = text.model_copy(update={"sha256": "11" * 32, "added_at": "2026-01-01T00:00:00+00:00"})
    assert import_text(store, a.id, newer) == "replaced"
    got = store.fulltext.get(a.id)
    assert got is not None and (got.sha256, got.added_at, got.licence) == (
        "11" * 32,
        newer.added_at,
        doc.licence,
    )
    store.fulltext.remove(a.id)
    assert import_text(store, a.id, text) == "added" and store.fulltext.passages(a.id)[0].anchor == "S1"
