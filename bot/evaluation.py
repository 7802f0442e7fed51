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

from bot.models import Answer, Paper, SearchHit, author_key
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
    # Requests phrased as people type them: passed/total per kind, and whether the bot answered
    # when it should have (precision/recall of ``answered`` over the rows that say).
    dialogue: dict[str, tuple[int, int]] = Field(default_factory=dict)
    answered_n: int = 0  # requests that say whether a paper answers them (dev questions: all do)
    answered_precision: float | None = None
    answered_recall: float | None = None
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
        if self.dialogue:
            passed = sum(p for p, _ in self.dialogue.values())
            total = sum(n for _, n in self.dialogue.values())
            out.append(f"dialogue   {passed}/{total} requests meet their constraints")
            for kind, (p, n) in sorted(self.dialogue.items()):
                out.append(f"  {kind:<12} {p}/{n}")
        if self.answered_precision is not None:
            out.append(
                f"answered   precision={self.answered_precision:.3f}  recall={self.answered_recall:.3f}"
                f"  over {self.answered_n} requests (answering when a paper answers; abstaining otherwise)"
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


def evaluate_questions(
    service: PaperService, rows: Iterable[dict[str, Any]], report: EvalReport
) -> list[tuple[bool, bool]]:
    """hit@1 and MRR@10 per kind; returns (answered, True) per question: each has a paper that answers."""
    per_kind: dict[str, list[int | None]] = defaultdict(list)
    answered = []
    for row in rows:
        if "author" in row or "kind" not in row:
            continue
        answered.append((service.ask(row["q"]).answered, True))
        rank = rank_of(service.search(row["q"], k=10), row["gold"])
        per_kind[row["kind"]].append(rank)
        if rank != 1:
            report.failures.append(f"question {row['q']!r}: gold at rank {rank}")
    everything = [r for ranks in per_kind.values() for r in ranks]
    report.questions = _score(everything)
    report.by_kind = {kind: _score(ranks) for kind, ranks in per_kind.items()}
    return answered


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


def check_routing(service: PaperService, row: dict[str, Any], answer: Answer | None = None) -> list[str]:
    """The constraints of one free-text request that its ``ask`` answer breaks (empty: all met).

    Fields (all optional): ``intent`` (allowed values), ``top`` / ``top_any`` (title prefixes of
    the first result), ``contains`` (title prefixes all among the results), ``not_first``,
    ``answered``, ``passage_has`` / ``text_has`` (words that must appear), ``since`` / ``until``
    (every result dated within), ``author`` (every result by them), ``topic``, ``complete`` (every
    paper fitting author, topic and dates listed), ``newest_first``, ``min``, ``similar_to``,
    ``expect_top3``.
    """
    answer = answer or service.ask(row["q"])
    data = answer.to_json()
    problems = []
    papers = [h.paper for h in answer.hits]
    labels = [key(p.label) for p in papers]
    if "intent" in row and answer.intent not in row["intent"]:
        problems.append(f"intent {answer.intent!r}, wanted {row['intent']}")
    if "answered" in row and data["answered"] != row["answered"]:
        problems.append(f"answered={data['answered']}, wanted {row['answered']}")
    tops = [row["top"]] if "top" in row else row.get("top_any", [])
    if tops and not (labels and any(labels[0].startswith(key(t)) for t in tops)):
        problems.append(f"first result {papers[0].label if papers else None!r}, wanted {tops}")
    for wanted in row.get("contains", []):
        if not any(label.startswith(key(wanted)) for label in labels):
            problems.append(f"{wanted!r} not among the results")
    if "not_first" in row and labels and labels[0].startswith(key(row["not_first"])):
        problems.append(f"{row['not_first']!r} came first")
    quoted = fold(" ".join(p["text"] for p in data["passages"]))
    for word in row.get("passage_has", []):
        if fold(word) not in quoted:
            problems.append(f"no passage says {word!r}")
    for word in row.get("text_has", []):
        if fold(word) not in fold(answer.text):
            problems.append(f"the text does not say {word!r}")
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
    if "until" in row:
        until = dt.date.fromisoformat(row["until"])
        if any(p.date is None or p.date > until for p in papers):
            problems.append("a result is too recent")
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


def request_kind(row: dict[str, Any]) -> str:
    """What a request tests, for the per-kind report."""
    if "kind" in row:
        return str(row["kind"])
    if "intent" in row:
        return str(row["intent"][0])
    if row.get("answered") is False:
        return "abstain"
    if "author" in row:
        return "author"
    if "since" in row or "until" in row:
        return "dates"
    if "passage_has" in row:
        return "passage"
    return "retrieval"


def _on_topic(paper: Paper, topics: list[str]) -> bool:
    """One of the topic words stands in the title or abstract."""
    text = fold(f"{paper.label} {paper.abstract}")
    return any(fold(t) in text for t in topics)


def _fits(paper: Paper, row: dict[str, Any]) -> bool:
    if "author" in row and author_key(row["author"]) not in {author_key(a) for a in paper.authors}:
        return False
    if "topic" in row and not _on_topic(paper, row["topic"]):
        return False
    if "since" in row and (paper.date is None or paper.date < dt.date.fromisoformat(row["since"])):
        return False
    return not ("until" in row and (paper.date is None or paper.date > dt.date.fromisoformat(row["until"])))


def evaluate(
    service: PaperService,
    questions: Path | None = None,
    authors: Path | None = None,
    routing: Path | None = None,
    dialogue: Path | None = None,
) -> EvalReport:
    report = EvalReport()
    answered: list[tuple[bool, bool]] = []  # (said, should have) per request that tells
    if questions and questions.exists():
        answered += evaluate_questions(service, load_jsonl(questions), report)
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
    if dialogue and dialogue.exists():
        answered += evaluate_dialogue(service, load_jsonl(dialogue), report)
    if answered:
        true_pos = sum(said and wanted for said, wanted in answered)
        report.answered_n = len(answered)
        report.answered_precision = true_pos / max(sum(said for said, _ in answered), 1)
        report.answered_recall = true_pos / max(sum(wanted for _, wanted in answered), 1)
    return report


def evaluate_dialogue(
    service: PaperService, rows: Iterable[dict[str, Any]], report: EvalReport
) -> list[tuple[bool, bool]]:
    """Each request's constraints, per kind; returns (answered, should have) for the rows that say."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    said, wanted = [], []
    for row in rows:
        answer = service.ask(row["q"])
        problems = check_routing(service, row, answer)
        kind = request_kind(row)
        counts[kind][0] += not problems
        counts[kind][1] += 1
        if problems:
            report.failures.append(f"dialogue [{kind}] {row['q']!r}: {'; '.join(problems)}")
        if "answered" in row:
            said.append(answer.answered)
            wanted.append(bool(row["answered"]))
    report.dialogue = {kind: (p, n) for kind, (p, n) in counts.items()}
    return list(zip(said, wanted, strict=True))
