"""The PostgreSQL backend against a real server the suite starts itself (PostgreSQL 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pg_server import create_database, find_bindir, postgres_server
from bot.evaluation import evaluate
from bot.ingest.pipeline import ingest_paths
from bot.service import PaperService
from bot.store import SQLiteStore, open_store
from tests.conftest import FIXTURES, SEEDS

pytestmark = pytest.mark.skipif(
    find_bindir() is None, reason="no PostgreSQL server binary (initdb/postgres) here"
)
EVAL = FIXTURES / "eval"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> str:
    return create_database(
        pg_server, "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    )


def cli(*args: str, url: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERBOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_same_papers_as_sqlite_and_idempotent(pg_url: str, seeded_db: Path) -> None:
    store = open_store(pg_url)
    try:
        first = ingest_paths(store, [SEEDS])
        second = ingest_paths(store, [SEEDS])
        assert (first.added, second.added, second.updated, second.unchanged) == (53, 0, 0, 53)
        on_pg = {p.id: p.model_dump() for p in store.iter_papers()}
    finally:
        store.close()
    with SQLiteStore(seeded_db) as sqlite:
        on_sqlite = {p.id: p.model_dump() for p in sqlite.iter_papers()}
    assert on_pg == on_sqlite


def test_dev_set_targets_on_postgres(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        ingest_paths(store, [SEEDS])
        report = evaluate(
            PaperService(store),
            EVAL / "dev_questions.jsonl",
            EVAL / "dev_authors.jsonl",
            EVAL / "dev_routing.jsonl",
        )
    finally:
        store.close()
    assert report.questions.hit_at_1 >= 0.97 and report.questions.mrr_at_10 >= 0.98, report.failures
    assert report.author_precision == report.author_recall == 1.0
    assert report.routing_passed == report.routing_total


def test_cli_on_postgres(pg_url: str, tmp_path: Path) -> None:
    assert cli("ingest", url=pg_url).returncode == 0
    listed = json.loads(cli("list", "--json", url=pg_url).stdout)
    assert len(listed) == 53
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"q": "GKD"}) + "\n")
    line = json.loads(cli("search", "--batch", str(batch), "--json", url=pg_url).stdout)
    assert line["results"][0]["title"].startswith("On-Policy Distillation")


def test_concurrent_ingests_of_overlapping_files_never_duplicate(pg_url: str) -> None:
    files = sorted(str(p) for p in SEEDS.glob("*.txt"))
    env = {**os.environ, "PAPERBOT_DATABASE_URL": pg_url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "ingest", *files[i:], *files[:i]],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    assert all(run.wait(timeout=300) == 0 for run in runs)
    store = open_store(pg_url)
    try:
        papers = list(store.iter_papers())
        assert len(papers) == 53
        gemma2 = next(p for p in papers if p.title and p.title.startswith("Gemma 2:"))
        assert len(gemma2.sources) == 5
    finally:
        store.close()


HOSTILE = [
    "'; DROP TABLE papers; --",
    "gemma:* & !reward | (",
    "a <-> b",
    '"unbalanced',
    "\\x00",
    "🤖",
    "x" * 100_000,
    "papers by ' OR 1=1 --",
    "similar to ') OR ('1'='1",
    "NEAR(reward, 3)",
]


def test_hostile_queries_on_postgres(pg_url: str) -> None:
    """User text never reaches SQL or tsquery syntax: parameters, and analysed alphanumeric terms."""
    store = open_store(pg_url)
    try:
        ingest_paths(store, [SEEDS])
        service = PaperService(store, embedder=False)
        for text in HOSTILE:
            assert isinstance(service.search(text), list)
            assert service.ask(text).text
            service.complete_titles(text)
            service.complete_authors(text)
        assert store.count_papers() == 53
    finally:
        store.close()


def test_word_and_author_counts_follow_the_papers(pg_url: str) -> None:
    """terms.df and author_keys.papers are kept by put_papers/delete_paper, not recounted per
    query: after an ingest, a re-ingest, an update and a delete they equal a full recount."""
    store = open_store(pg_url)
    try:
        ingest_paths(store, [SEEDS])
        ingest_paths(store, [SEEDS])
        first = next(store.iter_papers())
        store.put_paper(
            first.model_copy(update={"abstract": "A new abstract on zyzzyva words.", "authors": ["Zed Q"]})
        )
        store.delete_paper(next(p.id for p in store.iter_papers() if p.id != first.id))
        kept = dict(store._execute("SELECT term, df FROM terms WHERE df > 0"))
        recount = dict(store._execute("SELECT word, ndoc FROM ts_stat('SELECT tsv FROM papers')"))
        assert kept == recount and kept["zyzzyva"] == 1
        authors = dict(store._execute("SELECT author_key, papers FROM author_keys WHERE papers > 0"))
        assert authors == {k: c for k, (_, c) in _recount_authors(store).items()}
        assert authors["zed q"] == 1
    finally:
        store.close()


def _recount_authors(store: object) -> dict[str, tuple[str, int]]:
    rows = store._execute(  # type: ignore[attr-defined]
        "SELECT author_key, '', COUNT(DISTINCT paper_id) FROM paper_authors GROUP BY author_key"
    )
    return {key: (name, int(count)) for key, name, count in rows}
