"""The PostgreSQL backend against a real server the suite starts itself (PostgreSQL 15): the bot
end to end. The store's own contract is tests/test_store_contract.py, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pg_server import create_database, find_bindir, postgres_server
from bot.evaluation import EvalReport, evaluate
from bot.ingest.pipeline import ingest_paths
from bot.models import Paper
from bot.service import PaperService
from bot.store import SQLiteStore, Store, open_store
from tests.conftest import FIXTURES, SEEDS

pytestmark = pytest.mark.skipif(
    find_bindir() is None, reason="no PostgreSQL server binary (initdb/postgres) here"
)
EVAL = FIXTURES / "eval"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(autouse=True)
def index_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PostgreSQL's search index is cached under the user cache dir: a temporary one here (the
    CLI processes the tests start inherit it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


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


def _evaluate(store: Store) -> EvalReport:
    return evaluate(
        PaperService(store),
        EVAL / "dev_questions.jsonl",
        EVAL / "dev_authors.jsonl",
        EVAL / "dev_routing.jsonl",
    )


def test_dev_set_scores_the_same_as_on_sqlite(pg_url: str, seeded_db: Path) -> None:
    """One ranker over both backends: the same papers give the same answers."""
    store = open_store(pg_url)
    try:
        ingest_paths(store, [SEEDS])
        on_pg = _evaluate(store)
    finally:
        store.close()
    with SQLiteStore(seeded_db) as sqlite:
        on_sqlite = _evaluate(sqlite)
    assert on_pg.questions == on_sqlite.questions and on_pg.failures == on_sqlite.failures
    assert on_pg.questions.hit_at_1 >= 0.96 and on_pg.questions.mrr_at_10 >= 0.98, on_pg.failures
    assert on_pg.author_precision == on_pg.author_recall == 1.0
    assert on_pg.routing_passed == on_pg.routing_total


def test_the_index_is_cached_per_database_and_follows_the_corpus(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        ingest_paths(store, [SEEDS])
        folder = store.index_folder()
        assert folder is not None and not folder.exists()
        first = PaperService(store, embedder=False)
        assert first.search("GKD")[0].paper.title.startswith("On-Policy Distillation")
        saved = json.loads((folder / "meta.json").read_text())
        assert saved["store_id"] == store.store_id() and saved["corpus_version"] == store.corpus_version()
        second = PaperService(store, embedder=False)  # another process: loads the saved index
        assert [h.paper.id for h in second.search("GKD")] == [h.paper.id for h in first.search("GKD")]
        built_at = saved["corpus_version"]
        store.put_paper(Paper(id="zz1", title="Zyzzyva Sampling for Reward Models", abstract="Zyzzyva."))
        first.invalidate()
        assert first.search("zyzzyva sampling")[0].paper.id == "zz1"
        third = PaperService(store, embedder=False)  # a new process: the saved base and the change feed
        assert third.search("zyzzyva sampling")[0].paper.id == "zz1"
        assert json.loads((folder / "meta.json").read_text())["corpus_version"] == built_at  # no rebuild
    finally:
        store.close()


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
