"""``paperbot fulltext add|list|show|fetch``: papers' full texts (PDF or arXiv HTML), from local files
or downloaded from arXiv for the papers named, on reading lists (``--saved``) or asked about (``--asked``)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app, err, print_json, state
from bot.cli.query import service_for
from bot.errors import UsageError
from bot.fulltext.library import FullTexts
from bot.fulltext.licence import licence_name

fulltext_app = typer.Typer(
    help="Full texts: attach a paper's PDF or arXiv HTML; answers then quote its passages.",
    no_args_is_help=True,
)
app.add_typer(fulltext_app, name="fulltext")

ASKED_DAYS = 7  # --asked: the papers people asked about this week


@fulltext_app.command("add")
def fulltext_add(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="a paper id, an arXiv id or a title (typos are fine)")],
    file: Annotated[Path, typer.Argument(help="the paper's PDF, or its arXiv HTML page saved to a file")],
    as_json: Annotated[bool, typer.Option("--json", help="print what was stored as JSON")] = False,
) -> None:
    """Attach a full text to a paper (replacing an earlier one); a bad file stores nothing."""
    added = FullTexts(service_for(ctx)).add(reference, file)
    if as_json:
        print_json(added.to_json())
        return
    pages = f"{added.pages} pages, " if added.pages else ""
    typer.echo(
        f"added {added.kind.upper()} to {added.paper.label} ({added.paper.arxiv_id or added.paper.id}): "
        f"{pages}{added.passages} passages in {len(added.sections)} sections"
    )


@fulltext_app.command("list")
def fulltext_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """The papers that have a full text, most recently added first."""
    texts = FullTexts(service_for(ctx)).list()
    if as_json:
        print_json([t.to_json() for t in texts])
    elif not texts:
        typer.echo("no full texts yet: paperbot fulltext add REF FILE")
    else:
        for t in texts:
            pages = f"{t.pages} p., " if t.pages else ""
            typer.echo(
                f"{t.paper.label}  ({t.kind}, {pages}{t.passages} passages, added {t.added_at[:10]}, "
                f"licence: {licence_name(t.licence)})"
            )


@fulltext_app.command("show")
def fulltext_show(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="a paper id, an arXiv id or a title")],
    as_json: Annotated[bool, typer.Option("--json", help="print the passages as JSON")] = False,
) -> None:
    """A paper's stored passages in reading order, with section, page and link."""
    texts = FullTexts(service_for(ctx))
    paper, passages = texts.passages(reference)
    if as_json:
        print_json([p.model_dump(mode="json") for p in passages])
        return
    text = texts.get(paper)
    typer.echo(paper.label)
    url = f" ({text.licence})" if text.licence and "://" in text.licence else ""
    typer.echo(f"licence: {licence_name(text.licence)}{url}")
    if text.source:
        typer.echo(f"source: {text.source}")
    section = None
    for p in passages:
        if p.section != section:
            section = p.section
            typer.echo(f"\n## {section}")
        typer.echo(f"[p. {p.page}] {p.text}" if p.page else p.text)


@fulltext_app.command("fetch")
def fulltext_fetch(
    ctx: typer.Context,
    references: Annotated[
        list[str] | None, typer.Argument(help="papers: ids, arXiv ids or titles (each needs an arXiv id)")
    ] = None,
    saved: Annotated[bool, typer.Option("--saved", help="every paper on a reading list too")] = False,
    asked: Annotated[
        bool,
        typer.Option(
            "--asked", help="the papers people asked about in the last --days that have no full text"
        ),
    ] = False,
    days: Annotated[int, typer.Option("--days", min=1, help="how far back --asked looks")] = ASKED_DAYS,
    force: Annotated[
        bool, typer.Option("--force", help="parse and store again an unchanged download")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per paper")] = False,
) -> None:
    """Download full texts from arXiv (the HTML version, else the PDF; one request every 3 s)."""
    from bot.compose import arxiv_client
    from bot.fulltext.fetch import fetch_fulltext

    if not references and not saved and not asked:
        raise UsageError("say which papers: REF ..., --saved and/or --asked")
    st = state(ctx)
    service = service_for(ctx)
    papers = [service.paper(r) for r in references or []]  # an unknown paper stops before any download
    if saved:
        papers += st.store.get_papers(row.paper_id for row in st.store.team.reading_list())
    if asked:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        wanted = st.store.fulltext.asked_since(since)
        have = st.store.fulltext.having(wanted)
        # Those arXiv can serve: a paper without an arXiv id needs 'fulltext add'.
        papers += [p for p in st.store.get_papers(i for i in wanted if i not in have) if p.arxiv_id]
    papers = list({p.id: p for p in papers}.values())
    if not papers and not as_json:
        typer.echo("nothing to fetch")
    client = arxiv_client(st.settings)
    failed = 0
    try:
        for paper in papers:
            result = fetch_fulltext(st.store, client, paper, force)
            failed += result.status == "failed"
            if as_json:
                print_json(result.to_json())
            elif result.status == "failed":
                err.print(f"{paper.label[:80]}: {result.error}", markup=False, highlight=False)
            else:
                pages = f"{result.pages} pages, " if result.pages else ""
                typer.echo(
                    f"{result.status}: {paper.label} ({result.kind}, {pages}{result.passages} passages, "
                    f"licence: {licence_name(result.licence)})"
                )
            sys.stdout.flush()
    finally:
        client.close()
    raise typer.Exit(1 if failed else 0)
