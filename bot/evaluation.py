"""Retrieval evaluation: hit@1 and MRR@10 on questions, precision/recall on author queries,
and the constraints of free-text routing (author, topic, dates, order, similarity)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bot.models import Paper, SearchHit, author_key
from bot.service import PaperService
from bot.text import fold, key


class KindScore(BaseModel):
    n: int = 0
    hit_at_1: float = 0.0
    mrr_at_10: float = 0.0


class EvalReport(BaseModel):
    questions: KindScore = Field(default_factory=KindScore)
    by_kind: dict[str, KindScore] = Field(default_factory=dict)
    author_precision: float | None = None
    author_recall: float | None = None
    routing_passed: int = 0
    routing_total: int = 0
    failures: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"questions  n={self.questions.n:3d}  hit@1={self.questions.hit_at_1:.3f}  MRR@10={self.questions.mrr_at_10:.3f}"
        ]
        for kind, s in sorted(self.by_kind.items()):
            out.append(f"  {kind:<12} n={s.n:3d}  hit@1={s.hit_at_1:.3f}  MRR@10={s.mrr_at_10:.3f}")
        if self.author_precision is not None:
            out.append(f"authors    precision={self.author_precision:.3f}  recall={self.author_recall:.3f}")
        if self.routing_total:
            out.append(
                f"routing    {self.routing_passed}/{self.routing_total} requests meet their constraints"
            )
        return out


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def matches_gold(paper: Paper, gold: str) -> bool:
    """A gold answer is a title, or ``abstract:<prefix>`` for an untitled paper."""
    if gold.startswith("abstract:"):
        prefix = key(gold.removeprefix("abstract:"))
        return any(key(a).startswith(prefix) for a in [paper.abstract, *paper.other_abstracts])
    return paper.title is not None and key(paper.title) == key(gold)


def rank_of(hits: list[SearchHit], golds: list[str]) -> int | None:
    for rank, hit in enumerate(hits[:10], 1):
        if any(matches_gold(hit.paper, g) for g in golds):
            return rank
    return None


def evaluate_questions(service: PaperService, rows: Iterable[dict[str, Any]], report: EvalReport) -> None:
    per_kind: dict[str, list[int | None]] = defaultdict(list)
    for row in rows:
        if "author" in row or "kind" not in row:
            continue
        rank = rank_of(service.search(row["q"], k=10), row["gold"])
        per_kind[row["kind"]].append(rank)
        if rank != 1:
            report.failures.append(f"question {row['q']!r}: gold at rank {rank}")
    everything = [r for ranks in per_kind.values() for r in ranks]
    report.questions = _score(everything)
    report.by_kind = {kind: _score(ranks) for kind, ranks in per_kind.items()}


def _score(ranks: list[int | None]) -> KindScore:
    if not ranks:
        return KindScore()
    return KindScore(
        n=len(ranks),
        hit_at_1=sum(r == 1 for r in ranks) / len(ranks),
        mrr_at_10=sum(1 / r for r in ranks if r) / len(ranks),
    )


def evaluate_authors(service: PaperService, rows: Iterable[dict[str, Any]], report: EvalReport) -> None:
    precisions, recalls = [], []
    for row in rows:
        hits = service.search(row["q"], k=10)
        got = {key(h.paper.label) for h in hits}
        gold = {key(g) for g in row["gold"]}
        precisions.append(len(got & gold) / len(got) if got else 0.0)
        recalls.append(len(got & gold) / len(gold))
        if got != gold:
            report.failures.append(
                f"author {row['q']!r}: missing {sorted(gold - got)}, extra {sorted(got - gold)}"
            )
    if precisions:
        report.author_precision = sum(precisions) / len(precisions)
        report.author_recall = sum(recalls) / len(recalls)


def check_routing(service: PaperService, row: dict[str, Any]) -> list[str]:
    """The constraints of one free-text request that its ``ask`` results break (empty: all met)."""
    hits = service.ask(row["q"]).hits
    problems = []
    papers = [h.paper for h in hits]
    if "author" in row:
        wanted = author_key(row["author"])
        if any(wanted not in {author_key(a) for a in p.authors} for p in papers):
            problems.append("a result is not by the author")
    if "topic" in row and not all(_on_topic(p, row["topic"]) for p in papers):
        problems.append("a result is off topic")
    if "since" in row:
        since = dt.date.fromisoformat(row["since"])
        if any(p.date is None or p.date < since for p in papers):
            problems.append("a result is too old")
    if row.get("newest_first") and [p.date for p in papers] != sorted(
        (p.date for p in papers), key=lambda d: d or dt.date.min, reverse=True
    ):
        problems.append("results are not newest first")
    if len(papers) < row.get("min", 0):
        problems.append(f"fewer than {row['min']} results")
    if row.get("complete"):
        every = [p for p in service.store.iter_papers() if _fits(p, row)]
        shown = {p.id for p in papers}
        if missing := [p.label for p in every if p.id not in shown]:
            problems.append(f"missing {missing}")
    if "similar_to" in row and papers and key(papers[0].label) == key(row["similar_to"]):
        problems.append("the reference paper came first")
    if "expect_top3" in row and key(row["expect_top3"]) not in {key(p.label) for p in papers[:3]}:
        problems.append(f"{row['expect_top3']!r} not in the top 3")
    return problems


def _on_topic(paper: Paper, topics: list[str]) -> bool:
    """One of the topic words stands in the title or abstract."""
    text = fold(f"{paper.label} {paper.abstract}")
    return any(fold(t) in text for t in topics)


def _fits(paper: Paper, row: dict[str, Any]) -> bool:
    if "author" in row and author_key(row["author"]) not in {author_key(a) for a in paper.authors}:
        return False
    if "topic" in row and not _on_topic(paper, row["topic"]):
        return False
    return not ("since" in row and (paper.date is None or paper.date < dt.date.fromisoformat(row["since"])))


def evaluate(
    service: PaperService,
    questions: Path | None = None,
    authors: Path | None = None,
    routing: Path | None = None,
) -> EvalReport:
    report = EvalReport()
    if questions and questions.exists():
        evaluate_questions(service, load_jsonl(questions), report)
    if authors and authors.exists():
        evaluate_authors(service, load_jsonl(authors), report)
    if routing and routing.exists():
        rows = load_jsonl(routing)
        for row in rows:
            problems = check_routing(service, row)
            if problems:
                report.failures.append(f"routing {row['q']!r}: {'; '.join(problems)}")
        report.routing_total = len(rows)
        report.routing_passed = len(rows) - sum(f.startswith("routing ") for f in report.failures)
    return report
