"""What every store offers: the ``Store`` and ``DigestStore`` protocols and their typed rows.

Both backends (``SQLiteStore``, ``PostgresStore``) implement them with the same semantics, and
tests/test_store_contract.py runs one suite against each. Nothing outside ``bot.store`` writes
SQL or touches a store's connections (tests/test_layers.py checks it).

Semantics both backends share:

- ``put_paper``/``put_papers`` upsert: a paper with a known id replaces the stored one and its
  author rows; stored embeddings are kept (their text hash tells the index build when a
  paper's text changed and the vector is stale).
- ``atomic(lock=...)`` is one transaction; nested calls join the outer one. ``lock`` names a
  lock held until commit, so units of work with the same name take turns across threads and
  processes: an advisory lock on PostgreSQL; on SQLite every transaction starts with
  ``BEGIN IMMEDIATE``, which takes the database's one write lock, so writers already take
  turns whatever the name (a stronger lock than asked for, never a weaker one).
- ``corpus_version`` grows with every write to the papers (``put_papers``, ``delete_paper``):
  each write takes the next version and stamps its rows, a removal leaves a tombstone, and
  ``changes_since(V)`` lists the papers changed and removed after V (bot/store/changes.py).
  A search index records the version (and ``store_id``) it was built from and brings itself
  up to date from that feed (bot/search/build.py). ``wait_for_change`` blocks a watcher
  until another process may have written: a ``NOTIFY`` on PostgreSQL, the timeout on SQLite
  (polling is the fallback).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from bot.models import IngestReport, Paper

if TYPE_CHECKING:
    from bot.store.changes import Changes
    from bot.store.fulltext import FulltextRows
    from bot.store.team import TeamRows


class UnlinkedTitle(NamedTuple):
    """A titled paper without an arXiv id, with its first author (linking candidates)."""

    id: str
    title_key: str
    first_author: str


class StoredVector(NamedTuple):
    """A paper's stored embedding: the hash of the embedded text and float16 vector bytes."""

    text_hash: str
    vector: bytes


class IngestRow(NamedTuple):
    """One finished ingest, as logged."""

    finished_at: str
    added: int
    updated: int
    unchanged: int
    skipped: int
    files: list[str]


class SubscriptionRow(NamedTuple):
    """A channel's digest subscription as stored (the profile as JSON)."""

    channel_id: int
    guild_id: int | None
    time: str
    tz: str
    profile_json: str
    post_when_empty: bool
    paused: bool
    last_error: str | None


class DigestStore(Protocol):
    """The digest's bookkeeping: subscriptions, one digest row per (channel, local day), the
    papers posted to each channel, reactions. The primary keys carry the guarantees: a second
    ``claim`` of a (channel, day) is refused, a paper is recorded as posted to a channel once."""

    def put_subscription(self, row: SubscriptionRow) -> None: ...
    def delete_subscription(self, channel_id: int) -> bool: ...
    def subscription(self, channel_id: int) -> SubscriptionRow | None: ...
    def subscriptions(self) -> list[SubscriptionRow]: ...
    def pause_subscription(self, channel_id: int, error: str) -> None: ...
    def claim(self, channel_id: int, day: str) -> bool: ...
    def status(self, channel_id: int, day: str) -> str | None: ...
    def previous_day(self, channel_id: int, before: str) -> str | None: ...
    def claimed_at(self, channel_id: int, day: str) -> str | None: ...
    def finish(
        self, channel_id: int, day: str, paper_ids: list[str], items_json: str, confirmed: bool = True
    ) -> None: ...
    def confirm(self, channel_id: int, day: str) -> None: ...
    def unconfirmed(self, channel_id: int) -> list[tuple[str, str]]: ...
    def undo(self, channel_id: int, day: str) -> None: ...
    def posted_ids(self, channel_id: int) -> set[str]: ...
    def react(self, channel_id: int, paper_id: str, user_id: int) -> None: ...
    def reacted_ids(self, channel_id: int) -> list[str]: ...


class Store(Protocol):
    """Papers, embeddings, the ingest log, key/value state and bot settings in one database."""

    path: str  # the file, or the URL of the server: for messages

    # -- lifecycle and schema
    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *exc: object) -> None: ...
    def atomic(self, lock: str | None = None) -> AbstractContextManager[None]: ...
    def indexes_deferred(self) -> AbstractContextManager[None]: ...
    def migrate(self) -> list[int]: ...
    def schema_version(self) -> int: ...

    # -- papers
    def get_paper(self, paper_id: str) -> Paper | None: ...
    def get_papers(self, ids: Iterable[str]) -> list[Paper]: ...
    def find_by_arxiv_id(self, arxiv_id: str) -> Paper | None: ...
    def put_paper(self, paper: Paper) -> None: ...
    def put_papers(self, papers: list[Paper]) -> None: ...
    def delete_paper(self, paper_id: str) -> None: ...
    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]: ...
    def untitled_papers(self) -> list[Paper]: ...
    def titled_abstracts(self, batch: int = 1000) -> Iterator[tuple[str, list[str]]]: ...
    def papers_from_sources(self, suffix: str) -> list[Paper]: ...
    def added_since(self, when: str) -> list[str]: ...
    def unlinked_titles(self) -> list[UnlinkedTitle]: ...
    def known_arxiv_ids(self, arxiv_ids: list[str]) -> list[str]: ...
    def count_papers(self) -> int: ...
    def author_names(self) -> dict[str, tuple[str, int]]: ...

    # -- embeddings and the search index
    def embeddings_for(self, model: str, paper_ids: list[str]) -> dict[str, StoredVector]: ...
    def put_embeddings(self, model: str, rows: Iterable[tuple[str, str, bytes]]) -> None: ...
    def index_folder(self) -> Path | None: ...

    # -- ingest log, versions, key/value state
    def record_ingest(self, report: IngestReport) -> None: ...
    def last_ingest(self) -> IngestRow | None: ...
    def bump_corpus_version(self) -> None: ...
    def corpus_version(self) -> int: ...
    def changes_since(self, version: int) -> Changes: ...
    def wait_for_change(self, timeout: float) -> bool: ...
    def store_id(self) -> str: ...
    def get_meta(self, name: str) -> str | None: ...
    def set_meta(self, name: str, value: str) -> None: ...

    # -- bot settings and the digest
    def set_free_text(self, channel_id: int, enabled: bool, guild_id: int | None = None) -> None: ...
    def free_text_channels(self) -> set[int]: ...
    @property
    def digests(self) -> DigestStore: ...
    @property
    def team(self) -> TeamRows: ...
    @property
    def fulltext(self) -> FulltextRows: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def display_names(rows: Iterable[tuple[str, str, int]]) -> dict[str, tuple[str, int]]:
    """(author key, spelling, papers) rows -> key -> (display spelling, papers): accents win."""
    result: dict[str, tuple[str, int]] = {}
    for folded, name, count in rows:
        shown, total = result.get(folded, (name, 0))
        if not name.isascii() and shown.isascii():
            shown = name  # keep the spelling with accents for display
        result[folded] = (shown, total + int(count))
    return result


def ingest_row(report: IngestReport) -> tuple[str, int, int, int, int, str]:
    """The ingest log's row for a finished ingest (the files as JSON)."""
    return (
        now(),
        report.added,
        report.updated,
        report.unchanged,
        len(report.skipped),
        json.dumps(report.files),
    )


def in_pages(page: Callable[[str], Sequence[Sequence[Any]]]) -> Iterator[Sequence[Any]]:
    """Rows read a page at a time in id order: ``page(last id)`` gives the rows after it, the id first."""
    last = ""
    while rows := page(last):
        yield from rows
        last = rows[-1][0]


def abstract_versions(abstract: str | None, others: str | list[str] | None) -> list[str]:
    """A paper's abstract and its other versions, from the columns a store read them into
    (``others``: a list, or the JSON text of one)."""
    if isinstance(others, str):
        others = json.loads(others) if others != "[]" else []
    return [abstract or "", *(others or [])]
