"""End-to-end ingest throughput as a user sees it, one process per step, optionally profiled.

    python -m benchmarks.ingest_profile --n 50000 [--format snapshot|seed] [--profile DIR]

Writes the synthetic corpus (``benchmarks.corpus``) once to ``--work`` as an arXiv metadata
snapshot (what ``python -m benchmarks`` ingests) or as a seed file (``render_record``), then
times, on a fresh database, ``paperbot --db DB ingest seeds/ FILE`` and the first
``paperbot --db DB search ...`` (which builds and saves the index), each as a whole process.
Prints papers/s end to end. With ``--profile DIR`` each step runs under py-spy (speedscope
files in DIR; the timings are then inflated a little).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import workload
from benchmarks.corpus import synthetic_papers
from bot.ingest.seeds import render_record

ROOT = Path(__file__).resolve().parent.parent


def write_corpus(path: Path, n: int, fmt: str) -> None:
    if path.exists():
        return
    if fmt == "snapshot":
        workload.write_snapshot(path, n)
        return
    with path.open("w", encoding="utf-8") as out:
        for paper in synthetic_papers(n, vocabulary=workload.seed_vocabulary()):
            out.write(render_record(paper))


def step(name: str, args: list[str], profile: Path | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``paperbot`` process."""
    command = [sys.executable, "-m", "bot", *args]
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out = profile / f"{name}.speedscope.json"
        command = [
            spy,
            "record",
            "--format",
            "speedscope",
            "-o",
            str(out),
            "-r",
            "200",
            "--subprocesses",
            "--",
            *command,
        ]
    env = {**os.environ, "PAPERBOT_LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest_profile", description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--format", choices=["snapshot", "seed"], default="snapshot")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paperbot-ingest"))
    parser.add_argument("--profile", type=Path, help="folder for py-spy speedscope profiles")
    parser.add_argument("--ingest-only", action="store_true", help="time the ingest step alone")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = args.work / f"corpus-{args.n}.{'jsonl' if args.format == 'snapshot' else 'txt'}"
    write_corpus(corpus, args.n, args.format)
    db = args.work / f"ingest-{args.n}.db"
    for old in [db, Path(f"{db}-wal"), Path(f"{db}-shm")]:
        old.unlink(missing_ok=True)
    shutil.rmtree(f"{db}.index", ignore_errors=True)
    ingest_s, ingest_cpu = step(
        "ingest", ["--db", str(db), "ingest", str(ROOT / "seeds"), str(corpus)], args.profile
    )
    search_s = search_cpu = 0.0
    if not args.ingest_only:
        search_s, search_cpu = step("search", ["--db", str(db), "search", "mean field games"], args.profile)
    with sqlite3.connect(db) as conn:
        papers = int(conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
    total = ingest_s + search_s
    print(
        json.dumps(
            {
                "n": args.n,
                "format": args.format,
                "papers": papers,
                "ingest_s": round(ingest_s, 2),
                "first_search_s": round(search_s, 2),
                "ingest_cpu_s": round(ingest_cpu, 2),
                "first_search_cpu_s": round(search_cpu, 2),
                "papers_per_s": round(papers / total, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
