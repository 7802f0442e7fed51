"""``paperbot trend``: papers on a topic per year or month, as counts, JSON or a PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app, print_json
from bot.cli.query import parse_since, service_for
from bot.errors import UsageError
from bot.trend import Period


@app.command()
def trend(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="words every counted paper contains")],
    by: Annotated[str, typer.Option("--by", help="year or month")] = "year",
    since: Annotated[str | None, typer.Option(help="from this year or date on")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="write a bar chart here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='print {"topic", "by", "counts"}')] = False,
) -> None:
    """How many papers on a topic per year (or month), oldest first."""
    if by not in ("year", "month"):
        raise UsageError(f"--by takes year or month, not {by!r}")
    period: Period = "year" if by == "year" else "month"
    result = service_for(ctx).trend(topic, period, parse_since(since))
    if png is not None:
        from bot.charts import trend_png

        try:
            png.write_bytes(trend_png(result))
        except OSError as exc:
            raise UsageError(f"{png}: cannot write the chart ({exc.strerror})") from exc
    if as_json:
        print_json(result.to_json())
        return
    if not result.counts:
        typer.echo(f"no paper mentions {topic!r}")
        return
    width = max(c.n for c in result.counts)
    for count in result.counts:
        typer.echo(f"{count.period:>7}  {count.n:4d}  {'█' * round(30 * count.n / width) if width else ''}")
    typer.echo(f"{result.total} papers" + (f"; chart: {png}" if png else ""))
