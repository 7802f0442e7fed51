"""Papers on a topic per period: counts checked against the papers themselves, and a real PNG."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.charts import trend_png
from bot.service import PaperService
from bot.store import SQLiteStore
from bot.trend import count_by_period


@pytest.fixture(scope="module")
def service(seeded_db: Path) -> PaperService:
    return PaperService(SQLiteStore(seeded_db), embedder=False)


def expected(service: PaperService, pattern: str, by: str = "year") -> Counter[str]:
    found = re.compile(pattern, re.IGNORECASE)
    return Counter(
        str(p.date.year) if by == "year" else p.date.strftime("%Y-%m")
        for p in service.store.iter_papers()
        if p.date and found.search(p.label + " " + p.abstract)
    )


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("mean field games", r"\bmean\W+field\W+game"),
        ("Mean-Field Games", r"\bmean\W+field\W+game"),
        ("reward models", r"\breward\W+model"),
        ("distillation", r"\bdistill"),
    ],
)
def test_counts_per_year_are_the_papers_that_mention_the_topic(
    service: PaperService, topic: str, pattern: str
) -> None:
    trend = service.trend(topic)
    counts = {c.period: c.n for c in trend.counts}
    truth = expected(service, pattern)
    assert truth and {p: n for p, n in counts.items() if n} == dict(truth)
    years = [int(p) for p in counts]
    assert years == list(range(min(years), max(years) + 1))  # gaps are shown as 0


def test_by_month_and_since(service: PaperService) -> None:
    trend = service.trend("reinforcement learning", by="month", since=dt.date(2023, 1, 1))
    truth = expected(service, r"\breinforcement\W+learn", by="month")
    assert {c.period: c.n for c in trend.counts if c.n} == {m: n for m, n in truth.items() if m >= "2023-01"}
    assert all(re.fullmatch(r"\d{4}-\d{2}", c.period) for c in trend.counts)


def test_unknown_topic_counts_nothing(service: PaperService) -> None:
    assert service.trend("zzqx unknownword").counts == []


def test_month_periods_cross_years() -> None:
    days = [dt.date(2021, 11, 3), dt.date(2022, 2, 1)]
    assert [c.period for c in count_by_period("t", days, "month").counts] == [
        "2021-11",
        "2021-12",
        "2022-01",
        "2022-02",
    ]


def test_png_is_a_real_chart(service: PaperService) -> None:
    from matplotlib.image import imread

    data = trend_png(service.trend("reinforcement learning"))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"trend-{os.getpid()}.png"
    path.write_bytes(data)
    try:
        image = imread(path)
    finally:
        path.unlink()
    assert image.shape[0] > 200 and image.shape[1] > 400 and image[..., 3].max() > 0  # drawn, transparent


def test_cli_contract(seeded_db: Path, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--db",
            str(seeded_db),
            "trend",
            "mean field games",
            "--by",
            "year",
            "--png",
            str(png),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PAPERBOT_SEMANTIC": "false"},
    )
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["topic"] == "mean field games" and data["by"] == "year"
    assert all(set(c) == {"period", "n"} for c in data["counts"]) and sum(c["n"] for c in data["counts"]) > 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(seeded_db), "trend", "x", "--by", "week"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
