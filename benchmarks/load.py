"""One load-generating process: run a query file against a database, print latencies as JSON.

``benchmarks.size`` starts several at once to measure processes sharing one database:
``python -m benchmarks.load --db URL --queries FILE``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from benchmarks import measure
from bot.search.semantic import load_embedder
from bot.service import PaperService
from bot.store import open_store


def main() -> None:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="database URL (sqlite:///... or postgresql://...)")
    parser.add_argument("--queries", type=Path, required=True)
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text())
    store = open_store(args.db)
    service = PaperService(store, embedder=load_embedder())
    start = time.perf_counter()
    service.engine  # noqa: B018  (load or build before timing queries)
    ready = time.perf_counter() - start
    samples = []
    for query in queries:
        t = time.perf_counter()
        service.search(query)
        samples.append((time.perf_counter() - t) * 1000)
    memory = {"peak_rss_mb": measure.peak_rss_mb(), "private_rss_mb": measure.private_rss_mb()}
    print(json.dumps({"ready_s": round(ready, 3), "samples_ms": samples, **memory}))


if __name__ == "__main__":
    main()
