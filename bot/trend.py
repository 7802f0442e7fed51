"""How many papers on a topic per year or month: the counts behind ``/trend`` and ``paperbot trend``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

Period = Literal["year", "month"]


class PeriodCount(BaseModel):
    period: str  # "2021" or "2021-05"
    n: int


class Trend(BaseModel):
    topic: str
    by: Period
    counts: list[PeriodCount]  # every period from the first paper's to the last's, gaps as 0
    terms: list[str] = []  # the index terms every counted paper contains

    @property
    def total(self) -> int:
        return sum(c.n for c in self.counts)

    def to_json(self) -> dict[str, object]:
        return {"topic": self.topic, "by": self.by, "counts": [c.model_dump() for c in self.counts]}


def period_of(day: dt.date, by: Period) -> str:
    return str(day.year) if by == "year" else f"{day.year}-{day.month:02d}"


def _periods(first: dt.date, last: dt.date, by: Period) -> list[str]:
    if by == "year":
        return [str(y) for y in range(first.year, last.year + 1)]
    months = (last.year - first.year) * 12 + last.month - first.month
    return [
        f"{first.year + (first.month - 1 + i) // 12}-{(first.month - 1 + i) % 12 + 1:02d}"
        for i in range(months + 1)
    ]


def count_by_period(
    topic: str, dates: Iterable[dt.date], by: Period, terms: list[str] | None = None
) -> Trend:
    """Counts per period over the span of the dates, with empty periods as 0 (a chart reads gaps)."""
    days = sorted(dates)
    counts = Counter(period_of(d, by) for d in days)
    periods = _periods(days[0], days[-1], by) if days else []
    return Trend(
        topic=topic, by=by, counts=[PeriodCount(period=p, n=counts[p]) for p in periods], terms=terms or []
    )


class LibraryShape(BaseModel):
    """Papers per month (per year past three years), split by category (the most common ones;
    the rest as "other")."""

    by: Period = "month"
    periods: list[str]
    series: dict[str, list[int]]  # category -> count per period


def library_shape(dated: Iterable[tuple[dt.date, str]], top: int = 5) -> LibraryShape:
    rows = sorted(dated)
    if not rows:
        return LibraryShape(periods=[], series={})
    common = [name for name, _ in Counter(name for _, name in rows).most_common(top)]
    by: Period = "month" if (rows[-1][0] - rows[0][0]).days <= 3 * 366 else "year"
    periods = _periods(rows[0][0], rows[-1][0], by)
    index = {p: i for i, p in enumerate(periods)}
    series = {name: [0] * len(periods) for name in [*common, "other"]}
    for day, name in rows:
        series[name if name in common else "other"][index[period_of(day, by)]] += 1
    return LibraryShape(by=by, periods=periods, series={k: v for k, v in series.items() if any(v)})
