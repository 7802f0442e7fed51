"""``paperbot fetch``: new papers from arXiv into the store (API search or daily RSS listings)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Annotated

import typer

from bot.cli.app import app, err, print_json, state
from bot.compose import arxiv_client
from bot.errors import UsageError
from bot.ingest.arxiv import build_query
from bot.ingest.pipeline import ingest_items
from bot.ingest.seeds import ParsedPaper
from bot.models import Skipped


@app.command()
def fetch(
    ctx: typer.Context,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="arXiv category, e.g. cs.LG (repeatable)")
    ] = None,
    author: Annotated[list[str] | None, typer.Option("--author", help="author name (repeatable)")] = None,
    query: Annotated[str | None, typer.Option("--query", help="words anywhere in the paper")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="submitted in the last N days")] = 2,
    rss: Annotated[
        bool, typer.Option("--rss", help="read today's RSS listing of each --category instead")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="at most this many results")] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Pull new papers from arXiv (one request every 3 s) and print what is new."""
    st = state(ctx)
    if rss and not category:
        raise UsageError("--rss reads per-category listings: give at least one --category")
    if not (category or author or query):
        raise UsageError("say what to fetch: --category, --author and/or --query")
    settings = st.settings
    client = arxiv_client(settings)
    try:
        items: Iterator[ParsedPaper | Skipped]
        if rss:
            items = itertools.chain.from_iterable(client.listing(c) for c in category or [])
            sources = [f"rss-{c}" for c in category or []]
        else:
            since = dt.date.today() - dt.timedelta(days=days)
            items = client.search(build_query(category, author, query, since), max_results=limit, since=since)
            sources = ["arxiv-api"]
        # Everything is fetched before the one write transaction: a slow or broken fetch never
        # holds the database's write lock, and a kill while fetching leaves nothing half-done.
        report = ingest_items(st.store, list(items), sources)
    finally:
        client.close()
    new = st.store.get_papers(report.new_ids)
    if as_json:
        print_json(
            {
                **report.model_dump(exclude={"new_ids", "skipped"}),
                "skipped": [str(s) for s in report.skipped],
                "new": [
                    {
                        "id": p.id,
                        "arxiv_id": p.arxiv_id,
                        "title": p.label,
                        "date": p.date.isoformat() if p.date else None,
                    }
                    for p in new
                ],
            }
        )
    else:
        for skipped in report.skipped:
            err.print(f"skipped {skipped}", markup=False, highlight=False)
        for paper in new:
            typer.echo(f"new  {paper.arxiv_id or paper.id}  {paper.date or '----------'}  {paper.label}")
        typer.echo(report.summary())
