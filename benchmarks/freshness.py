"""Freshness of a living corpus (#17), measured as a deployment lives it, whole processes:

    python -m benchmarks.freshness --n 50000 --new 2000 [--work DIR] [--out FILE]

A library of ``n`` synthetic papers (plus the seeds) is ingested and indexed. A long-running
``paperbot search --batch - --json`` then gets a query every quarter second (titles of old papers,
and one of the papers about to arrive) while another process ingests ``new`` papers. Reported:
query latency at rest and during the update (p50 / p99 / max), how long after the ingest's end the
running process first finds a new paper by its title, and the cost of a one-shot ``paperbot ask``
for a new paper after a further ingest with no process running, against a warm one-shot ``ask``
(its saved index current).
Results go to ``--out`` (JSON) and standard output (a markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks import workload
from benchmarks.corpus import synthetic_papers
from bot.models import Paper

ROOT = Path(__file__).resolve().parent.parent
PERIOD = 0.25  # seconds between queries, as the check sends them


def paperbot(*args: str) -> float:
    """Wall seconds of one ``paperbot`` process."""
    env = {**os.environ, "PAPERBOT_LOG_LEVEL": "WARNING"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def new_papers(count: int, seed: int, prefix: str) -> list[Paper]:
    """Papers no earlier run wrote: their own arXiv ids, a title word of their own."""
    papers = []
    for i, paper in enumerate(synthetic_papers(count, seed=seed, vocabulary=workload.seed_vocabulary())):
        papers.append(
            paper.model_copy(
                update={
                    "arxiv_id": f"{prefix}.{i:05d}",
                    "title": f"{paper.title} {prefix.replace('.', '')}x{i}",
                }
            )
        )
    return papers


def write(path: Path, papers: list[Paper]) -> None:
    path.write_text("".join(workload.snapshot_line(p) + "\n" for p in papers), encoding="utf-8")


class BatchSearch:
    """A running ``paperbot search --batch - --json``: send a query, get (seconds, first arXiv id)."""

    def __init__(self, db: Path) -> None:
        env = {**os.environ, "PAPERBOT_LOG_LEVEL": "WARNING"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--db", str(db), "search", "--batch", "-", "--json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.answers: list[tuple[float, str | None]] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            results = json.loads(line)["results"]
            self.answers.append((time.perf_counter(), results[0].get("arxiv_id") if results else None))
            self._ready.set()

    def ask(self, text: str) -> tuple[float, str | None]:
        assert self.process.stdin is not None
        self._ready.clear()
        start = time.perf_counter()
        self.process.stdin.write(json.dumps({"q": text, "k": 1}) + "\n")
        self.process.stdin.flush()
        self._ready.wait(120)
        end, first = self.answers[-1]
        return end - start, first

    def peak_rss_mb(self) -> float:
        """The running process's peak resident memory so far (VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return round(
            int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) / 1024, 1
        )

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(60)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "max": float(ms.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=2_000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "freshness.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = args.work / f"snapshot-{args.n}.jsonl"
    if not base.exists():
        workload.write_snapshot(base, args.n)
    old_titles = [
        json.loads(line)["title"] for _, line in zip(range(200), base.open(encoding="utf-8"), strict=False)
    ]
    db = args.work / f"freshness-{args.n}.db"
    for stale in args.work.glob(f"freshness-{args.n}.db*"):
        if stale.is_dir():
            subprocess.run(["rm", "-rf", str(stale)], check=True)
        else:
            stale.unlink()
    build = paperbot("--db", str(db), "ingest", str(ROOT / "seeds"), str(base))
    build += paperbot("--db", str(db), "search", "warm up")  # builds and saves the index
    arriving, later = new_papers(args.new, 101, "2612"), new_papers(1000, 202, "2613")
    write(args.work / "arriving.jsonl", arriving)
    write(args.work / "later.jsonl", later)

    # Warm: a one-shot ask whose saved index is current (nothing changed since it was built).
    warm_ask = min(paperbot("--db", str(db), "ask", old_titles[i]) for i in range(3))
    search = BatchSearch(db)
    search.ask("warm up")
    probe = arriving[len(arriving) // 2]
    rest: list[float] = []
    for i in range(40):  # ten seconds at rest
        seconds, _ = search.ask(old_titles[i % len(old_titles)])
        rest.append(seconds)
        time.sleep(max(0.0, PERIOD - seconds))
    ingest = subprocess.Popen(
        [sys.executable, "-m", "bot", "--db", str(db), "ingest", str(args.work / "arriving.jsonl")],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PAPERBOT_LOG_LEVEL": "WARNING"},
    )
    started, ended, found = time.perf_counter(), None, None
    during: list[float] = []
    i = 0
    while found is None or time.perf_counter() < found + 5:
        text = probe.title if i % 2 else old_titles[i % len(old_titles)]
        seconds, first = search.ask(text)
        if found is None:
            during.append(seconds)
        if ended is None and ingest.poll() is not None:
            ended = time.perf_counter()
        if found is None and ended is not None and i % 2 and first == probe.arxiv_id:
            found = time.perf_counter()
        if time.perf_counter() - started > 900:
            break
        i += 1
        time.sleep(max(0.0, PERIOD - seconds))
    peak_rss = search.peak_rss_mb()
    search.close()
    # The same ask again with the arriving papers still in the change segment (the saved base
    # is only rebuilt when changes outgrow it): what every one-shot command pays until then.
    repeat_ask = min(paperbot("--db", str(db), "ask", probe.title) for _ in range(3))
    ingest_later = paperbot("--db", str(db), "ingest", str(args.work / "later.jsonl"))
    cold_ask = paperbot("--db", str(db), "ask", later[0].title)
    result = {
        "papers": sum(1 for _ in base.open(encoding="utf-8")) + 53,
        "new": args.new,
        "build_seconds": round(build, 1),
        "at_rest_ms": percentiles(rest),
        "during_update_ms": percentiles(during),
        "ingest_seconds": round((ended or time.perf_counter()) - started, 1),
        "found_after_ingest_end_s": round(found - ended, 2) if found and ended else None,
        "one_shot_ask_warm_s": round(warm_ask, 2),
        "one_shot_ask_with_changes_pending_s": round(repeat_ask, 2),
        "ingest_1000_more_s": round(ingest_later, 1),
        "one_shot_ask_after_ingest_s": round(cold_ask, 2),
        "one_shot_ratio": round(cold_ask / warm_ask, 2),
        "search_process_peak_rss_mb": peak_rss,
        "load_average": os.getloadavg()[0],
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    r, d = result["at_rest_ms"], result["during_update_ms"]
    print(
        "| papers | new | query p50 / p99 / max at rest (ms) | during the update | found after the ingest's end | one-shot ask after an ingest / warm |"
    )
    print("|---:|---:|---|---|---:|---|")
    print(
        f"| {result['papers']:,} | {args.new:,} | {r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f} | "
        f"{d['p50']:.0f} / {d['p99']:.0f} / {d['max']:.0f} | {result['found_after_ingest_end_s']} s | "
        f"{cold_ask:.1f} s / {warm_ask:.1f} s = {result['one_shot_ratio']}x |"
    )


if __name__ == "__main__":
    main()
