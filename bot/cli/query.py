"""``paperbot search``, ``ask`` and ``eval``: retrieval from the command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.chat.dialogue import Dialogue, reply_to
from bot.cli.app import app, err, print_json, state
from bot.compose import build_service
from bot.config import BUNDLED_SEEDS
from bot.console.chat import ConsoleChat
from bot.console.render import render
from bot.dates import parse_date
from bot.errors import UsageError
from bot.evaluation import evaluate
from bot.service import PaperService

# The development set: beside the repository (shared/eval), else the copy the tests use.
_EVAL_DIRS = [
    BUNDLED_SEEDS.parent.parent / "shared" / "eval",
    BUNDLED_SEEDS.parent / "tests" / "fixtures" / "eval",
]


def parse_since(value: str | None, *, end: bool = False) -> dt.date | None:
    """A --since / --until value (bot.dates: 2023, 2023-05, 2023-05-17, May 2023)."""
    return parse_date(value, end=end) if value else None


def service_for(ctx: typer.Context, long_running: bool = False) -> PaperService:
    st = state(ctx)
    return build_service(st.settings, st.papers(), long_running=long_running)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="what to look for")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=200, help="number of results")] = 10,
    author: Annotated[str | None, typer.Option(help="only papers by this author")] = None,
    category: Annotated[str | None, typer.Option(help="only this arXiv category (cs.LG or LG)")] = None,
    since: Annotated[str | None, typer.Option(help="only papers from this year or date on")] = None,
    until: Annotated[str | None, typer.Option(help="only papers up to this year or date")] = None,
    batch: Annotated[
        Path | None, typer.Option(help='JSON lines file of {"q": ...} queries (- reads stdin)')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search papers: hybrid lexical, fuzzy and semantic ranking."""
    service = service_for(ctx, long_running=batch is not None and str(batch) == "-")
    options = {
        "author": author,
        "category": category,
        "since": parse_since(since),
        "until": parse_since(until, end=True),
    }
    if batch is not None:
        _search_batch(service, batch, k, options)
        return
    if query is None:
        raise UsageError("give a query, or --batch FILE")
    hits = service.search(query, k=k, **options)  # type: ignore[arg-type]
    if as_json:
        print_json([h.to_json() for h in hits])
        return
    for n, hit in enumerate(hits, 1):
        p = hit.paper
        typer.echo(
            f"{n:2d}. {p.label}  [{p.date or 'undated'} · {', '.join(p.authors[:3])}]  {hit.score:.4f}"
        )
    if not hits:
        typer.echo("no results")


BATCH_KEYS = frozenset({"q", "k"})


def _search_batch(service: PaperService, path: Path, k: int, options: dict) -> None:  # type: ignore[type-arg]
    """One JSON line out per line in, each flushed as soon as it is answered (``-``: stdin, so a
    script can drive one long-running process); malformed lines are reported and make exit 1."""
    if str(path) != "-" and not path.is_file():
        raise UsageError(f"{path}: no such file")
    name = "stdin" if str(path) == "-" else path.name
    bad = 0
    with contextlib.ExitStack() as stack:
        lines = sys.stdin if str(path) == "-" else stack.enter_context(path.open(encoding="utf-8"))
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                q, row_k = _batch_row(line, k)
            except (ValueError, TypeError) as exc:
                bad += 1
                err.print(f"{name}:{number}: {exc}", markup=False, highlight=False)
                continue
            hits = service.search(q, k=row_k, **options)
            print_json({"q": q, "results": [h.to_json() for h in hits]})
            sys.stdout.flush()
    if bad:
        raise typer.Exit(1)


def _batch_row(line: str, k: int) -> tuple[str, int]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON line ({exc.msg})") from exc
    if not isinstance(row, dict) or not isinstance(row.get("q"), str):
        raise ValueError('expected a JSON object with "q"')
    unknown = sorted(set(row) - BATCH_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (a line takes q and k)")
    row_k = row.get("k", k)
    if not isinstance(row_k, int) or not 1 <= row_k <= 200:
        raise ValueError('"k" must be a whole number from 1 to 200')
    return row["q"], row_k


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="a question, title, acronym, or 'papers by NAME'")],
    as_json: Annotated[
        bool, typer.Option("--json", help="print {intent, text, passages, results, answered}")
    ] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="print the Discord markdown reply")] = False,
) -> None:
    """Answer a free-text request with the passages that answer it and links."""
    service = service_for(ctx)
    answer = service.ask(question)
    if as_json:
        print_json(answer.to_json())
    elif markdown:
        typer.echo(answer.text)
    else:  # as the console chat prints it: styled on a terminal, plain text in a pipe
        ConsoleChat(Dialogue(service), interactive=False).print_lines(render(reply_to(answer)))
    sys.stdout.flush()
    service.record_asked(answer)  # after the answer is out: a busy database does not hold it up


@app.command("eval")
def evaluate_command(
    ctx: typer.Context,
    questions: Annotated[
        Path | None, typer.Option(help="questions JSONL (default: dev_questions.jsonl)")
    ] = None,
    authors: Annotated[
        Path | None, typer.Option(help="author queries JSONL (default: dev_authors.jsonl)")
    ] = None,
    routing: Annotated[
        Path | None, typer.Option(help="routing checks JSONL (default: dev_routing.jsonl)")
    ] = None,
    dialogue: Annotated[
        Path | None, typer.Option(help="requests as people type them, JSONL (default: dev_dialogue.jsonl)")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list every miss")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Evaluate retrieval: hit@1, MRR@10, author precision/recall, routing and dialogue constraints,
    precision/recall of answering."""
    folder = next((d for d in _EVAL_DIRS if d.is_dir()), _EVAL_DIRS[-1])
    report = evaluate(
        service_for(ctx),
        questions or folder / "dev_questions.jsonl",
        authors or folder / "dev_authors.jsonl",
        routing or folder / "dev_routing.jsonl",
        dialogue or folder / "dev_dialogue.jsonl",
    )
    if as_json:
        print_json(report.model_dump())
        return
    if verbose:
        for failure in report.failures:
            typer.echo(f"miss: {failure}")
    for line in report.lines():
        typer.echo(line)
