"""``paperbot ingest`` and ``paperbot list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import LARGE_INPUT_BYTES, app, err, print_json, progress_bar, state
from bot.ingest.pipeline import expand_paths, ingest_paths


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="files or folders (default: the bundled seeds/)")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="keep only papers in this arXiv category (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Ingest seed files, saved arXiv API / RSS responses or arXiv metadata snapshots (.jsonl[.gz])."""
    st = state(ctx)
    chosen = paths or [st.settings.seeds_dir]
    size = sum(p.stat().st_size for p in expand_paths(chosen))
    with progress_bar(size > LARGE_INPUT_BYTES) as advance:
        report = ingest_paths(st.store, chosen, progress=advance, categories=category)
    if as_json:
        data = report.model_dump(exclude={"new_ids"})
        data["skipped"] = [str(s) for s in report.skipped]
        print_json(data)
    else:
        for skipped in report.skipped:
            err.print(f"skipped {skipped}", markup=False, highlight=False)
        typer.echo(report.summary())
    raise typer.Exit(report.exit_code)


@app.command("list")
def list_papers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print every paper as a JSON array")] = False,
) -> None:
    """List every paper in the database."""
    papers = sorted(state(ctx).papers().iter_papers(), key=lambda p: (p.date is None, p.date), reverse=True)
    if as_json:
        print_json([p.to_json() for p in papers])
        return
    for p in papers:
        when = p.date.isoformat() if p.date else "----------"
        typer.echo(f"{when}  {p.id}  {p.label}")
