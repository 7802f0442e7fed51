"""Full texts at library scale (#21), measured:

    python -m benchmarks.fulltext --papers 100000 --texts 1000 [--pdfs 5] [--work DIR] [--out FILE]

A library of ``papers`` synthetic papers (benchmarks/corpus.py, plus the bundled seeds) is
ingested; ``texts`` of them get a synthetic arXiv-style HTML body (LaTeXML markup: numbered
sections and subsections of paragraphs whose words are drawn from the seeds' own word stream),
every body stating hyperparameters in the same words with common values, and
``FACTS`` of them one planted fact unique to that paper ("we use a batch size of 384 and a
learning rate of 3e-5"). A few of the bodies are also rendered as PDFs (reportlab).

Reported: parse speed (PDF pages/s; HTML MB/s, papers/s and pages/s counting the pages the same
text fills in the PDFs), the passage index's build time, load time and size on disk, query
latency p50/p95 of general body questions (the passage index alone, and the whole ``ask``), and
hit@1 over the planted facts' questions (the right paper's right passage first; the questions
are written to ``benchmarks/fulltext_questions.jsonl``), plus the WARP PDF / Gemma 2 HTML
fixtures' questions from tests/test_fulltext.py. The service runs without the embedder (the
paper index builds in minutes, not tens of minutes, on 2 cores); answers from bodies do not use it.
Results go to ``--out`` (JSON) and standard output (a markdown table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import workload
from benchmarks.corpus import synthetic_papers
from bot.fulltext import parse_document
from bot.models import Paper
from bot.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "benchmarks" / "fulltext_questions.jsonl"
FACTS = 50  # planted facts, one paper each
SECTIONS = ["Introduction", "Related work", "Method", "Experimental setup", "Results", "Conclusion"]
COMMON = {
    "bs": [32, 64, 128, 256, 512, 1024],
    "lr": ["1e-4", "3e-4", "1e-5", "5e-5", "2e-5", "1e-3"],
    "dropout": ["0.1", "0.2", "0.3", "0.0"],
    "wd": ["0.01", "0.1", "0.05", "0.0"],
    "chips": [8, 16, 32, 64, 128, 256],
    "hw": ["A100 GPUs", "H100 GPUs", "TPUv4 chips", "V100 GPUs"],
    "days": [1, 2, 3, 5, 7, 14],
    "buffer": ["100000", "1000000", "50000"],
    "gamma": ["0.99", "0.95", "0.9"],
}
# Planted values no common sentence uses (many of each, so that most planted values are one
# paper's alone): each fact (two or three values) is one paper's.
RARE = {
    "bs": [str(b) for b in range(40, 4000, 24) if b not in COMMON["bs"]],
    "lr": [f"{m}e-{e}" for m in range(1, 10) for e in range(4, 8) if f"{m}e-{e}" not in COMMON["lr"]],
    "dropout": [f"0.{d:02d}" for d in range(1, 50) if d % 10],
    "wd": [f"0.{d:03d}" for d in range(1, 100, 3)],
    "chips": [str(c) for c in range(12, 8000, 36)],
    "hw": ["TPUv5p chips", "MI250 accelerators", "TPUv3 pods", "L40 GPUs", "Gaudi2 accelerators"],
    "days": [str(d) for d in range(9, 90, 2)],
    "buffer": [str(b * 10000) for b in range(2, 300, 7)],
    "gamma": [f"0.9{d:02d}" for d in range(1, 100, 2) if d not in (0, 50)],
}
TEMPLATES = [
    # (the body's sentence, a question someone asks about it, in other words)
    (
        "We use a batch size of {bs} and a learning rate of {lr} for all runs.",
        "which paper trains with batch size {bs} and learning rate {lr}?",
    ),
    (
        "Training runs on {chips} {hw} for {days} days.",
        "what was trained on {chips} {hw} for {days} days?",
    ),
    (
        "We set the dropout rate to {dropout} and the weight decay to {wd}.",
        "which work sets dropout to {dropout} with weight decay {wd}?",
    ),
    (
        "The replay buffer holds {buffer} transitions and the discount factor is {gamma}.",
        "which agent uses a replay buffer of {buffer} transitions and a discount of {gamma}?",
    ),
]
# One value alone, asked in other words: every body states these settings with common values, so
# only the planted number tells the paper (asked only of a value one planted fact has).
FIELDS = {
    "bs": "a batch size of",
    "lr": "a learning rate of",
    "dropout": "a dropout rate of",
    "wd": "a weight decay of",
    "buffer": "a replay buffer of",
    "gamma": "a discount factor of",
    "days": "a training time in days of",
}
FIXTURE_QUESTIONS = [  # facts of tests/test_fulltext.py's WARP PDF and Gemma 2 HTML, no paper named
    ("what batch size and learning rate were used to train the policies?", "WARP", "batch size of 128"),
    ("how many TPUv5p chips were used for training?", "Gemma 2", "6144 chips"),
    ("what is the coefficient of the KL regularization in all runs?", "WARP", "KL regularization is 0.05"),
    ("how many TPU v5e chips were used with a learning rate of 1e-6?", "WARP", "64 TPU v5e chips"),
    ("what configuration of TPUv5p trained the 27B model?", "Gemma 2", "8x24x32"),
]


@dataclass
class Fact:
    paper: Paper
    sentence: str
    question: str
    values: dict[str, str]
    kind: str = "both values"


class Bodies:
    """Synthetic paper bodies: sentences drawn from the seeds' word stream (their own frequencies)."""

    def __init__(self, seed: int = 11) -> None:
        self.words = [w for w in workload.seed_vocabulary() if len(w) > 1 or w == "a"]
        self.rng = np.random.default_rng(seed)

    def sentence(self) -> str:
        n = int(self.rng.integers(12, 26))
        picked = [self.words[i] for i in self.rng.integers(0, len(self.words), n)]
        return " ".join(picked).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(int(self.rng.integers(3, 7))))

    def common_fact(self) -> str:
        sentence, _ = TEMPLATES[int(self.rng.integers(len(TEMPLATES)))]
        values = {k: v[int(self.rng.integers(len(v)))] for k, v in COMMON.items()}
        return sentence.format(**values)

    def sections(self, fact: str | None) -> list[tuple[str, list[tuple[str | None, list[str]]]]]:
        """[(section, [(subsection or None, paragraphs)])]: the fact, if any, in the setup."""
        out: list[tuple[str, list[tuple[str | None, list[str]]]]] = []
        for name in SECTIONS:
            parts: list[tuple[str | None, list[str]]] = []
            for sub in range(int(self.rng.integers(1, 3))):
                paragraphs = [self.paragraph() for _ in range(int(self.rng.integers(2, 5)))]
                if name == "Experimental setup" and sub == 0:
                    paragraphs.insert(1, f"{self.sentence()} {self.common_fact()} {self.sentence()}")
                    if fact:
                        paragraphs.insert(2, f"{self.sentence()} {fact} {self.sentence()}")
                parts.append((f"Part {sub + 1}" if sub else None, paragraphs))
            out.append((name, parts))
        return out


def latexml_html(paper: Paper, sections: list[tuple[str, list[tuple[str | None, list[str]]]]]) -> str:
    """The body as arXiv's LaTeXML HTML: sections and subsections with their anchors."""
    out = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(paper.label)}</title>'
        f'<link rel="canonical" href="https://arxiv.org/html/{paper.arxiv_id}v1"></head><body>'
        f'<div class="ltx_page_main"><article class="ltx_document"><h1 class="ltx_title ltx_title_document">'
        f'{html.escape(paper.label)}</h1><div class="ltx_abstract"><h6 class="ltx_title">Abstract</h6>'
        f'<p class="ltx_p">{html.escape(paper.abstract)}</p></div>'
    ]
    for n, (name, parts) in enumerate(sections, 1):
        out.append(
            f'<section id="S{n}" class="ltx_section"><h2 class="ltx_title ltx_title_section">'
            f'<span class="ltx_tag ltx_tag_section">{n} </span>{name}</h2>'
        )
        for m, (sub, paragraphs) in enumerate(parts, 1):
            anchor = f"S{n}" if sub is None else f"S{n}.SS{m}"
            if sub is not None:
                out.append(
                    f'<section id="{anchor}" class="ltx_subsection"><h3 class="ltx_title ltx_title_subsection">'
                    f'<span class="ltx_tag ltx_tag_subsection">{n}.{m} </span>{sub}</h3>'
                )
            for i, text in enumerate(paragraphs, 1):
                out.append(
                    f'<div id="{anchor}.p{i}" class="ltx_para"><p class="ltx_p">{html.escape(text)}</p></div>'
                )
            if sub is not None:
                out.append("</section>")
        out.append("</section>")
    out.append("</article></div></body></html>")
    return "".join(out)


def pdf_bytes(paper: Paper, sections: list[tuple[str, list[tuple[str | None, list[str]]]]]) -> bytes:
    """The same body as a PDF (reportlab, a test dependency): numbered headings, justified text."""
    import io

    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    body = ParagraphStyle(
        "b", fontName="Times-Roman", fontSize=10, leading=12, alignment=TA_JUSTIFY, spaceAfter=6
    )
    h1 = ParagraphStyle("h1", fontName="Times-Bold", fontSize=12, leading=14, spaceBefore=8, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName="Times-Bold", fontSize=10, leading=12, spaceBefore=6, spaceAfter=4)
    title = ParagraphStyle("t", fontName="Times-Bold", fontSize=16, leading=20, spaceAfter=12)
    story = [
        Paragraph(html.escape(paper.label), title),
        Paragraph("Abstract", h1),
        Paragraph(html.escape(paper.abstract), body),
    ]
    for n, (name, parts) in enumerate(sections, 1):
        story.append(Paragraph(f"{n} {name}", h1))
        for m, (sub, paragraphs) in enumerate(parts, 1):
            if sub is not None:
                story.append(Paragraph(f"{n}.{m} {sub}", h2))
            story += [Paragraph(html.escape(p), body) for p in paragraphs]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=letter).build(story)
    return out.getvalue()


def plant(rng: random.Random, used: set[tuple[str, ...]]) -> tuple[str, str, dict[str, str]]:
    """A fact no other paper states (its values drawn from the rare ones, the pair unused)."""
    while True:
        sentence, question = TEMPLATES[rng.randrange(len(TEMPLATES))]
        values = {k: str(rng.choice(v)) for k, v in RARE.items()}
        fields = tuple(k for k in RARE if "{" + k + "}" in sentence)
        signature = (sentence, *(values[k] for k in fields))
        if signature not in used:
            used.add(signature)
            return sentence.format(**values), question.format(**values), {k: values[k] for k in fields}


def single_value_questions(facts: list[Fact]) -> list[Fact]:
    """For each fact with a value no other fact has (in a field of ``FIELDS``), a question
    giving that value alone: "which paper uses a dropout rate of 0.13?"."""
    seen: dict[tuple[str, str], int] = {}
    for fact in facts:
        for item in fact.values.items():
            seen[item] = seen.get(item, 0) + 1
    out = []
    for fact in facts:
        unique = [(k, v) for k, v in fact.values.items() if k in FIELDS and seen[(k, v)] == 1]
        if unique:
            k, v = unique[0]
            question = f"which paper uses {FIELDS[k]} {v}?"
            out.append(Fact(fact.paper, fact.sentence, question, {k: v}, "one value"))
    return out


def text_papers(n: int, m: int) -> Iterator[Paper]:
    """``m`` of the ``n`` synthetic papers, evenly spread."""
    step = max(1, n // max(1, m))
    for i, paper in enumerate(synthetic_papers(n, seed=7, vocabulary=workload.seed_vocabulary())):
        if i % step == 0 and i // step < m:
            yield paper


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def run(papers: int, texts: int, pdfs: int, work: Path) -> dict[str, object]:
    from bot.fulltext import library_passages, passage_rows
    from bot.fulltext.index import PassageIndexes, passage_folder
    from bot.ingest.pipeline import ingest_paths
    from bot.service import PaperService
    from bot.store.fulltext import FulltextDoc

    result: dict[str, object] = {
        "date": dt.date.today().isoformat(),
        "papers": papers,
        "texts": texts,
        "load_average": os.getloadavg()[0],
        "cores": os.cpu_count(),
    }
    db = work / "library.db"
    snapshot = work / "snapshot.jsonl"
    started = time.perf_counter()
    workload.write_snapshot(snapshot, papers)
    with SQLiteStore(db) as store:
        ingest_paths(store, [snapshot, ROOT / "seeds"])
    result["ingest_s"] = round(time.perf_counter() - started, 1)
    print(f"ingested {papers} papers in {result['ingest_s']} s", file=sys.stderr)

    bodies, rng = Bodies(), random.Random(13)
    chosen = list(text_papers(papers, texts))
    planted_at = set(rng.sample(range(len(chosen)), min(FACTS, len(chosen))))
    facts: list[Fact] = []
    used: set[tuple[str, ...]] = set()
    html_seconds = html_bytes = 0.0
    pdf_pages = pdf_seconds = 0.0
    pdf_chars = 0
    html_chars_parsed = 0
    with SQLiteStore(db) as store:
        for i, synthetic in enumerate(chosen):
            stored = store.find_by_arxiv_id(synthetic.arxiv_id or "")
            assert stored is not None, synthetic.arxiv_id
            paper = stored
            fact = question = None
            values: dict[str, str] = {}
            if i in planted_at:
                fact, question, values = plant(rng, used)
            sections = bodies.sections(fact)
            data = latexml_html(paper, sections).encode()
            t0 = time.perf_counter()
            parsed = parse_document(data)
            html_seconds += time.perf_counter() - t0
            html_bytes += len(data)
            html_chars_parsed += sum(len(b.text) for b in parsed.blocks)
            rows = passage_rows(paper.id, parsed)
            doc = FulltextDoc(
                paper.id, parsed.kind, hashlib.sha256(data).hexdigest(), None, None, "synthetic.html"
            )
            store.fulltext.replace(paper.id, doc, rows)  # as ``attach`` stores it, the parse timed alone
            if fact and question:
                facts.append(Fact(paper, fact, question, values))
            if i < pdfs:
                data = pdf_bytes(paper, sections)
                t0 = time.perf_counter()
                parsed_pdf = parse_document(data)
                pdf_seconds += time.perf_counter() - t0
                pdf_pages += parsed_pdf.pages or 0
                pdf_chars += sum(len(b.text) for b in parsed_pdf.blocks)
        passages_stored = sum(1 for _ in store.fulltext.iter_passages())
    chars_per_page = pdf_chars / pdf_pages if pdf_pages else float("nan")
    result["parse"] = {
        "pdf_files": pdfs,
        "pdf_pages": int(pdf_pages),
        "pdf_pages_per_s": round(pdf_pages / pdf_seconds, 1) if pdf_seconds else None,
        "html_files": len(chosen),
        "html_mb": round(html_bytes / 1e6, 1),
        "html_mb_per_s": round(html_bytes / 1e6 / html_seconds, 2),
        "html_papers_per_s": round(len(chosen) / html_seconds, 1),
        # the pages the same text fills as a PDF (characters per page measured on the PDFs above)
        "html_pages_per_s": round(html_chars_parsed / chars_per_page / html_seconds, 1)
        if pdf_pages
        else None,
        "passages_stored": passages_stored,
    }
    print(f"parsed: {result['parse']}", file=sys.stderr)
    facts += single_value_questions(facts)
    QUESTIONS.write_text(
        "".join(
            json.dumps(
                {
                    "q": f.question,
                    "kind": f.kind,
                    "arxiv_id": f.paper.arxiv_id,
                    "paper_id": f.paper.id,
                    "fact": f.sentence,
                }
            )
            + "\n"
            for f in facts
        ),
        encoding="utf-8",
    )

    with SQLiteStore(db) as store:
        t0 = time.perf_counter()
        index = PassageIndexes(store).current()
        build_s = time.perf_counter() - t0
        assert index is not None
        folder = passage_folder(store.index_folder())
        assert folder is not None
        t0 = time.perf_counter()
        loaded = PassageIndexes(store).current()  # another process: the saved one, mapped
        load_s = time.perf_counter() - t0
        assert loaded is not None
        result["index"] = {
            "passages": index.size,
            "build_s": round(build_s, 2),
            "load_s": round(load_s, 3),
            "disk_mb": round(folder_mb(folder), 1),
            "vocabulary": len(index.lexical.vocab),
        }
        print(f"passage index: {result['index']}", file=sys.stderr)

        # The passage index alone: the planted questions, every one several times.
        search_ms: list[float] = []
        hits: dict[str, list[bool]] = {}
        for fact in facts:
            for repeat in range(5):
                t0 = time.perf_counter()
                found = library_passages(store, loaded, fact.question, k=1)
                search_ms.append((time.perf_counter() - t0) * 1000)
                if repeat == 0:
                    hits.setdefault(fact.kind, []).append(
                        bool(found)
                        and found[0].passage.paper_id == fact.paper.id
                        and fact.sentence in found[0].passage.text
                    )

        # The whole ask (the paper index built first, not timed with the questions).
        service = PaperService(store, embedder=False)
        t0 = time.perf_counter()
        service.engine  # noqa: B018
        result["paper_index_s"] = round(time.perf_counter() - t0, 1)
        print(f"paper index: {result['paper_index_s']} s", file=sys.stderr)
        ask_ms: list[float] = []
        ask_hits: dict[str, list[bool]] = {}
        misses = []
        for fact in facts:
            t0 = time.perf_counter()
            answer = service.ask(fact.question)
            ask_ms.append((time.perf_counter() - t0) * 1000)
            right = (
                answer.answered
                and answer.hits[0].paper.id == fact.paper.id
                and bool(answer.passages)
                and fact.sentence in answer.passages[0].text
            )
            ask_hits.setdefault(fact.kind, []).append(right)
            if not right:
                misses.append(
                    {
                        "q": fact.question,
                        "answered": answer.answered,
                        "got": answer.hits[0].paper.id if answer.hits else None,
                        "passage": answer.passages[0].text[:160] if answer.passages else None,
                    }
                )
        for fact in facts[:20]:  # warm: a second time
            t0 = time.perf_counter()
            service.ask(fact.question)
            ask_ms.append((time.perf_counter() - t0) * 1000)
        result["queries"] = {
            "questions": len(facts),
            "passage_search_p50_ms": round(pct(search_ms, 50), 2),
            "passage_search_p95_ms": round(pct(search_ms, 95), 2),
            "ask_p50_ms": round(pct(ask_ms, 50), 1),
            "ask_p95_ms": round(pct(ask_ms, 95), 1),
            "by_kind": {kind: len(v) for kind, v in hits.items()},
            "passage_hit_at_1": {kind: round(sum(v) / len(v), 3) for kind, v in hits.items()},
            "ask_hit_at_1": {kind: round(sum(v) / len(v), 3) for kind, v in ask_hits.items()},
            "ask_misses": misses[:10],
        }
        result["fixtures"] = fixtures(store, service, work)
    return result


def fixtures(store: SQLiteStore, service: object, work: Path) -> dict[str, object]:
    """hit@1 of questions naming no paper on tests/test_fulltext.py's WARP PDF and Gemma 2 HTML,
    attached in this library (skipped when the tests are not importable)."""
    try:
        from tests.test_fulltext import BATCH_FACT, FILLER, GEMMA_HTML, KL_FACT, build_pdf
    except ImportError as exc:
        return {"skipped": str(exc)}
    from bot.fulltext import attach
    from bot.service import PaperService

    assert isinstance(service, PaperService)
    sections = [
        ("1 Introduction", [FILLER * 6, FILLER * 5]),
        ("2 Related work", [FILLER * 7]),
        ("3 Method", [FILLER * 4, "We average the weights of the policies along the fine-tuning run."]),
        ("4 Experimental setup", [FILLER * 3, BATCH_FACT]),
        ("5 Conclusion", [FILLER * 2]),
    ]
    pdf = build_pdf(work / "warp.pdf", sections, [("A Hyperparameters", [KL_FACT])])
    named = {"WARP": service.paper("WARP"), "Gemma 2": service.paper("Gemma 2")}
    attach(store, named["WARP"], pdf.read_bytes(), source="warp.pdf")
    attach(store, named["Gemma 2"], GEMMA_HTML.encode(), source="gemma2.html")
    right = 0
    rows = []
    for question, ref, says in FIXTURE_QUESTIONS:
        answer = service.ask(question)
        ok = bool(answer.hits) and answer.hits[0].paper.id == named[ref].id and bool(answer.passages)
        ok = ok and says in answer.passages[0].text
        right += ok
        rows.append({"q": question, "ok": ok})
    return {"questions": len(rows), "hit_at_1": round(right / len(rows), 3), "rows": rows}


def table(r: dict[str, object]) -> str:
    p, i, q, f = r["parse"], r["index"], r["queries"], r["fixtures"]
    assert isinstance(p, dict) and isinstance(i, dict) and isinstance(q, dict) and isinstance(f, dict)

    def hit(kind: str) -> str:
        return (
            f"{q['passage_hit_at_1'].get(kind)} / {q['ask_hit_at_1'].get(kind)} ({q['by_kind'].get(kind, 0)})"
        )

    return "\n".join(
        [
            "| papers | texts | passages | PDF pages/s | HTML MB/s (pages/s) | index build | index load | index on disk "
            "| passage search p50 / p95 | ask p50 / p95 | hit@1 index / ask: fact | : one value | fixtures (ask) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {r['papers']:,} | {r['texts']:,} | {i['passages']:,} | {p['pdf_pages_per_s']} "
            f"| {p['html_mb_per_s']} ({p['html_pages_per_s']}) | {i['build_s']} s | {i['load_s']} s | {i['disk_mb']} MB "
            f"| {q['passage_search_p50_ms']} / {q['passage_search_p95_ms']} ms | {q['ask_p50_ms']} / {q['ask_p95_ms']} ms "
            f"| {hit('both values')} | {hit('one value')} | {f.get('hit_at_1')} ({f.get('questions')}) |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--pdfs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "fulltext.json")
    args = parser.parse_args()
    os.environ.setdefault("PAPERBOT_LOG_LEVEL", "WARNING")
    work = args.work or Path(tempfile.mkdtemp(prefix="paperbot-fulltext-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        result = run(args.papers, args.texts, args.pdfs, work)
        result["total_s"] = round(time.perf_counter() - started, 1)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
