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
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"benchmark at {n} papers failed")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["wall_s"] = round(time.perf_counter() - start, 1)
        result["command"] = label
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        # The machine's 1-minute load average before and after this size: above its core count,
        # other work shared the cores and the latencies are the worse for it.
        result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
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
        load = f" (load {r['load_average'][0]} → {r['load_average'][1]})" if "load_average" in r else ""
        rows.setdefault(measured, []).append(f"{r.get('backend', 'sqlite')} {r['n']:,}{load}")
    return [*(f"- {measured}: {', '.join(names)}" for measured, names in rows.items()), ""]


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _with_workers(result: dict[str, Any]) -> str:
    """The ingest + build process's peak, and its largest worker's when it had any."""
    workers = result.get("peak_rss_workers_mb")
    shown = _mb(result.get("peak_rss_build_mb"))
    return shown if not workers else f"{shown} (+ {_mb(workers)})"


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


def _ours_search(r: dict[str, Any]) -> dict[str, float]:
    """Ours' full search latency on rank_bm25's queries when measured, else on all the queries."""
    return r.get("baselines", {}).get("ours_search_same_queries") or r["latency_ms"]["search"]


PEER_NAMES = {"ours": "ours (BM25 index)", "tantivy": "tantivy", "bm25s": "bm25s"}


def _times(baseline: float, ours: float) -> str:
    return f"{baseline / ours:.1f}x" if ours > 0 else "-"


def _x(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}" if peer else "-"


def peers_table(results: list[dict[str, Any]]) -> list[str]:
    """One table: ours and each peer per size, with ours ÷ peer for every figure."""
    measured = [r for r in results if r.get("peers")]
    if not measured:
        return []
    lines = [
        "",
        "## Peers in the same run: ours, tantivy and bm25s on the same corpus",
        "",
        "Each engine indexes the same papers (the text our BM25 indexes: title twice, authors, "
        "abstract) as the same analysed terms (our folded, stemmed terms; tantivy through its "
        "whitespace tokenizer, bm25s as token lists, the analysis counted in their build time), "
        "in memory, BM25 k1 1.2 b 0.75 with Lucene's idf, one indexing thread, each in its own "
        "process (`benchmarks/peers.py`). Build rate is documents indexed per second (the texts "
        "read from the database before the clock starts). Peak RSS is that process's VmHWM "
        "(base: Python, numpy and the texts before the build). BM25 alone: the same queries as "
        "ours above, their analysed terms ORed, top 10, one thread, analysis included. hit@1 and "
        "MRR@10: the dev questions against their gold papers among the distractors. Ours ÷ peer: "
        "above 1 means ours builds faster, holds more memory, answers slower or ranks better.",
        "",
        "| papers | engine | build docs/s | peak RSS MB (base) | BM25 alone p50 / p95 ms | hit@1 | MRR@10 "
        "| ours ÷ peer: build rate | peak RSS | p50 | p95 | hit@1 |",
        "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in measured:
        papers = f"{r['ingest']['papers']:,}"
        engines = r["peers"]["engines"]
        ours = engines.get("ours")
        for name, e in engines.items():
            row = (
                f"| {papers} | {PEER_NAMES.get(name, name)} {e['version']} | {e['docs_per_s']:,.0f} | "
                f"{e['peak_rss_mb']:,.0f} ({e['base_rss_mb']:,.0f}) | {e['bm25_ms']['p50']} / "
                f"{e['bm25_ms']['p95']} | {e['quality']['hit_at_1']} | {e['quality']['mrr_at_10']} |"
            )
            if ours and name != "ours":
                row += (
                    f" {_x(ours['docs_per_s'], e['docs_per_s'])} | {_x(ours['peak_rss_mb'], e['peak_rss_mb'])} |"
                    f" {_x(ours['bm25_ms']['p50'], e['bm25_ms']['p50'])} | {_x(ours['bm25_ms']['p95'], e['bm25_ms']['p95'])} |"
                    f" {_x(ours['quality']['hit_at_1'], e['quality']['hit_at_1'])} |"
                )
            else:
                row += " - | - | - | - | - |"
            lines.append(row)
        for name, why in r["peers"].get("skipped", {}).items():
            notes.append(f"- {papers} papers: {name} skipped, {why}.")
        b = r.get("baselines", {})
        if "ours_quality_same_harness" in b:
            q = b["ours_quality_same_harness"]
            notes.append(
                f"- {papers} papers: ours' whole search (all signals) on the same questions: hit@1 "
                f"{q['hit_at_1']}, MRR@10 {q['mrr_at_10']}; ours' whole engine (BM25, title, author and "
                f"semantic indexes, embeddings) built at {r['ingest']['papers'] / r['ingest']['index_s']:,.0f} "
                f"docs/s in the benchmark process (ingest table)."
            )
    return [*lines, "", *notes]


OUTSIDE_CHECK_N = 50_000


def _dev_questions() -> int:
    path = HERE.parent / "tests" / "fixtures" / "eval" / "dev_questions.jsonl"
    with contextlib.suppress(OSError):
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return 0


def outside_check(results: list[dict[str, Any]]) -> list[str]:
    """The figures an outside reader asks for first, at 50k papers, from the rows above."""
    lines = ["", f"## Outside check at {OUTSIDE_CHECK_N:,} papers", ""]
    r = next(
        (r for r in results if r["n"] == OUTSIDE_CHECK_N and r.get("backend", "sqlite") == "sqlite"), None
    )
    if r is None or "baselines" not in r:
        return [*lines, f"Not measured yet: `python -m benchmarks --sizes {OUTSIDE_CHECK_N}`.", ""]
    i, b, q = r["ingest"], r["baselines"], r["quality"]
    rank, full = b["rank_bm25_search"], _ours_search(r)
    alone = b.get("ours_bm25_only")
    bm25_alone = (
        f"{alone['p50']} / {alone['mean']} ms vs {rank['p50']} / {rank['mean']} ms: "
        f"{_times(rank['mean'], alone['mean'])} faster (mean)"
        if alone
        else "-"
    )
    return [
        *lines,
        f"From the SQLite {r['ingest']['papers']:,}-paper rows above (`{r.get('command', '?')}`, "
        f"{r.get('measured_at', '?')}): {OUTSIDE_CHECK_N:,} synthetic distractors plus the 53 seed papers.",
        "",
        "| question | answer |",
        "|---|---|",
        f"| (a) papers made searchable per second, end to end (parse + store + index build, "
        f"{i['parse_store_s'] + i['index_s']:.1f} s) | {i['papers_per_s']:,.0f} papers/s (index build alone: "
        f"{i['papers'] / i['index_s']:,.0f} papers/s) |",
        f"| (b) one query vs rank_bm25 in the same process, the same {rank['n']} queries, top 10 "
        f"(p50 / mean) | full search (routing, BM25, title, fuzzy title and semantic signals, fusion, "
        f"fetching the papers): {full['p50']} / {full['mean']} ms vs rank_bm25's BM25 {rank['p50']} / "
        f"{rank['mean']} ms: {_times(rank['mean'], full['mean'])} faster (mean); BM25 alone (our index's "
        f"top 10): {bm25_alone} |",
        f"| (c) hit@1 of the {_dev_questions()} dev questions among the {OUTSIDE_CHECK_N:,} distractors | {q['hit_at_1']} "
        f"(MRR@10 {q['mrr_at_10']}; rank_bm25 {b['rank_bm25_quality']['hit_at_1']}) |",
        "",
    ]


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# paperbot benchmark results",
        "",
        f"Machine: {machine()}.",
        "Measured by (results.json keeps the latest run of each backend and size):",
        *_commands(results),
        "Corpus: the 53 seed papers plus N papers ingested end to end from an arXiv metadata snapshot file "
        "(synthetic Zipfian ML text unless `--arxiv FILE` is given). Latencies are after warm-up; "
        "'8 callers' are 8 threads asking at once through the bot's answer threads "
        "(`bot.workers.answer_threads`: one per core, first come first served), as its cogs ask; "
        "'(own threads)' marks rows measured before that, each caller in a thread of its own, all at "
        "once (`asyncio.to_thread`), also kept in results.json as `concurrent_8_own_threads_ms`.",
        "",
        f"'(load a → b)' above is the machine's 1-minute load average before and after that size: "
        f"above its {os.cpu_count()} cores, other work shared them and every time of that row is "
        "inflated (ratios measured in the same run, minutes apart, less so).",
        "",
        "Peak RSS (VmHWM) counts the pages of memory-mapped index files a process has read as well as "
        "its own memory; 'private' is a serving process's own memory at the end (RssAnon). 'Ingest + "
        "build' is the benchmark process up to a built index, and (+ N) the largest peak of the worker "
        "processes it started (a large file's parser; the build's body analyser and embedder, two at "
        "once); 'serving process' is one of the four "
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
            f"{i['db_mb']} | {i['index_mb']} | {_with_workers(r)} | {_serving(r['processes_4_search_ms'])} | "
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
        how = "" if "answer_threads" in con else " (own threads)"
        lines.append(
            f"| {r.get('backend', 'sqlite')} | {r['ingest']['papers']:,} | {fmt(lat['search'])} | {fmt(lat['ask'])} | {fmt(lat['complete_title'])} | "
            f"{fmt(lat['complete_author'])} | {con['search']['p95']} ({con['search']['per_second']}){how} | "
            f"{con['ask']['p95']} ({con['ask']['per_second']}){how} |"
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
                f" {b['rank_bm25_search']['mean']} | {_ours_search(r)['mean']} | {_ratio(b['rank_bm25_search']['mean'], _ours_search(r)['mean'])} |"
                f" {_bm25_only(b)} |"
                f" {b['linear_title_scan']['mean']} | {lat['complete_title']['mean']} | {_ratio(b['linear_title_scan']['mean'], lat['complete_title']['mean'])} |"
                f" {b['rank_bm25_quality']['hit_at_1']} / {b['rank_bm25_quality']['mrr_at_10']} |"
            )
        else:
            row += " - | - | - | - | - | - | - | - | not run above 100k |"
        lines.append(row)
    lines += peers_table(results)
    lines += outside_check(results)
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
    if first.get("command") != last.get("command") or any(
        max(r.get("load_average", [0.0])) > (os.cpu_count() or 1) for r in (first, last)
    ):
        out[-2:-2] = [
            "The two rows come from different runs, or one ran while other work loaded the machine "
            "(see 'Measured by'): their times are not comparable, only the sizes.",
            "",
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
