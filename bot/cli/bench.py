"""``paperbot bench``: the benchmark suite (the same as ``python -m benchmarks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app


@app.command()
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="10k papers only: a smoke test in under 2 minutes")
    ] = False,
    sizes: Annotated[str, typer.Option(help="comma-separated corpus sizes")] = "10000,100000,1000000",
    arxiv: Annotated[
        Path | None, typer.Option(help="a real arXiv metadata snapshot to use instead of synthetic text")
    ] = None,
) -> None:
    """Measure ingest, search, ask and autocomplete at scale; write benchmarks/RESULTS.md."""
    from benchmarks.run import main

    argv = ["--quick"] if quick else ["--sizes", sizes]
    main(argv + (["--arxiv", str(arxiv)] if arxiv else []))
