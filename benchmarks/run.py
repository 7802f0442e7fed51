"""Run the benchmark at each corpus size (one fresh process per size) and write the results.

    python -m benchmarks [--quick] [--sizes 10000,100000,1000000] [--arxiv FILE]

Writes ``benchmarks/RESULTS.md`` (tables, machine, command) and ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGETS = {"papers_per_s": 5000, "search_p95": 30, "ask_p95": 100, "complete_p95": 20, "rss_mb": 3000}


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory = ""
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def run_sizes(
    sizes: list[int],
    work: Path,
    quick: bool,
    arxiv: Path | None,
    pg: str | None = None,
    keep: bool = False,
    label: str = "",
) -> list[dict[str, Any]]:
    """Each size in a fresh process; ``label`` (the command line) is kept with each result."""
    results = []
    for n in sizes:
        print(
            f"benchmark: {n:,} papers on {'PostgreSQL' if pg else 'SQLite'} ...", file=sys.stderr, flush=True
        )
        command = [sys.executable, "-m", "benchmarks.size", "--n", str(n), "--work", str(work)]
        command += ["--quick"] if quick else []
        command += ["--arxiv", str(arxiv)] if arxiv else []
        command += ["--pg", pg] if pg else []
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"benchmark at {n} papers failed")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["wall_s"] = round(time.perf_counter() - start, 1)
        result["command"] = label
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results.append(result)
        if keep:
            save(result)  # each size as it finishes: a later size failing loses nothing
    return results


def save(result: dict[str, Any]) -> None:
    """Keep every (backend, size) measured, the latest run of each, in results.json."""
    path = HERE / "results.json"
    try:
        kept = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        kept = []
    kept = [
        r
        for r in kept
        if (r.get("backend", "sqlite"), r["n"]) != (result.get("backend", "sqlite"), result["n"])
    ]
    kept.append(result)
    kept.sort(key=lambda r: (r.get("backend", "sqlite") != "sqlite", r["n"]))
    path.write_text(json.dumps({"machine": machine(), "results": kept}, indent=1))


def _commands(results: list[dict[str, Any]]) -> list[str]:
    """One line per command that measured some of the rows, naming the rows."""
    rows: dict[str, list[str]] = {}
    for r in results:
        measured = (
            f"`{r['command']}` ({r['measured_at']})"
            if "command" in r
            else "an earlier version of the benchmark (command not recorded)"
        )
        rows.setdefault(measured, []).append(f"{r.get('backend', 'sqlite')} {r['n']:,}")
    return [*(f"- {measured}: {', '.join(names)}" for measured, names in rows.items()), ""]


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _serving(processes: dict[str, Any]) -> str:
    if "peak_rss_mb" not in processes:
        return "-"
    return f"{processes['peak_rss_mb']:,.0f} ({processes['private_rss_mb']:,.0f})"


def _bm25_only(baselines: dict[str, Any]) -> str:
    """Our BM25 signal alone vs rank_bm25 (the ranking rank_bm25 does), when it was measured."""
    alone = baselines.get("ours_bm25_only")
    if not alone:
        return "- | -"
    return f"{alone['mean']} | {_ratio(baselines['rank_bm25_search']['mean'], alone['mean'])}"


def _ratio(baseline: float, ours: float) -> str:
    return f"{baseline / ours:.0f}x" if ours > 0 else "-"


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# paperbot benchmark results",
        "",
        f"Machine: {machine()}.",
        "Measured by (results.json keeps the latest run of each backend and size):",
        *_commands(results),
        "Corpus: the 53 seed papers plus N papers ingested end to end from an arXiv metadata snapshot file "
        "(synthetic Zipfian ML text unless `--arxiv FILE` is given). Latencies are after warm-up; "
        "'8 callers' runs 8 threads at once, as the bot's `asyncio.to_thread` does.",
        "",
        "Peak RSS (VmHWM) counts the pages of memory-mapped index files a process has read as well as "
        "its own memory; 'private' is a serving process's own memory at the end (RssAnon). 'Ingest + "
        "build' is the benchmark process up to a built index; 'serving process' is one of the four "
        "processes that load the saved index and search; 'whole benchmark process' then also loads a "
        "second engine and runs every latency test.",
        "",
        "## Ingest, size, memory",
        "",
        "| backend | papers | ingest papers/s (parse+store+index) | parse+store s | index s | DB MB | index MB | peak RSS MB: ingest + build | peak RSS MB: serving process (private) | peak RSS MB: whole benchmark process | cold start s | index load s | 4 processes: search p95 ms (req/s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        i = r["ingest"]
        lines.append(
            f"| {r.get('backend', 'sqlite')} | {i['papers']:,} | {i['papers_per_s']:,.0f} | {i['parse_store_s']} | {i['index_s']} | "
            f"{i['db_mb']} | {i['index_mb']} | {_mb(r.get('peak_rss_build_mb'))} | {_serving(r['processes_4_search_ms'])} | "
            f"{r['peak_rss_mb']:,.0f} | {r['cold_start_s']} | {r['index_load_s']} | "
            f"{r['processes_4_search_ms']['p95']} ({r['processes_4_search_ms']['per_second']}) |"
        )
    lines += [
        "",
        "## Latency (ms, single caller: p50 / p95 / p99)",
        "",
        "| backend | papers | search | ask | title autocomplete | author autocomplete | search, 8 callers p95 (req/s) | ask, 8 callers p95 (req/s) |",
        "|---|---:|---|---|---|---|---|---|",
    ]
    fmt = lambda s: f"{s['p50']} / {s['p95']} / {s['p99']}"  # noqa: E731
    for r in results:
        lat, con = r["latency_ms"], r["concurrent_8_ms"]
        lines.append(
            f"| {r.get('backend', 'sqlite')} | {r['ingest']['papers']:,} | {fmt(lat['search'])} | {fmt(lat['ask'])} | {fmt(lat['complete_title'])} | "
            f"{fmt(lat['complete_author'])} | {con['search']['p95']} ({con['search']['per_second']}) | "
            f"{con['ask']['p95']} ({con['ask']['per_second']}) |"
        )
    lines += [
        "",
        "## Quality and baselines (same process, same corpus)",
        "",
        "| backend | papers | hit@1 | MRR@10 | authors P / R | routing | rank_bm25 search mean ms | ours: search (all signals) mean ms | faster | ours: BM25 alone mean ms | faster | linear title scan mean ms | ours mean ms | ours faster | rank_bm25 hit@1 / MRR@10 |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        q, lat, b = r["quality"], r["latency_ms"], r.get("baselines")
        row = f"| {r.get('backend', 'sqlite')} | {r['ingest']['papers']:,} | {q['hit_at_1']} | {q['mrr_at_10']} | {q['author_precision']} / {q['author_recall']} | {q['routing']} |"
        if b:
            row += (
                f" {b['rank_bm25_search']['mean']} | {lat['search']['mean']} | {_ratio(b['rank_bm25_search']['mean'], lat['search']['mean'])} |"
                f" {_bm25_only(b)} |"
                f" {b['linear_title_scan']['mean']} | {lat['complete_title']['mean']} | {_ratio(b['linear_title_scan']['mean'], lat['complete_title']['mean'])} |"
                f" {b['rank_bm25_quality']['hit_at_1']} / {b['rank_bm25_quality']['mrr_at_10']} |"
            )
        else:
            row += " - | - | - | - | - | - | - | - | not run above 100k |"
        lines.append(row)
    for backend in dict.fromkeys(r.get("backend", "sqlite") for r in results):
        same = [r for r in results if r.get("backend", "sqlite") == backend]
        if len(same) > 1:
            lines += growth(same)
    lines += ["", f"Targets at 1M (issue): {json.dumps(TARGETS)}.", ""]
    return "\n".join(lines)


def growth(results: list[dict[str, Any]]) -> list[str]:
    first, last = results[0], results[-1]
    factor = last["ingest"]["papers"] / first["ingest"]["papers"]
    rows = [
        ("index build s", first["ingest"]["index_s"], last["ingest"]["index_s"]),
        ("DB MB", first["ingest"]["db_mb"], last["ingest"]["db_mb"]),
        ("peak RSS MB (whole benchmark process)", first["peak_rss_mb"], last["peak_rss_mb"]),
        ("search p50 ms", first["latency_ms"]["search"]["p50"], last["latency_ms"]["search"]["p50"]),
        ("ask p50 ms", first["latency_ms"]["ask"]["p50"], last["latency_ms"]["ask"]["p50"]),
        (
            "title autocomplete p50 ms",
            first["latency_ms"]["complete_title"]["p50"],
            last["latency_ms"]["complete_title"]["p50"],
        ),
        ("cold start s", first["cold_start_s"], last["cold_start_s"]),
    ]
    out = [
        "",
        f"## Growth from {first['ingest']['papers']:,} to {last['ingest']['papers']:,} papers (x{factor:.0f})",
        "",
        "| figure | small | large | grew | vs corpus |",
        "|---|---:|---:|---:|---|",
    ]
    for name, a, b in rows:
        grew = b / a if a else float("inf")
        kind = "sub-linear" if grew < factor * 0.7 else ("linear" if grew <= factor * 1.3 else "super-linear")
        out.append(f"| {name} | {a} | {b} | x{grew:.1f} | {kind} |")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k papers only (CI smoke test, < 2 min)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated corpus sizes")
    parser.add_argument(
        "--arxiv", type=Path, help="a real arXiv metadata snapshot (.jsonl[.gz]) instead of synthetic text"
    )
    parser.add_argument("--work", type=Path, default=HERE / "data", help="where corpora and databases go")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--pg-sizes", default="100000,1000000", help="sizes for the PostgreSQL backend")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    keep = args.out == HERE / "RESULTS.md" and not args.quick
    results = (
        run_sizes(sizes, args.work, args.quick, args.arxiv, None, keep, command.strip())
        if args.backend != "postgresql"
        else []
    )
    if args.backend in ("postgresql", "both"):
        from benchmarks.pg_server import postgres_server

        pg_sizes = [int(s) for s in args.pg_sizes.split(",")] if not args.quick else [10_000]
        with postgres_server() as server:
            results += run_sizes(pg_sizes, args.work, args.quick, args.arxiv, server, keep, command.strip())
    if keep:  # the repository's results: every size measured so far
        results = json.loads((HERE / "results.json").read_text())["results"]
    args.out.write_text(render(results), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
