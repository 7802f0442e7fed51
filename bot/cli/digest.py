"""``paperbot digest``: preview, subscribe, unsubscribe, list and run digests without Discord."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli.app import app, print_json, state
from bot.cli.query import parse_since, service_for
from bot.digest.book import DigestBook
from bot.digest.models import Digest, Subscription, load_profile
from bot.digest.run import DigestRunner
from bot.errors import UsageError, invalid

digest_app = typer.Typer(help="The daily digest of new papers, per channel.", no_args_is_help=True)
app.add_typer(digest_app, name="digest")


@digest_app.command()
def preview(
    ctx: typer.Context,
    profile: Annotated[Path, typer.Option("--profile", help="a digest profile (JSON)")],
    since: Annotated[str | None, typer.Option(help="papers dated from this day (YYYY-MM-DD)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='print {"items": [...]}')] = False,
) -> None:
    """The digest a profile would get now, best first (nothing is recorded)."""
    chosen = load_profile(profile)
    items = DigestRunner(service_for(ctx)).preview(chosen, parse_since(since))
    if as_json:
        print_json({"items": [i.model_dump() for i in items]})
        return
    for n, item in enumerate(items, 1):
        typer.echo(f"{n:2d}. {item.title} ({item.date}) — {item.reason}\n    {item.summary}")
    if not items:
        typer.echo("nothing new for this profile")


@digest_app.command()
def subscribe(
    ctx: typer.Context,
    channel: Annotated[int, typer.Option("--channel", help="Discord channel id")],
    profile: Annotated[Path, typer.Option("--profile", help="a digest profile (JSON)")],
    time: Annotated[str, typer.Option("--time", help="local time of day, HH:MM")] = "08:00",
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Paris")] = "UTC",
    guild: Annotated[int | None, typer.Option("--guild", help="Discord guild id")] = None,
    post_when_empty: Annotated[
        bool, typer.Option("--post-when-empty", help="post even when nothing is new")
    ] = False,
) -> None:
    """Subscribe a channel (the same subscription /digest subscribe makes)."""
    try:
        sub = Subscription(
            channel_id=channel,
            guild_id=guild,
            time=time,
            tz=tz,
            profile=load_profile(profile),
            post_when_empty=post_when_empty,
        )
    except ValidationError as exc:
        raise invalid(exc) from exc
    print_json(DigestBook(state(ctx).store).subscribe(sub).model_dump())


@digest_app.command()
def unsubscribe(
    ctx: typer.Context, channel: Annotated[int, typer.Option("--channel", help="Discord channel id")]
) -> None:
    """Stop a channel's digest."""
    if not DigestBook(state(ctx).store).unsubscribe(channel):
        raise UsageError(f"channel {channel} has no digest subscription")
    typer.echo(f"unsubscribed channel {channel}")


@digest_app.command("list")
def list_subscriptions(ctx: typer.Context) -> None:
    """Every subscription, one JSON object per line."""
    for sub in DigestBook(state(ctx).store).subscriptions():
        print_json(sub.model_dump())


@digest_app.command()
def run(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option("--now", help="the time to act at (ISO datetime; default now)")
    ] = None,
    print_: Annotated[
        bool, typer.Option("--print", help="print each digest as a JSON line instead of posting")
    ] = False,
) -> None:
    """Post every digest that is due (exactly once per channel and day)."""
    if not print_:
        raise UsageError("posting needs Discord: run the bot (`paperbot run`), or print digests with --print")
    try:
        moment = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.UTC)
    except ValueError as exc:
        raise UsageError(f"--now takes an ISO datetime, not {now!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)

    def emit(sub: Subscription, digest: Digest) -> None:
        print_json(digest.to_json())
        sys.stdout.flush()

    DigestRunner(service_for(ctx)).run_due(moment, emit)
