"""The typer app, the state every command shares, and the console entry point."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bot.config import Settings
from bot.errors import PaperbotError, UsageError
from bot.store import Store, open_store

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="paperbot: ask about papers, get a daily digest."
)
err = Console(stderr=True)
LARGE_INPUT_BYTES = 5 << 20


class State:
    """What every command needs: the settings, and the store opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings.store_url())
        return self._store


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database file (or PAPERBOT_DB)")] = None,
) -> None:
    overrides: dict[str, Any] = {"db": db, "database_url": None} if db else {}
    settings = Settings(**overrides)
    # Libraries log chatty INFO lines; the CLI shows warnings unless asked otherwise.
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s", force=True
    )
    ctx.obj = State(settings)


def state(ctx: typer.Context) -> State:
    return ctx.obj  # type: ignore[no-any-return]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """A record counter on stderr for large inputs; nothing for small ones or non-terminals."""
    if not enabled or not err.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.completed} records"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("ingest", total=None)
        yield lambda n: bar.advance(task, n)


def run() -> None:
    """Console entry point: user errors become one line on stderr, never a traceback."""
    try:
        result = app(standalone_mode=False)  # returns the exit code of typer.Exit
    except PaperbotError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2 if isinstance(exc, UsageError) else 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(result if isinstance(result, int) else 0)
