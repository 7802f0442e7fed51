"""The benchmark's peers (benchmarks/peers.py) and its report: what they find, not how fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import baselines, peers, run
from bot.evaluation import load_jsonl
from bot.store import SQLiteStore
from tests.conftest import FIXTURES

QUESTIONS = load_jsonl(FIXTURES / "eval" / "dev_questions.jsonl")


@pytest.fixture(scope="module")
def inputs(seeded_db: Path) -> dict[str, Any]:
    with SQLiteStore(seeded_db) as store:
        gold = baselines.gold_ids(store, QUESTIONS)
    return {"queries": [row["q"] for row in QUESTIONS[:12]], "questions": QUESTIONS, "gold_ids": gold}


def test_gold_ids_name_a_paper_for_every_dev_question(inputs: dict[str, Any]) -> None:
    assert set(inputs["gold_ids"]) == {row["q"] for row in QUESTIONS}


@pytest.mark.parametrize("engine", list(peers.ENGINES))
def test_each_engine_finds_the_dev_questions_papers(
    engine: str, seeded_db: Path, inputs: dict[str, Any]
) -> None:
    if peers.ENGINES[engine]:
        pytest.importorskip(peers.ENGINES[engine])
    out = peers.measure_engine(engine, f"sqlite:///{seeded_db}", inputs)
    assert out["engine"] == engine and out["docs"] == 53
    assert out["peak_rss_mb"] >= out["base_rss_mb"] > 0
    assert out["bm25_ms"]["n"] == 12
    # BM25 alone, the same terms in every engine: most questions' gold paper comes first.
    assert out["quality"]["hit_at_1"] >= 0.75 and out["quality"]["mrr_at_10"] >= 0.8


def test_peers_rank_as_ours_does(seeded_db: Path) -> None:
    """Same terms, same BM25 (k1, b, Lucene idf): the same first paper for the dev questions."""
    pytest.importorskip("tantivy")
    pytest.importorskip("bm25s")
    with SQLiteStore(seeded_db) as store:
        from bot.search.engine import document_text

        texts = [document_text(p) for p in store.iter_papers()]
    engines = {
        name: cls()
        for name, cls in [("ours", peers.Ours), ("tantivy", peers.Tantivy), ("bm25s", peers.BM25S)]
    }
    for index in engines.values():
        index.build(texts)
    agree = 0
    for row in QUESTIONS:
        terms = peers.query_terms(row["q"])
        firsts = {name: (e.rows(e.top(terms)) or [None])[0] for name, e in engines.items()}
        agree += len(set(firsts.values())) == 1
    assert agree >= len(QUESTIONS) - 2  # tantivy stores lengths in one byte: a near tie may flip


def test_a_peer_not_installed_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(peers, "ENGINES", {"tantivy": "no_such_module_for_paperbot"})
    out = peers.run_peers("sqlite:///unused.db", ["q"], [], {}, tmp_path)
    assert out == {"engines": {}, "skipped": {"tantivy": f"not installed ({peers.INSTALL})"}}


def _engine(docs_per_s: float, rss: float, p50: float, hit: float) -> dict[str, Any]:
    return {
        "version": "1",
        "docs_per_s": docs_per_s,
        "peak_rss_mb": rss,
        "base_rss_mb": 100.0,
        "bm25_ms": {"p50": p50, "p95": p50 * 2},
        "quality": {"hit_at_1": hit, "mrr_at_10": hit},
    }


def _result(n: int, **extra: Any) -> dict[str, Any]:
    saved = json.loads((Path(run.__file__).parent / "results.json").read_text())["results"]
    base = next(r for r in saved if r.get("backend", "sqlite") == "sqlite" and "baselines" in r)
    return {**base, "n": n, **extra}


def test_the_report_has_one_peer_table_with_ratios_and_the_skips() -> None:
    engines = {"ours": _engine(4000, 400, 0.5, 0.969), "tantivy": _engine(5000, 200, 1.0, 0.969)}
    text = run.render(
        [_result(50_000, peers={"engines": engines, "skipped": {"bm25s": "not installed (x)"}})]
    )
    assert text.count("## Peers in the same run") == 1
    assert (
        "| tantivy 1 | 5,000 | 200 (100) | 1.0 / 2.0 | 0.969 | 0.969 | 0.80 | 2.00 | 0.50 | 0.50 | 1.00 |"
        in text
    )
    assert "bm25s skipped, not installed (x)." in text


def test_the_outside_check_reads_the_50k_row_or_says_it_is_missing() -> None:
    assert "Not measured yet" in "\n".join(run.outside_check([_result(10_000)]))
    check = "\n".join(run.outside_check([_result(50_000)]))
    assert "(a) papers made searchable per second" in check and "rank_bm25" in check
    assert "(c) hit@1 of the 32 dev questions among the 50,000 distractors" in check
