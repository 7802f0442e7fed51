"""The typer app, the state every command shares, and the console entry point.

The entry point owns the error contract (exit codes and one-line messages on stderr): usage
errors exit 2, partial results 1, an unexpected error 1 with one line that says where the
traceback was logged; a traceback on stderr only with ``PAPERBOT_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.exceptions import TyperException

from bot.config import Settings, unknown_settings
from bot.errors import NotFound, PaperbotError, UsageError
from bot.store import Store, open_store

# Unexpected errors go to the log file only, with their traceback; stderr gets one line.
crashes = logging.getLogger("paperbot.crashes")
crashes.propagate = False
crashes.addHandler(logging.NullHandler())
# Options of the app itself, accepted before or after the subcommand (the README promises both).
GLOBAL_OPTIONS = ("--db",)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="paperbot: ask about papers, get a daily digest.",
)
# soft_wrap: a line on stderr stays one line in a log or a cron mail, whatever the width.
err = Console(stderr=True, soft_wrap=True)
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

    def papers(self) -> Store:
        """The store, for a command that reads papers: an empty database first gets the bundled
        demo corpus, and stderr says so (the same line for every command)."""
        store = self.store
        if store.count_papers() == 0:
            from bot.ingest.pipeline import ingest_paths

            report = ingest_paths(store, [self.settings.seeds_dir])
            err.print(
                f"paperbot: the database was empty; loaded the bundled demo corpus "
                f"({report.added} papers from {self.settings.seeds_dir})",
                markup=False,
                highlight=False,
            )
        return store


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database file (or PAPERBOT_DB)")] = None,
) -> None:
    unknown = unknown_settings()
    if unknown:
        raise UsageError(f"unknown setting {unknown[0]} (see .env.example for every setting)")
    overrides: dict[str, Any] = {"db": db, "database_url": None} if db else {}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PAPERBOT_" + ".".join(map(str, first["loc"])).upper()
        raise UsageError(f"setting {name}: {first['msg']}") from exc
    configure_logging(settings)
    ctx.obj = State(settings)


def configure_logging(settings: Settings) -> None:
    """Warnings (or the chosen level) on stderr; INFO and up, with tracebacks, in the log file."""
    level = getattr(logging, settings.log_level.upper())
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    handlers[0].setLevel(level)
    crashes.handlers = [logging.NullHandler()]
    try:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = RotatingFileHandler(settings.log_file, maxBytes=1 << 20, backupCount=3, encoding="utf-8")
    except OSError:
        pass  # a read-only home: the one-line error then says to rerun with DEBUG
    else:
        to_file.setLevel(min(level, logging.INFO))
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(to_file)
        crashes.handlers = [to_file]
    logging.basicConfig(
        level=min(level, logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


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


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move ``--db X`` / ``--db=X`` written after the subcommand to the front, where click reads
    it (``paperbot list --db X`` == ``paperbot --db X list``). Nothing after ``--`` is touched."""
    front: list[str] = []
    rest: list[str] = []
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--":
            rest += items[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes_next = "=" not in arg and i + 1 < len(items)
            front += items[i : i + 1 + takes_next]
            i += 1 + takes_next
            continue
        rest.append(arg)
        i += 1
    return front + rest


def fail(message: str, code: int) -> NoReturn:
    """One line on stderr, never wrapped, then exit."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()
    sys.exit(code)


def _usage_message(exc: TyperException) -> str:
    command = getattr(getattr(exc, "ctx", None), "command_path", "paperbot")
    return f"{command}: {exc.format_message()} (see '{command} --help')"


def _log_file() -> str | None:
    for handler in crashes.handlers:
        if isinstance(handler, RotatingFileHandler):
            return handler.baseFilename
    return None


def run(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every error becomes one line on stderr and an exit code."""
    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="paperbot", standalone_mode=False)
    except PaperbotError as exc:  # a paper the user named that is not here is bad input too
        fail(str(exc), 2 if isinstance(exc, UsageError | NotFound) else 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except TyperException as exc:  # click's usage errors, as typer (>= 0.29) vendors click
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help is the answer
            sys.stderr.write(exc.format_message() + "\n")
            sys.exit(2)
        fail(_usage_message(exc), exc.exit_code)
    except Exception as exc:
        if os.environ.get("PAPERBOT_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        crashes.error("unexpected error in 'paperbot %s'", " ".join(args), exc_info=exc)
        where = _log_file()
        detail = (
            f"details in the log: {where}" if where else "rerun with PAPERBOT_LOG_LEVEL=DEBUG for details"
        )
        fail(f"unexpected error ({type(exc).__name__}: {exc}); {detail}", 1)
    sys.exit(result if isinstance(result, int) else 0)
