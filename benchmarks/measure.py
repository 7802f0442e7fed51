"""Small measuring tools: latency percentiles, concurrent callers, peak memory, disk size."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "n": 0}
    a = np.asarray(samples_ms)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "mean": round(float(a.mean()), 3),
        "n": len(a),
    }


def time_calls(call: Callable[[Any], object], inputs: Sequence[Any], warmup: int = 10) -> dict[str, float]:
    """Latency of ``call(x)`` for each input, single-threaded, after ``warmup`` untimed calls."""
    for x in inputs[:warmup]:
        call(x)
    samples = []
    for x in inputs:
        start = time.perf_counter()
        call(x)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def time_concurrent(
    call: Callable[[Any], object], inputs: Sequence[Any], workers: int = 8
) -> dict[str, float]:
    """Latency and throughput with ``workers`` threads calling at once (as the bot's to_thread does)."""

    def one(x: Any) -> float:
        start = time.perf_counter()
        call(x)
        return (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        samples = list(pool.map(one, inputs))
    wall = time.perf_counter() - start
    return {**percentiles(samples), "per_second": round(len(inputs) / wall, 1), "workers": workers}


def private_rss_mb() -> float:
    """The process's resident memory now, without mapped files (RssAnon): memory it owns, not
    index pages the OS caches and can drop."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of this process's ended children (its worker processes), in MB."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def disk_mb(path: Path) -> float:
    if path.is_file():
        total = path.stat().st_size
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            total += extra.stat().st_size if extra.exists() else 0
    else:
        total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return round(total / 1e6, 1)
