"""``paperbot search``, ``ask`` and ``eval``: retrieval from the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app, err, print_json, state
from bot.config import BUNDLED_SEEDS, Settings
from bot.errors import UsageError
from bot.evaluation import evaluate
from bot.rewrite import AnswerRewriter
from bot.service import PaperService

# The development set: beside the repository (shared/eval), else the copy the tests use.
_EVAL_DIRS = [
    BUNDLED_SEEDS.parent.parent / "shared" / "eval",
    BUNDLED_SEEDS.parent / "tests" / "fixtures" / "eval",
]


def _since(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date(int(value), 1, 1) if value.isdigit() else dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--since takes YYYY or YYYY-MM-DD, not {value!r}") from exc


def service_for(ctx: typer.Context) -> PaperService:
    st = state(ctx)
    if st.store.count_papers() == 0:  # first run: load the bundled demo corpus
        from bot.ingest.pipeline import ingest_paths

        ingest_paths(st.store, [st.settings.seeds_dir])
    return PaperService(
        st.store,
        embedder=st.settings.semantic,
        rewriter=rewriter_for(st.settings),
    )


def rewriter_for(settings: Settings) -> AnswerRewriter | None:
    """The optional LLM rewriter, when an endpoint is configured."""
    if not settings.llm_base_url:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return AnswerRewriter(settings.llm_base_url, key, settings.llm_model)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="what to look for")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=200, help="number of results")] = 10,
    author: Annotated[str | None, typer.Option(help="only papers by this author")] = None,
    category: Annotated[str | None, typer.Option(help="only this arXiv category (cs.LG or LG)")] = None,
    since: Annotated[str | None, typer.Option(help="only papers from this year or date on")] = None,
    until: Annotated[str | None, typer.Option(help="only papers up to this year or date")] = None,
    batch: Annotated[Path | None, typer.Option(help='JSON lines file of {"q": ...} queries')] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search papers: hybrid lexical, fuzzy and semantic ranking."""
    service = service_for(ctx)
    until_date = _since(until)
    if until_date and until and until.isdigit():
        until_date = dt.date(int(until), 12, 31)
    options = {"author": author, "category": category, "since": _since(since), "until": until_date}
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


def _search_batch(service: PaperService, path: Path, k: int, options: dict) -> None:  # type: ignore[type-arg]
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                q = str(row["q"])
            except (ValueError, KeyError, TypeError):
                err.print(f'{path.name}:{number}: expected a JSON object with "q"', markup=False)
                continue
            hits = service.search(q, k=int(row.get("k", k)), **options)
            print_json({"q": q, "results": [h.to_json() for h in hits]})


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="a question, title, acronym, or 'papers by NAME'")],
    as_json: Annotated[bool, typer.Option("--json", help="print {intent, text, results}")] = False,
) -> None:
    """Answer a free-text request with the passages that answer it and links."""
    answer = service_for(ctx).ask(question)
    if as_json:
        print_json(answer.to_json())
    else:
        typer.echo(answer.text)


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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list every miss")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Evaluate retrieval: hit@1, MRR@10, author precision/recall, routing constraints."""
    folder = next((d for d in _EVAL_DIRS if d.is_dir()), _EVAL_DIRS[-1])
    report = evaluate(
        service_for(ctx),
        questions or folder / "dev_questions.jsonl",
        authors or folder / "dev_authors.jsonl",
        routing or folder / "dev_routing.jsonl",
    )
    if as_json:
        print_json(report.model_dump())
        return
    if verbose:
        for failure in report.failures:
            typer.echo(f"miss: {failure}")
    for line in report.lines():
        typer.echo(line)
