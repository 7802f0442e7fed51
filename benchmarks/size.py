"""Benchmark one corpus size in this process and print the figures as JSON.

Run by ``benchmarks.run`` in a fresh process per size, so that peak memory and cold
start belong to that size alone: ``python -m benchmarks.size --n 10000 --work DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import baselines, measure, peers, workload
from benchmarks.pg_server import create_database
from bot.evaluation import evaluate, load_jsonl
from bot.ingest.pipeline import ingest_paths
from bot.search.engine import SearchEngine
from bot.search.semantic import load_embedder
from bot.service import PaperService
from bot.store import SQLiteStore, Store, open_store
from bot.workers import answer_threads

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL = ROOT / "tests" / "fixtures" / "eval"
# rank_bm25, the linear title scan and the peers (tantivy, bm25s) run up to this size: above
# it rank_bm25's per-query full scan and bm25s's token lists would dominate the run.
BASELINES_UP_TO = 100_000


def cold_start(url: str, runs: int = 3) -> float:
    """Seconds from process start to the first printed answer (best of ``runs``)."""
    best = float("inf")
    env = {**os.environ, "PAPERBOT_DATABASE_URL": url}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "what is GKD?"], check=True, capture_output=True, env=env
        )
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def processes_at_once(url: str, queries: list[str], work: Path, processes: int = 4) -> dict[str, Any]:
    """``processes`` separate processes searching one database at the same time."""
    path = work / "load-queries.json"
    path.write_text(json.dumps(queries))
    command = [sys.executable, "-m", "benchmarks.load", "--db", url, "--queries", str(path)]
    start = time.perf_counter()
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = [json.loads(run.communicate()[0].strip().splitlines()[-1]) for run in runs]
    wall = time.perf_counter() - start
    samples = [s for out in outputs for s in out["samples_ms"]]
    return {
        **measure.percentiles(samples),
        "processes": processes,
        "per_second": round(len(samples) / wall, 1),
        "ready_s": max(out["ready_s"] for out in outputs),
        # A serving process: loads the saved index, answers the queries (the largest of the four).
        "peak_rss_mb": max(out["peak_rss_mb"] for out in outputs),
        "private_rss_mb": max(out["private_rss_mb"] for out in outputs),
    }


def open_bench_store(n: int, work: Path, pg_server: str | None) -> tuple[Store, str, Path | None]:
    """A fresh database for this size: a SQLite file, or a new database on the server."""
    if pg_server:
        url = create_database(pg_server, f"bench_{n}")
        return open_store(url), url, None
    db = work / f"bench-{n}.db"
    for old in [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]:
        old.unlink(missing_ok=True)
    shutil.rmtree(db.with_name(db.name + ".index"), ignore_errors=True)
    return SQLiteStore(db), f"sqlite:///{db}", db


def run_size(
    n: int, work: Path, quick: bool, arxiv: Path | None, pg_server: str | None = None
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    snapshot = arxiv or work / f"arxiv-{n}.jsonl"
    # A synthetic corpus already written for this size is reused (it is deterministic).
    sample = workload.write_snapshot(snapshot, n) if arxiv is None and not snapshot.exists() else []
    backend = "postgresql" if pg_server else "sqlite"
    result: dict[str, Any] = {
        "n": n,
        "backend": backend,
        "corpus": "real arXiv metadata" if arxiv else "synthetic Zipfian",
    }

    store, url, db = open_bench_store(n, work, pg_server)
    start = time.perf_counter()
    ingest_paths(store, [SEEDS])
    report = ingest_paths(store, [snapshot])
    ingest_s = time.perf_counter() - start
    if any("unrecognised" in s.reason for s in report.skipped):
        raise SystemExit("this build cannot ingest arXiv metadata snapshots")
    if not sample:  # a real or reused snapshot: sample the papers to query from the store
        step = max(1, store.count_papers() // 400)
        sample = list(itertools.islice(store.iter_papers(), 0, None, step))[:400]
    papers = store.count_papers()
    embedder = load_embedder()
    service = PaperService(store, embedder=embedder)
    start = time.perf_counter()
    service.engine  # builds (and for SQLite saves) the index  # noqa: B018
    index_s = time.perf_counter() - start
    result["peak_rss_build_mb"] = measure.peak_rss_mb()  # this process so far: ingest, then index build
    result["peak_rss_workers_mb"] = measure.children_peak_rss_mb()  # its parse, analysis, embedding workers
    result["ingest"] = {
        "papers": papers,
        "parse_store_s": round(ingest_s, 2),
        "index_s": round(index_s, 2),
        "papers_per_s": round(papers / (ingest_s + index_s), 1),
        "db_mb": measure.disk_mb(db) if db else database_mb(store),
        "index_mb": measure.disk_mb(db.with_name(db.name + ".index")) if db else 0.0,
    }
    result["cold_start_s"] = cold_start(url)
    service = PaperService(store, embedder=embedder)
    start = time.perf_counter()
    service.engine  # loads the saved index (SQLite) or reads the embeddings (PostgreSQL)  # noqa: B018
    result["index_load_s"] = round(time.perf_counter() - start, 3)
    questions = load_jsonl(EVAL / "dev_questions.jsonl")
    report_q = evaluate(
        service, EVAL / "dev_questions.jsonl", EVAL / "dev_authors.jsonl", EVAL / "dev_routing.jsonl"
    )
    result["quality"] = {
        "hit_at_1": round(report_q.questions.hit_at_1, 3),
        "mrr_at_10": round(report_q.questions.mrr_at_10, 3),
        "author_precision": report_q.author_precision,
        "author_recall": report_q.author_recall,
        "routing": f"{report_q.routing_passed}/{report_q.routing_total}",
    }
    count = 60 if quick else 200
    queries = workload.query_mix(sample, [row["q"] for row in questions], n=count)
    titles = workload.prefixes(sample, n=count)
    names = workload.author_prefixes(sample, n=count)
    result["latency_ms"] = {
        "search": measure.time_calls(lambda q: service.search(q), queries),
        "ask": measure.time_calls(lambda q: service.ask(q), queries),
        "complete_title": measure.time_calls(lambda q: service.complete_titles(q), titles),
        "complete_author": measure.time_calls(lambda q: service.complete_authors(q), names),
    }
    # 8 callers at once, answered as the bot answers them: in its answer threads, in turn.
    threads = os.cpu_count() or 1  # the bot's default (PAPERBOT_ANSWER_THREADS=0)
    with answer_threads(threads) as answering:
        result["concurrent_8_ms"] = {
            "search": measure.time_concurrent(
                lambda q: answering.submit(service.search, q).result(), queries
            ),
            "ask": measure.time_concurrent(lambda q: answering.submit(service.ask, q).result(), queries),
            "answer_threads": threads,
        }
    # The way it was (each caller in a thread of its own, all at once), for comparison.
    result["concurrent_8_own_threads_ms"] = {"search": measure.time_concurrent(service.search, queries)}
    # Ours only (the baselines and load processes come after); this process built an engine, then
    # loaded a second one from disk and queried it: more than any real process holds.
    result["peak_rss_mb"] = measure.peak_rss_mb()
    result["processes_4_search_ms"] = processes_at_once(url, queries, work)
    if n <= BASELINES_UP_TO:
        gold = baselines.gold_ids(store, questions)
        result["baselines"] = run_baselines(store, service, questions, gold, queries, titles, quick)
        result["peers"] = peers.run_peers(url, queries, questions, gold, work)
    store.close()
    return result


def database_mb(store: Store) -> float:
    rows = store._execute("SELECT pg_database_size(current_database())")  # type: ignore[union-attr]
    return round(int(rows[0][0]) / 1e6, 1)


def run_baselines(
    store: Store,
    service: PaperService,
    questions: list[dict[str, Any]],
    gold_ids: dict[str, str],
    queries: list[str],
    titles: list[str],
    quick: bool,
) -> dict[str, Any]:
    rank_bm25 = baselines.RankBM25Baseline(store)
    scan = baselines.LinearTitleScan(store)
    few = 30 if quick else 60
    ours_ids = lambda q: [h.paper.id for h in service.search(q)]  # noqa: E731
    out = {
        "rank_bm25_build_s": round(rank_bm25.build_seconds, 2),
        "rank_bm25_search": measure.time_calls(rank_bm25.search, queries[:few], warmup=2),
        # ours' full search on exactly rank_bm25's queries (latency_ms.search runs all of them)
        "ours_search_same_queries": measure.time_calls(service.search, queries[:few], warmup=2),
        "linear_title_scan": measure.time_calls(scan.complete, titles[:few], warmup=2),
        "rank_bm25_quality": baselines.hit_rate(rank_bm25.search, questions, gold_ids),
        "ours_quality_same_harness": baselines.hit_rate(ours_ids, questions, gold_ids),
    }
    engine = service.engine
    if isinstance(engine, SearchEngine):  # like for like: our BM25 signal alone, same queries, top 10
        out["ours_bm25_only"] = measure.time_calls(
            lambda q: engine.lexical.top(engine.query_terms(q), 10), queries[:few], warmup=2
        )
    return out


def main() -> None:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--arxiv", type=Path)
    parser.add_argument("--pg", help="URL of a PostgreSQL server to benchmark instead of SQLite")
    args = parser.parse_args()
    print(json.dumps(run_size(args.n, args.work, args.quick, args.arxiv, args.pg)))


if __name__ == "__main__":
    main()
