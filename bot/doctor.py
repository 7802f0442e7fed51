"""What a deployment needs, checked one thing at a time (``paperbot doctor``).

Each check returns a :class:`Check`; none raises. Secrets are reported as present or absent,
never shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Literal

import httpx
from pydantic import BaseModel

from bot.config import Settings
from bot.store import Store, open_store

Status = Literal["ok", "fail", "note"]
# What the bot asks of a server where it posts (README, "Inviting the bot").
CHANNEL_PERMISSIONS = "Send Messages, Send Messages in Threads, Embed Links, Read Message History"


class Check(BaseModel):
    name: str
    status: Status
    detail: str


def run_checks(settings: Settings, offline: bool = False, now: dt.datetime | None = None) -> list[Check]:
    """Every check, in the order a deployment depends on them."""
    checks: list[Check] = []
    try:
        store = open_store(settings.store_url())
    except Exception as exc:
        checks.append(
            Check(name="database", status="fail", detail=f"cannot open {_where(settings)}: {_reason(exc)}")
        )
        store = None
    if store is not None:
        try:
            for check in (_database, _index, _digests):
                checks += check(store, settings, now or dt.datetime.now(dt.UTC))
        finally:
            store.close()
    checks += _discord(settings)
    checks.append(_arxiv(settings, offline))
    return checks


def _where(settings: Settings) -> str:
    url = settings.store_url()
    return url.split("@", 1)[-1] if url.startswith("postgres") else url  # no password in the output


def _reason(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _database(store: Store, settings: Settings, now: dt.datetime) -> Iterator[Check]:
    # Opening a store applies pending migrations, so an open store is a migrated one.
    papers = store.count_papers()
    yield Check(
        name="database",
        status="ok",
        detail=f"{_where(settings)}: schema {store.schema_version()} (current), {papers} papers",
    )
    if papers == 0:
        yield Check(
            name="corpus",
            status="note",
            detail="no papers yet: `paperbot ingest` loads the bundled seeds (reading commands do it too)",
        )


def _index(store: Store, settings: Settings, now: dt.datetime) -> Iterator[Check]:
    from bot.search.build import MERGE_MIN, saved_meta

    folder = store.index_folder()
    if folder is None:
        yield Check(name="index", status="note", detail="built in memory by each process at start")
        return
    meta = saved_meta(folder)
    if meta is None:
        yield Check(
            name="index",
            status="fail",
            detail=f"no saved index at {folder}: the first question will build it",
        )
    elif meta.get("store_id") != store.store_id():
        yield Check(
            name="index",
            status="fail",
            detail=f"{folder} is of another database: the next question rebuilds it (`paperbot search x` does it now)",
        )
    elif meta.get("corpus_version") != store.corpus_version():
        changes = store.changes_since(int(str(meta.get("corpus_version") or 0)))
        status = "ok" if len(changes) <= MERGE_MIN else "fail"
        yield Check(
            name="index",
            status=status,
            detail=f"{folder} plus {len(changes)} papers changed since it was built (indexed at each start; "
            f"past {MERGE_MIN:,} or a tenth of the library, the next question rebuilds it whole)",
        )
    else:
        yield Check(name="index", status="ok", detail=f"{folder} is current")


def _digests(store: Store, settings: Settings, now: dt.datetime) -> Iterator[Check]:
    from bot.digest.book import DigestBook

    book = DigestBook(store)
    subs = book.subscriptions()
    if not subs:
        yield Check(name="digest", status="note", detail="no channel subscribed")
        return
    for sub in subs:
        if sub.paused:
            yield Check(
                name="digest",
                status="fail",
                detail=f"channel {sub.channel_id} is paused: {sub.last_error or 'no reason recorded'} (subscribe it again to resume)",
            )
            continue
        local = sub.local(now)
        done = book.digest_status(sub.channel_id, local.date().isoformat())
        when = f"{sub.time} {sub.tz}"
        state = (
            f"today's digest is {done}"
            if done
            else ("due now" if local.time() >= sub.due_time() else f"next at {when}")
        )
        yield Check(name="digest", status="ok", detail=f"channel {sub.channel_id} at {when}: {state}")


def _discord(settings: Settings) -> list[Check]:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    checks = [
        Check(name="token", status="ok", detail="DISCORD_TOKEN is set (not shown)")
        if token
        else Check(
            name="token",
            status="fail",
            detail="DISCORD_TOKEN is not set: `paperbot run` needs it (chat, ask and digest run --print do not)",
        )
    ]
    if settings.free_text_channels:
        intents = "guilds, guild messages, DMs and the privileged Message Content intent (enable it: Developer Portal, Bot)"
    else:
        intents = "guilds, guild messages and DMs (no privileged intent; free text only in mentions and DMs)"
    checks.append(Check(name="intents", status="note", detail=f"the settings ask for {intents}"))
    checks.append(
        Check(name="permissions", status="note", detail=f"in each channel it posts to: {CHANNEL_PERMISSIONS}")
    )
    return checks


def _arxiv(settings: Settings, offline: bool, get: Callable[..., httpx.Response] = httpx.get) -> Check:
    if offline:
        return Check(name="arxiv", status="note", detail="skipped (--offline): `paperbot fetch` needs it")
    try:
        response = get(
            settings.arxiv_api_url,
            params={"search_query": "cat:cs.LG", "max_results": 0},
            headers={"User-Agent": settings.arxiv_user_agent},
            timeout=10,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return Check(
            name="arxiv",
            status="fail",
            detail=f"{settings.arxiv_api_url} not reachable: {_reason(exc)} (offline? use --offline)",
        )
    return Check(name="arxiv", status="ok", detail=f"{settings.arxiv_api_url} answers")
