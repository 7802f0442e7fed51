"""``paperbot doctor``: what a deployment needs, one line per check."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.app import app, print_json, state
from bot.doctor import run_checks


@app.command()
def doctor(
    ctx: typer.Context,
    offline: Annotated[bool, typer.Option("--offline", help="skip the arXiv check (no network)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
) -> None:
    """Check the database, index, token, intents, arXiv and digests; exit 0 when all hold."""
    checks = run_checks(state(ctx).settings, offline=offline)
    if as_json:
        print_json([c.model_dump() for c in checks])
    else:
        for check in checks:
            typer.echo(f"{check.status:<4}  {check.name:<11} {check.detail}")
    raise typer.Exit(1 if any(c.status == "fail" for c in checks) else 0)
