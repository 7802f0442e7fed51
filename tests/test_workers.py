"""Work in worker processes: a large file parsed beside the ingest, and the plumbing's edges."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.workload import write_snapshot
from bot.ingest import pipeline
from bot.ingest.pipeline import ingest_paths
from bot.store import SQLiteStore
from bot.workers import STREAM_BATCH, streamed
from tests.conftest import SEEDS


def _ingested(db: Path, paths: list[Path]) -> tuple[list[str], list[str]]:
    """(every stored paper as JSON, the skipped lines) after an ingest of ``paths``."""
    with SQLiteStore(db) as store:
        report = ingest_paths(store, paths)
        return [p.model_dump_json() for p in store.iter_papers()], [str(s) for s in report.skipped]


def test_a_file_parsed_in_a_worker_stores_what_one_parsed_here_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, 1200)
    with snapshot.open("a", encoding="utf-8") as out:
        out.write("{not json\n")  # a bad line: skipped with its line number either way
    inputs = [SEEDS, snapshot]
    here = _ingested(tmp_path / "here.db", inputs)
    streams: list[Path] = []
    real = pipeline.streamed

    def recording(produce, path):  # type: ignore[no-untyped-def]
        streams.append(path.name)
        return real(produce, path)

    monkeypatch.setattr(pipeline, "PARSE_ELSEWHERE_BYTES", 0)
    monkeypatch.setattr(pipeline, "streamed", recording)
    elsewhere = _ingested(tmp_path / "elsewhere.db", inputs)
    assert "snapshot.jsonl" in streams and len(streams) > 1  # the seed files too
    assert len(here[0]) >= 1200
    assert elsewhere == here
    assert any("snapshot.jsonl" in s for s in here[1])


def _count(n: int) -> Iterator[int]:
    yield from range(n)


def _fail_after(n: int) -> Iterator[int]:
    yield from range(n)
    raise ValueError("line 7: not what was expected")


def _die_after(n: int) -> Iterator[int]:
    yield from range(n)
    os.kill(os.getpid(), signal.SIGKILL)
    yield -1


def _pid_then_wait() -> Iterator[int]:
    yield os.getpid()
    yield from [0] * (STREAM_BATCH - 1)  # a whole batch, so that it is sent
    time.sleep(600)
    yield 0


def test_items_arrive_in_order_across_batches() -> None:
    assert list(streamed(_count, 1234)) == list(range(1234))
    assert list(streamed(_count, 0)) == []


def test_an_error_in_the_worker_is_raised_to_the_caller_after_the_items_before_it() -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="line 7"):
        seen.extend(streamed(_fail_after, 10))
    assert seen == list(range(10))


def test_a_worker_killed_outright_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="ended early"):
        list(streamed(_die_after, 3))


def test_a_caller_that_stops_early_ends_the_worker() -> None:
    stream = streamed(_pid_then_wait)
    pid = next(stream)
    stream.close()
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or "\nState:\tZ" in status.read_text()
