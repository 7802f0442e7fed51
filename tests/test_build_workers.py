"""An index build embeds large batches in a worker process: the same vectors, the same index."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot.search import build
from bot.search.build import build_engine
from bot.search.semantic import WordLlamaEmbedder, load_embedder
from bot.store import SQLiteStore


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    embedder = load_embedder()
    if not isinstance(embedder, WordLlamaEmbedder):
        pytest.skip("wordllama is not installed")
    return embedder


def _build(db: Path, embedder: WordLlamaEmbedder) -> tuple[np.ndarray, np.ndarray]:
    """(the index's vectors, the vectors the build stored) of a fresh build."""
    with SQLiteStore(db) as store:
        # Vectors an earlier test's build stored in the shared seeded database would be reused.
        store.db.execute("DELETE FROM embeddings")
        engine = build_engine(store, embedder)
        assert engine.semantic is not None
        ids = [str(i) for i in engine.columns.ids]
        stored = store.embeddings_for(embedder.name, ids)
        return np.asarray(engine.semantic.matrix), np.stack(
            [np.frombuffer(stored[i][1], dtype=np.float16) for i in ids]
        )


def test_vectors_made_in_a_worker_process_equal_those_made_in_process(
    seeded_db: Path, tmp_path: Path, wordllama: WordLlamaEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ["here.db", "worker.db"]:
        (tmp_path / name).write_bytes(seeded_db.read_bytes())
    monkeypatch.setattr(build._Embedding, "PROCESS_FROM", 10**9)
    here, here_stored = _build(tmp_path / "here.db", wordllama)

    started: list[int] = []
    pool = build.spawn_pool

    def recording_pool(*args: object) -> build.ProcessPoolExecutor:
        started.append(1)
        return pool(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(build._Embedding, "PROCESS_FROM", 8)
    monkeypatch.setattr(build, "spawn_pool", recording_pool)
    there, there_stored = _build(tmp_path / "worker.db", wordllama)

    assert started == [1]  # one worker for the build, not one per chunk
    assert here.shape == there.shape and len(here) >= 50
    np.testing.assert_array_equal(here, there)
    np.testing.assert_array_equal(here_stored, there_stored)


def test_a_few_texts_are_embedded_without_a_worker(wordllama: WordLlamaEmbedder, monkeypatch) -> None:
    monkeypatch.setattr(build, "spawn_pool", None)  # any use would fail
    with build._Embedding(wordllama) as embedding:
        vectors = embedding.embed(["mean field games", "generalized knowledge distillation"])
    assert vectors.shape == (2, wordllama.dim)


def test_once_the_worker_runs_a_short_last_chunk_goes_to_it_too(
    wordllama: WordLlamaEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build._Embedding, "PROCESS_FROM", 8)
    texts = [f"paper {i} on mean field games" for i in range(10)]
    with build._Embedding(wordllama) as embedding:
        first = embedding.embed(texts)
        monkeypatch.setattr(wordllama, "embed", None)  # this process's embedder must not be used
        last = embedding.embed(texts[:2])
    np.testing.assert_array_equal(first[:2], last)


def test_a_body_index_analysed_in_a_worker_process_is_the_one_made_in_process(
    seeded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = {}
    started: list[object] = []
    spawn = build.spawn_pool
    monkeypatch.setattr(build, "spawn_pool", lambda *a: started.append(a[0]) or spawn(*a))
    for where, first in [("here", 10**9), ("worker", 8)]:
        monkeypatch.setattr(build._BodyBuilder, "WORKER_FROM", first)
        monkeypatch.setattr(build, "CHUNK", 16)  # several batches: the order they arrive in counts
        folder = tmp_path / where
        with SQLiteStore(seeded_db) as store:
            engine = build_engine(store, None, spill=folder)
        built[where] = engine
        assert engine.lexical.size >= 50
    assert started == [build._start_body]
    assert (tmp_path / "worker" / "body" / "vocab.json").read_text() == (
        tmp_path / "here" / "body" / "vocab.json"
    ).read_text()
    for name in ["indptr", "indices", "data", "tf", "lengths"]:
        np.testing.assert_array_equal(
            np.load(tmp_path / "here" / "body" / f"{name}.npy"),
            np.load(tmp_path / "worker" / "body" / f"{name}.npy"),
        )
    here, worker = built["here"], built["worker"]
    for question in ["generalized knowledge distillation", "mean field games"]:
        terms = question.split()
        np.testing.assert_array_equal(here.lexical.scores(terms), worker.lexical.scores(terms))


def test_the_author_directory_made_from_the_papers_is_the_stores(seeded_store: SQLiteStore) -> None:
    engine = build_engine(seeded_store, None)
    assert engine.authors.names == seeded_store.author_names()
    assert "leonard hussenot" in engine.authors.names


_PARENT = """
import sys, time
from bot.search import build
pool = build.spawn_pool(build._start_body)
pool.submit(build._worker_add_texts, ["a first text"]).result()
print(*pool._processes, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie no one reaped has ended


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_worker_ends_when_its_build_is_killed_outright() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    (worker,) = map(int, parent.stdout.readline().split())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the worker outlived the build that started it"
