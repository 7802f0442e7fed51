"""The dev questions a library misses, and why: each signal's score for the gold paper and the top ones.

    python -m benchmarks.misses --db benchmarks/data/bench-1000000.db

Uses the database's saved index (as ``benchmarks.size`` left it). For every dev question whose gold
paper is not first, prints the analysed query terms, then the fused score and the per-signal
scores (BM25, title coverage, semantic, fuzzy title) of the three first papers and of the gold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.evaluation import load_jsonl, rank_of
from bot.search.engine import WEIGHTS
from bot.search.fusion import fuse
from bot.service import PaperService
from bot.store import open_store
from bot.text import key

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval" / "dev_questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.misses", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="a benchmark database (SQLite file)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    args = parser.parse_args()
    store = open_store(f"sqlite:///{args.db}")
    service = PaperService(store)
    engine = service.engine
    missed = 0
    for row in load_jsonl(args.questions):
        if "author" in row or "kind" not in row:
            continue
        hits = service.search(row["q"], k=10)
        rank = rank_of(hits, row["gold"])
        if rank == 1:
            continue
        missed += 1
        signals = engine.signals(row["q"], None)
        fused = fuse(signals, WEIGHTS)
        print(f"\n{row['q']!r} ({row['kind']}): gold at rank {rank}")
        print("  terms:", engine.query_terms(row["q"]))

        wanted = {key(g) for g in row["gold"]}
        tops = [("top ", engine.position(hit.paper.id) or 0) for hit in hits[:3]]
        golds = [("gold", i) for i, title in enumerate(engine.titles) if title in wanted]
        for label, i in tops + golds:
            scores = " ".join(f"{name}={signals[name].get(i, 0):.3f}" for name in signals)
            print(f"  {label}: fused {fused.get(i, 0):.3f} {scores}  {engine.titles[i][:80]}")
    print(f"\n{missed} missed")


if __name__ == "__main__":
    main()
