"""``paperbot backup``, ``export``, ``import`` and ``db upgrade``: keeping the data safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli.app import app, err, print_json, state
from bot.errors import UsageError
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
    """Print every paper with every field, as JSON: 'paperbot import' reads it back losslessly."""
    papers = [p.model_dump(mode="json", exclude={"label"}) for p in state(ctx).store.iter_papers()]
    print_json(papers)


@app.command("import")
def import_papers(
    ctx: typer.Context, path: Annotated[Path, typer.Argument(help="a file written by export")]
) -> None:
    """Load papers written by 'paperbot export' (merged with what the database holds)."""
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
    with store.atomic():
        run = Ingest(store)
        for number, row in enumerate(rows, 1):
            try:
                run.add(Paper.model_validate(row))
            except ValidationError as exc:
                skipped += 1
                err.print(f"{path.name}: paper {number}: {exc.errors()[0]['msg']}", markup=False)
        report = run.finish()
        report.files.append(path.name)
        store.record_ingest(report)
    typer.echo(report.summary().replace("0 skipped", f"{skipped} skipped"))
    raise typer.Exit(1 if skipped else 0)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (they also run whenever the database is opened)."""
    store = state(ctx).store
    print_json({"schema_version": store.schema_version(), "applied": store.migrate()})
