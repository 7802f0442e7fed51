"""One date parser for every surface (CLI options, slash commands, console commands)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from bot.errors import UsageError

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name} | {
    name.lower(): n for n, name in enumerate(calendar.month_abbr) if name
}
_MONTH_YEAR = re.compile(r"(?:(\d{1,2})\s+)?([a-z]+)\.?,?\s+(\d{4})", re.IGNORECASE)


def parse_date(value: str, *, end: bool = False) -> dt.date:
    """``2023``, ``2023-05``, ``2023-05-17``, ``May 2023`` or ``17 May 2023``; with ``end``, a year
    or a month means its last day (``--until 2023`` includes December)."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return dt.date(int(text), 12, 31) if end else dt.date(int(text), 1, 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            year, month = map(int, text.split("-"))
            return _month(year, month, end)
        named = _MONTH_YEAR.fullmatch(text)
        if named and named.group(2).lower() in _MONTHS:
            day, month, year = named.group(1), _MONTHS[named.group(2).lower()], int(named.group(3))
            return dt.date(year, month, int(day)) if day else _month(year, month, end)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"Dates are YYYY, YYYY-MM, YYYY-MM-DD or 'May 2023', not '{text[:20]}'.") from None


def _month(year: int, month: int, end: bool) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1] if end else 1)


def parse_moment(value: str | None, name: str = "--now") -> dt.datetime:
    """An ISO datetime (UTC when it names no zone); now when None."""
    try:
        moment = dt.datetime.fromisoformat(value) if value else dt.datetime.now(dt.UTC)
    except ValueError:
        raise UsageError(f"{name} takes an ISO datetime (2026-12-01T09:00:00+00:00), not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
