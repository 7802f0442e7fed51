"""Digest profiles, subscriptions and digests: the models at the digest's boundaries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import UsageError

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Profile(BaseModel):
    """What matters to a team: ``{"authors", "categories", "keywords", "exclude_keywords",
    "max_papers", "lookback_days"}``."""

    # A misspelt key ("keywordz") would silently mean the default: refuse it, naming it.
    model_config = ConfigDict(extra="forbid")

    authors: list[str] | None = None  # None: the authors of the team's seed corpus
    categories: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    exclude_keywords: list[str] = Field(default_factory=list)  # a paper that mentions one is left out
    max_papers: int = Field(10, ge=1, le=100)
    lookback_days: int = Field(1, ge=1, le=365)


def load_profile(path: Path) -> Profile:
    """A profile file, or one clear error that names it."""
    try:
        return Profile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such profile file") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(map(str, first["loc"])) if first else ""
        if first and first["type"] == "extra_forbidden":
            known = ", ".join(Profile.model_fields)
            raise UsageError(f"{path}: unknown key {where!r} in a digest profile (known: {known})") from exc
        detail = f"{where}: {first['msg']}" if first else str(exc)
        raise UsageError(f"{path}: not a digest profile ({detail})") from exc


class Subscription(BaseModel):
    channel_id: int
    guild_id: int | None = None
    time: str = "08:00"
    tz: str = "UTC"
    profile: Profile = Field(default_factory=Profile)
    post_when_empty: bool = False
    paused: bool = False
    last_error: str | None = None

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        match = _TIME.match(value.strip())
        if not match:
            raise ValueError(f"time must be HH:MM, not {value!r}")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Paris)") from exc
        return value

    def local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(ZoneInfo(self.tz))

    def due_time(self) -> dt.time:
        hours, minutes = self.time.split(":")
        return dt.time(int(hours), int(minutes))


class DigestItem(BaseModel):
    id: str
    arxiv_id: str | None
    title: str
    authors: list[str]
    date: str | None
    score: float
    reason: str
    summary: str
    links: dict[str, str]


def digest_nonce(channel_id: int, day: str) -> str:
    """The message nonce of a channel's digest of a day: Discord refuses a second message with a
    recent nonce (``enforce_nonce``), so a retried post cannot appear twice."""
    return hashlib.blake2b(f"digest:{channel_id}:{day}".encode(), digest_size=10).hexdigest()


def digest_marker(day: str) -> str:
    """What starts the footer of a digest message: how a restart recognises its own post."""
    return f"paperbot digest {day}"


class Digest(BaseModel):
    channel: int
    date: str
    items: list[DigestItem]
    window_start: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "date": self.date, "items": [i.model_dump() for i in self.items]}
