"""``paperbot save``, ``reading-list`` and ``watch``: what a team does with papers, without Discord."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli.app import app, print_json
from bot.cli.query import service_for
from bot.dates import parse_moment
from bot.errors import UsageError, invalid
from bot.reading_list import ReadingList, as_bibtex, as_markdown
from bot.watches import Watch, WatchBatch, Watches, WatchSpec

watch_app = typer.Typer(
    help="Personal watches: new papers that match a search, sent to one person.", no_args_is_help=True
)
app.add_typer(watch_app, name="watch")


@app.command()
def save(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="a title (typos are fine), an arXiv id or a paper id")],
    channel: Annotated[int, typer.Option("--channel", help="Discord channel id")],
    user: Annotated[int | None, typer.Option("--user", help="who saves it (Discord user id)")] = None,
) -> None:
    """Add a paper to a channel's reading list (the same list /save and 🔖 add to)."""
    paper, new = ReadingList(service_for(ctx)).save(channel, reference, user)
    typer.echo(f"{'saved' if new else 'already saved'}: {paper.label} ({paper.arxiv_id or paper.id})")


@app.command("reading-list")
def reading_list(
    ctx: typer.Context,
    channel: Annotated[int, typer.Option("--channel", help="Discord channel id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the list as JSON")] = False,
    as_bibtex_: Annotated[bool, typer.Option("--bibtex", help="print a .bib file")] = False,
    as_markdown_: Annotated[bool, typer.Option("--markdown", help="print a Markdown list")] = False,
) -> None:
    """A channel's reading list, oldest first: who saved what, when."""
    if as_json + as_bibtex_ + as_markdown_ > 1:
        raise UsageError("choose one of --json, --bibtex and --markdown")
    entries = ReadingList(service_for(ctx)).entries(channel)
    if as_json:
        print_json([e.to_json() for e in entries])
    elif as_bibtex_:
        sys.stdout.write(as_bibtex(entries))
    elif as_markdown_:
        sys.stdout.write(as_markdown(entries, f"Reading list of channel {channel}"))
    elif not entries:
        typer.echo(f"channel {channel} has no saved papers")
    else:
        for n, e in enumerate(entries, 1):
            who = f" by {e.user}" if e.user else ""
            typer.echo(f"{n:2d}. {e.paper.label}  (saved{who} {e.saved_at[:10]})")


def _watch_json(watch: Watch) -> dict[str, object]:
    return watch.model_dump()


@watch_app.command("add")
def watch_add(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="what to watch for, e.g. 'offline RL'")],
    user: Annotated[int, typer.Option("--user", help="Discord user id of the person to tell")],
    author: Annotated[str | None, typer.Option("--author", help="only papers by this author")] = None,
    time: Annotated[str, typer.Option("--time", help="local time of the daily batch, HH:MM")] = "08:00",
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone")] = "UTC",
) -> None:
    """Watch for new papers that match a search; papers already here are never reported."""
    try:
        spec = WatchSpec(query=query, author=author, time=time, tz=tz)
    except ValidationError as exc:
        raise invalid(exc) from exc
    print_json(_watch_json(Watches(service_for(ctx)).add(user, spec)))


@watch_app.command("list")
def watch_list(
    ctx: typer.Context, user: Annotated[int | None, typer.Option("--user", help="only this person's")] = None
) -> None:
    """Every watch, one JSON object per line."""
    for watch in Watches(service_for(ctx)).list(user):
        print_json(_watch_json(watch))


@watch_app.command("remove")
def watch_remove(
    ctx: typer.Context,
    watch_id: Annotated[int, typer.Argument(help="the watch's id (watch list shows it)")],
    user: Annotated[int, typer.Option("--user", help="the person whose watch it is")],
) -> None:
    """Stop a watch."""
    if not Watches(service_for(ctx)).remove(user, watch_id):
        raise UsageError(f"user {user} has no watch {watch_id}")
    typer.echo(f"removed watch {watch_id}")


@watch_app.command("run")
def watch_run(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option("--now", help="the time to act at (ISO datetime; default now)")
    ] = None,
    print_: Annotated[
        bool, typer.Option("--print", help="print each batch as a JSON line instead of sending")
    ] = False,
) -> None:
    """Send every watch batch that is due (each paper at most once per watch)."""
    if not print_:
        raise UsageError("sending needs Discord: run the bot (`paperbot run`), or print batches with --print")

    def emit(batch: WatchBatch) -> None:
        print_json(batch.to_json())
        sys.stdout.flush()

    Watches(service_for(ctx)).run_due(parse_moment(now), emit)
