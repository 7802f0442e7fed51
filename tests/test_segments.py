"""An index brought up to date from the change feed answers as a fresh build would.

After each of 20 random batches of added, replaced and removed papers, the engine brought forward
by a segment per batch (folded into one segment past MAX_SEGMENTS) is compared with a full build
of the same store:
for every dev question the same BM25 top 10 with the same scores, the same score from every
signal for every paper both list, and the same fused top 3.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus import synthetic_papers
from bot.ingest.pipeline import ingest_paths
from bot.search.build import MAX_SEGMENTS, build_engine, load_or_build, needs_merge
from bot.search.engine import SearchEngine
from bot.search.segments import segments
from bot.store import SQLiteStore
from tests.conftest import SEEDS

QUESTIONS = [
    json.loads(line)["q"]
    for line in (Path(__file__).parent / "fixtures/eval/dev_questions.jsonl").read_text().splitlines()
]


def _top(engine: SearchEngine, text: str) -> list[tuple[str, float]]:
    bm25 = engine.lexical.top(engine.query_terms(text), 10)
    return sorted(((engine.id_at(row), score) for row, score in bm25.items()), key=lambda x: (-x[1], x[0]))


def _same(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> None:
    assert [pid for pid, _ in a] == [pid for pid, _ in b], (a, b)
    np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=1e-5)


def test_updates_score_as_a_fresh_build_after_random_batches(tmp_path: Path) -> None:
    rng = random.Random(17)
    extra = iter(synthetic_papers(400, seed=3))
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        ingest_paths(store, [SEEDS])
        store.put_papers(list(itertools.islice(extra, 150)))
        folder = tmp_path / "index"
        engine = load_or_build(store, None, folder)
        base_version = engine.meta["corpus_version"]
        seen: set[int] = set()
        for _ in range(20):
            ids = [p.id for p in store.iter_papers()]
            store.put_papers(list(itertools.islice(extra, rng.randint(0, 12))))
            for pid in rng.sample(ids, 3):  # replaced: a new abstract under the same id
                paper = store.get_paper(pid)
                assert paper is not None
                words = paper.abstract.split()
                rng.shuffle(words)
                store.put_paper(paper.model_copy(update={"abstract": " ".join(words[: len(words) // 2])}))
            for pid in rng.sample(ids, 2):
                store.delete_paper(pid)
            engine = load_or_build(store, None, folder, current=engine, merge=False)
            seen.add(segments(engine))
            fresh = build_engine(store, None)
            assert engine.base.meta["corpus_version"] == base_version  # updated, not rebuilt
            assert len(engine) == len(fresh) == store.count_papers()
            for question in QUESTIONS:
                _same(_top(engine, question), _top(fresh, question))
                # Every signal gives each paper the same score; which of several papers tied
                # at a signal's depth cut make its list depends on their rows, so the fused
                # lists are compared at the top.
                ours, theirs = engine.signals(question, engine.mask(None)), fresh.signals(question, None)
                for name, scores in ours.items():
                    mine = {engine.id_at(row): score for row, score in scores.items()}
                    other = {fresh.id_at(row): score for row, score in theirs[name].items()}
                    both = mine.keys() & other.keys()
                    assert len(both) >= min(len(mine), len(other)) * 0.9
                    assert all(abs(mine[pid] - other[pid]) <= 1e-6 * max(1.0, other[pid]) for pid in both)
                _same(engine.search(question, 3), fresh.search(question, 3))
        # A segment per refresh, folded into one past MAX_SEGMENTS.
        assert seen == set(range(2, MAX_SEGMENTS + 1))
        for pid in ids[:5]:
            assert engine.position(pid) == (None if store.get_paper(pid) is None else engine.position(pid))


@pytest.fixture
def grown(tmp_path: Path) -> tuple[SQLiteStore, SearchEngine, Path]:
    store = SQLiteStore(tmp_path / "db.sqlite")
    ingest_paths(store, [SEEDS])
    folder = tmp_path / "index"
    return store, load_or_build(store, None, folder), folder


def test_a_new_process_loads_the_saved_base_and_applies_the_changes(
    grown: tuple[SQLiteStore, SearchEngine, Path],
) -> None:
    store, engine, folder = grown
    new = next(synthetic_papers(1, seed=9))
    store.put_papers([new])
    gkd = next(p for p in store.iter_papers() if p.label.startswith("WARM"))
    store.delete_paper(gkd.id)
    later = load_or_build(store, None, folder)  # no current engine: as a one-shot command
    assert later.base is not later and later.base.meta == engine.meta
    assert later.search(new.label, 1)[0][0] == new.id
    assert later.position(gkd.id) is None and gkd.id not in dict(later.search(gkd.label, 10))
    assert later.complete_titles(new.label[:12])[0] == new.id
    assert gkd.id not in later.complete_titles(gkd.label[:12])
    assert len(later) == store.count_papers()
    store.close()


def test_changes_that_outgrow_the_base_rebuild_it(
    grown: tuple[SQLiteStore, SearchEngine, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, engine, folder = grown
    monkeypatch.setattr("bot.search.build.MERGE_MIN", 10)
    store.put_papers(list(synthetic_papers(12, seed=5)))
    assert needs_merge(load_or_build(store, None, folder, current=engine, merge=False))
    merged = load_or_build(store, None, folder, current=engine)
    assert merged.base is merged and merged.meta["corpus_version"] == store.corpus_version()
    assert load_or_build(store, None, folder).meta == merged.meta  # saved: the next base
    store.close()


def test_a_long_running_service_takes_in_another_process_write_without_a_question(tmp_path: Path) -> None:
    """The watcher refreshes after another connection's write: no question has to come first,
    and the refresh adds a segment instead of rebuilding (the base stays the saved one)."""
    import time

    from bot.service import PaperService

    path = tmp_path / "db.sqlite"
    with SQLiteStore(path) as writer:
        ingest_paths(writer, [SEEDS])
        live = PaperService(SQLiteStore(path), embedder=False, background_refresh=True)
        before = live.engine
        new = next(synthetic_papers(1, seed=11))
        writer.put_papers([new])
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and live._engine is before:
            time.sleep(0.05)
        engine = live._engine
        assert isinstance(engine, SearchEngine) and engine is not before
        assert engine.base is before and engine.search(new.label, 1)[0][0] == new.id


MERGE = """
import sys
from bot.search import build
from bot.store import SQLiteStore
build.MERGE_MIN, build.MERGE_SHARE = 10, 0.0  # these changes outgrow the base: a merge
with SQLiteStore(sys.argv[1]) as store:
    build.load_or_build(store, None, store.index_folder())
"""


def test_a_merge_killed_at_random_points_leaves_a_usable_index(tmp_path: Path) -> None:
    """SIGKILL a real merge (a full rebuild in another process) at random moments: the saved
    index is the old base or the new one, never a part; the next process answers with every
    paper; a build folder left behind is removed once it is stale."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from bot.search.build import STALE_BUILD_SECONDS, new_index_folder, saved_meta

    origin = tmp_path / "origin.sqlite"
    with SQLiteStore(origin) as store:
        ingest_paths(store, [SEEDS])
        store.put_papers(list(synthetic_papers(3000, seed=21)))
        built_at = load_or_build(store, None, store.index_folder()).meta["corpus_version"]
        late = [
            p.model_copy(update={"arxiv_id": f"2999.{i:05d}"})
            for i, p in enumerate(synthetic_papers(40, seed=22))
        ]
        store.put_papers(late)
        now = store.corpus_version()

    def copy(name: str) -> Path:
        db = tmp_path / name / "db.sqlite"
        db.parent.mkdir()
        shutil.copy(origin, db)
        shutil.copytree(f"{origin}.index", f"{db}.index")
        return db

    def merge(db: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", MERGE, str(db)], stderr=subprocess.DEVNULL)

    timings = []
    for name in ["timing-1", "timing-2"]:  # the quicker of two: a cold first run took longer
        start = time.perf_counter()
        assert merge(copy(name)).wait() == 0
        timings.append(time.perf_counter() - start)
    full = min(timings)
    rng, kills = random.Random(5), 0
    for attempt in range(6):
        db = copy(f"run-{attempt}")
        process = merge(db)
        time.sleep(rng.uniform(0.2, 0.85) * full)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        meta = saved_meta(Path(f"{db}.index"))
        assert meta is not None and meta["corpus_version"] in (built_at, now)
        with SQLiteStore(db) as store:
            engine = load_or_build(store, None, store.index_folder())
            assert len(engine) == store.count_papers()
            assert engine.search(late[-1].label, 1)[0][0] == late[-1].id
        for left in db.parent.glob(".index-*"):  # a killed build's folder: stale after a while
            os.utime(left, (time.time() - STALE_BUILD_SECONDS - 60,) * 2)
        new_index_folder(Path(f"{db}.index")).rmdir()
        assert not list(db.parent.glob(".index-*"))
    assert kills >= 3
