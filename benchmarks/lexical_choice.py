"""Why our own BM25 index: bm25s, SQLite FTS5 and ours on the same corpus, measured.

    python -m benchmarks.lexical_choice [--n 100000]

Each candidate runs in its own process (so peak memory is its own): build time, peak RSS,
query latency over the dev questions plus synthetic queries, and hit@1 of the dev
questions with BM25 alone (same analysed terms for all three). Writes
``benchmarks/LEXICAL.md``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import measure, workload
from benchmarks.corpus import synthetic_papers
from bot.evaluation import load_jsonl, matches_gold
from bot.ingest.pipeline import ingest_paths
from bot.search.analysis import Analyzer
from bot.search.engine import document_text
from bot.store import SQLiteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CANDIDATES = ["ours", "bm25s", "fts5"]


def corpus(n: int) -> tuple[list[str], list[list[str]], list[Any]]:
    """Ids, analysed documents, and the papers (the seeds first, then ``n`` synthetic ones)."""
    store = SQLiteStore(":memory:")
    ingest_paths(store, [ROOT / "seeds"])
    papers = list(store.iter_papers()) + list(synthetic_papers(n, vocabulary=workload.seed_vocabulary()))
    analyzer = Analyzer()
    return [p.id for p in papers], [analyzer(document_text(p)) for p in papers], papers


def run(candidate: str, n: int) -> dict[str, Any]:
    ids, docs, papers = corpus(n)
    analyzer = Analyzer()
    questions = load_jsonl(ROOT / "tests" / "fixtures" / "eval" / "dev_questions.jsonl")
    queries = [row["q"] for row in questions] + [" ".join(d[5:9]) for d in docs[100:400:3]]
    start = time.perf_counter()
    if candidate == "ours":
        from bot.search.lexical import LexicalIndex

        index = LexicalIndex.build(docs)

        def search(q: str) -> list[str]:
            scores = index.scores(analyzer(q))
            top = np.argpartition(-scores, 10)[:10]
            return [ids[i] for i in top[np.argsort(-scores[top])]]

    elif candidate == "bm25s":
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index(docs, show_progress=False)

        def search(q: str) -> list[str]:
            terms = [t for t in analyzer(q) if t in retriever.vocab_dict]
            if not terms:
                return []
            scores = retriever.get_scores(terms)
            top = np.argpartition(-scores, 10)[:10]
            return [ids[i] for i in top[np.argsort(-scores[top])]]

    else:
        db = sqlite3.connect(":memory:")
        db.execute("CREATE VIRTUAL TABLE d USING fts5(body, tokenize='unicode61')")
        db.executemany(
            "INSERT INTO d (rowid, body) VALUES (?, ?)", [(i, " ".join(t)) for i, t in enumerate(docs)]
        )

        def search(q: str) -> list[str]:
            terms = [f'"{t}"' for t in dict.fromkeys(analyzer(q))]
            if not terms:
                return []
            rows = db.execute(
                "SELECT rowid FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 10", (" OR ".join(terms),)
            ).fetchall()
            return [ids[r[0]] for r in rows]

    build_s = time.perf_counter() - start
    gold = {}
    for row in questions:
        gold[row["q"]] = next((p.id for p in papers if any(matches_gold(p, g) for g in row["gold"])), None)
    hits = sum(search(row["q"])[:1] == [gold[row["q"]]] for row in questions)
    return {
        "candidate": candidate,
        "n": len(ids),
        "build_s": round(build_s, 2),
        "latency_ms": measure.time_calls(search, queries, warmup=5),
        "hit_at_1": round(hits / len(questions), 3),
        "peak_rss_mb": measure.peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--one", choices=CANDIDATES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.n)))
        return
    rows: list[dict[str, Any]] = []
    for candidate in CANDIDATES:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.lexical_choice", "--n", str(args.n), "--one", candidate],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            rows.append({"candidate": candidate, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    lines = [
        f"# Lexical index choice ({args.n:,} synthetic papers + the seeds; `python -m benchmarks.lexical_choice --n {args.n}`)",
        "",
        f"Machine: {__import__('benchmarks.run', fromlist=['machine']).machine()}.",
        "",
        "| index | build s | peak RSS MB | query p50 ms | p95 ms | dev hit@1 (BM25 alone) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['candidate']} | failed: {r['error']} | | | | |")
            continue
        lat = r["latency_ms"]
        lines.append(
            f"| {r['candidate']} | {r['build_s']} | {r['peak_rss_mb']:,.0f} | {lat['p50']} | {lat['p95']} | {r['hit_at_1']} |"
        )
    (HERE / "LEXICAL.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
