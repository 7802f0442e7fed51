"""``paperbot backup``, ``export``, ``import`` and ``db upgrade``: keeping the data safe."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli.app import app, err, print_json, state
from bot.errors import UsageError
from bot.fulltext.transfer import KEY as FULLTEXT_KEY
from bot.fulltext.transfer import ExportedFulltext, exported_texts, import_text
from bot.ingest.pipeline import Ingest
from bot.models import Paper
from bot.store.sqlite import SQLiteStore, backup_database

db_app = typer.Typer(help="Database schema maintenance.")
app.add_typer(db_app, name="db")


@app.command()
def backup(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="where to write the copy")]) -> None:
    """Copy the live database consistently (safe while the bot runs)."""
    store = state(ctx).store
    if not isinstance(store, SQLiteStore):
        raise UsageError("backup copies a SQLite database; for PostgreSQL use pg_dump")
    pages = backup_database(store, path)
    typer.echo(f"backed up {pages} pages to {path}")


@app.command("export")
def export_papers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON (the only format)")] = True,
) -> None:
    """Print every paper with every field, and its full text if it has one, as JSON: 'paperbot
    import' reads it back losslessly."""
    store = state(ctx).store
    texts = exported_texts(store)
    papers = []
    for paper in store.iter_papers():
        row = paper.model_dump(mode="json", exclude={"label"})
        if paper.id in texts:
            row[FULLTEXT_KEY] = texts[paper.id]
        papers.append(row)
    print_json(papers)


@app.command("import")
def import_papers(
    ctx: typer.Context, path: Annotated[Path, typer.Argument(help="a file written by export")]
) -> None:
    """Load papers written by 'paperbot export' (merged with what the database holds), with their
    full texts (a paper's own text in the database stays unless the export's was added later)."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON export ({exc})") from exc
    if not isinstance(rows, list):
        raise UsageError(f"{path}: expected a JSON array of papers")
    store = state(ctx).store
    skipped = 0
    texts: Counter[str] = Counter()
    with store.atomic():
        run = Ingest(store)
        for number, row in enumerate(rows, 1):
            try:
                paper_id = run.add(Paper.model_validate(row))
            except ValidationError as exc:
                skipped += 1
                err.print(f"{path.name}: paper {number}: {_first_error(exc)}", markup=False)
                continue
            if isinstance(row, dict) and row.get(FULLTEXT_KEY) is not None:
                try:
                    texts[
                        import_text(store, paper_id, ExportedFulltext.model_validate(row[FULLTEXT_KEY]))
                    ] += 1
                except ValidationError as exc:  # the paper stands; its text is left out, said
                    skipped += 1
                    err.print(f"{path.name}: paper {number}: full text: {_first_error(exc)}", markup=False)
        report = run.finish()
        report.files.append(path.name)
        store.record_ingest(report)
    line = report.summary().replace("0 skipped", f"{skipped} skipped")
    if texts:
        line += "; full texts: " + ", ".join(f"{n} {status}" for status, n in sorted(texts.items()))
    typer.echo(line)
    raise typer.Exit(1 if skipped else 0)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (they also run whenever the database is opened)."""
    store = state(ctx).store
    print_json({"schema_version": store.schema_version(), "applied": store.migrate()})
