"""Peers in the same run: tantivy and bm25s index the same corpus as ours, each in its own process.

``benchmarks.size`` calls ``run_peers`` after its own measurements; each engine then runs as

    python -m benchmarks.peers --engine tantivy --db URL --inputs FILE

and prints one JSON line. Like for like:

- the documents are the text our BM25 indexes (``document_text``: title twice, authors,
  abstracts), read from the benchmark's database before the clock starts;
- every engine is given the same analysed terms: ours analyses as it indexes
  (``LexicalBuilder.add_text``); tantivy and bm25s get our ``Analyzer``'s folded, stemmed
  terms (tantivy through its whitespace tokenizer, bm25s as token lists), and that analysis
  is inside their build time too;
- BM25 with k1 1.2, b 0.75 and Lucene's idf in all three, in memory, one indexing thread;
- a query is our analysed terms of the text, ORed, top 10, one thread, analysis included in
  the time; the engine's own document handles are timed (ids are looked up afterwards);
- peak RSS is the process's VmHWM at the end, ``base`` its resident memory once the texts
  are loaded (Python, numpy and the texts: the same for every engine).

tantivy and bm25s are optional (``pip install 'paperbot[bench]'``): a peer not installed is
skipped with a note.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import baselines, measure
from bot.search.analysis import Analyzer, analyze
from bot.search.engine import document_text
from bot.search.lexical import LexicalBuilder, LexicalIndex
from bot.store import open_store

K1, B = 1.2, 0.75
# engine -> the distribution that must be installed for it (None: always there)
ENGINES: dict[str, str | None] = {"ours": None, "tantivy": "tantivy", "bm25s": "bm25s"}
INSTALL = "pip install 'paperbot[bench]'"


def query_terms(text: str) -> list[str]:
    """A query's analysed terms, each once (no spelling correction: the same terms for all)."""
    return list(dict.fromkeys(analyze(text)))


class Ours:
    """Our BM25 index alone (``bot.search.lexical``), as ``build_engine`` makes the body index."""

    def build(self, texts: list[str]) -> None:
        builder = LexicalBuilder()
        for text in texts:
            builder.add_text(text)
        self.index: LexicalIndex = builder.finish()

    def top(self, terms: list[str], k: int = 10) -> list[int]:
        found = self.index.top(terms, k)
        return sorted(found, key=found.__getitem__, reverse=True)

    def rows(self, hits: list[int]) -> list[int]:
        return hits


class Tantivy:
    def build(self, texts: list[str]) -> None:
        import tantivy

        analyzer = Analyzer()
        schema = tantivy.SchemaBuilder()
        schema.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        schema.add_unsigned_field("row", stored=True)
        self.schema = schema.build()
        self.index = tantivy.Index(self.schema)  # in memory, as ours and bm25s
        writer = self.index.writer(128_000_000, 1)
        for row, text in enumerate(texts):
            writer.add_document(tantivy.Document(body=" ".join(analyzer(text)), row=row))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.tantivy = tantivy

    def top(self, terms: list[str], k: int = 10) -> list[Any]:
        t = self.tantivy
        query = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(self.schema, "body", term)) for term in terms]
        )
        return [address for _, address in self.searcher.search(query, k, count=False).hits]

    def rows(self, hits: list[Any]) -> list[int]:
        return [int(self.searcher.doc(address)["row"][0]) for address in hits]


class BM25S:
    def build(self, texts: list[str]) -> None:
        import bm25s

        analyzer = Analyzer()
        corpus = [analyzer(text) for text in texts]
        self.retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        self.retriever.index(corpus, show_progress=False)

    def top(self, terms: list[str], k: int = 10) -> list[int]:
        if not terms:
            return []
        docs, scores = self.retriever.retrieve([terms], k=k, show_progress=False, n_threads=0)
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def rows(self, hits: list[int]) -> list[int]:
        return hits


def version(engine: str) -> str:
    return importlib.metadata.version(ENGINES[engine] or "paperbot")


def installed(engine: str) -> bool:
    module = ENGINES[engine]
    return module is None or importlib.util.find_spec(module) is not None


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure_engine(engine: str, url: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Build ``engine`` over the database's papers, time its queries, score the dev questions."""
    store = open_store(url)
    ids, texts = [], []
    for paper in store.iter_papers():
        ids.append(paper.id)
        texts.append(document_text(paper))
    store.close()
    base = resident_mb()
    index = {"ours": Ours, "tantivy": Tantivy, "bm25s": BM25S}[engine]()
    start = time.perf_counter()
    index.build(texts)
    build_s = time.perf_counter() - start
    del texts
    queries: list[str] = inputs["queries"]
    latency = measure.time_calls(lambda q: index.top(query_terms(q)), queries, warmup=10)
    quality = baselines.hit_rate(
        lambda q: [ids[r] for r in index.rows(index.top(query_terms(q)))],
        inputs["questions"],
        inputs["gold_ids"],
    )
    return {
        "engine": engine,
        "version": version(engine),
        "docs": len(ids),
        "build_s": round(build_s, 2),
        "docs_per_s": round(len(ids) / build_s, 1) if build_s > 0 else 0.0,
        "base_rss_mb": base,
        "peak_rss_mb": measure.peak_rss_mb(),
        "bm25_ms": latency,
        "quality": quality,
    }


def run_peers(
    url: str,
    queries: list[str],
    questions: list[dict[str, Any]],
    gold_ids: dict[str, str],
    work: Path,
) -> dict[str, Any]:
    """Each engine in a fresh process (its own peak memory); peers not installed are skipped."""
    path = work / "peer-inputs.json"
    path.write_text(json.dumps({"queries": queries, "questions": questions, "gold_ids": gold_ids}))
    out: dict[str, Any] = {"engines": {}, "skipped": {}}
    for engine in ENGINES:
        if not installed(engine):
            out["skipped"][engine] = f"not installed ({INSTALL})"
            continue
        print(f"benchmark: peer {engine} ...", file=sys.stderr, flush=True)
        command = [sys.executable, "-m", "benchmarks.peers", "--engine", engine, "--db", url]
        done = subprocess.run([*command, "--inputs", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            out["skipped"][engine] = f"failed: {last[:200]}"
            continue
        out["engines"][engine] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=list(ENGINES), required=True)
    parser.add_argument("--db", required=True, help="database URL (sqlite:///... or postgresql://...)")
    parser.add_argument("--inputs", type=Path, required=True, help="JSON: queries, questions, gold_ids")
    args = parser.parse_args()
    inputs = json.loads(args.inputs.read_text())
    print(json.dumps(measure_engine(args.engine, args.db, inputs)))


if __name__ == "__main__":
    main()
