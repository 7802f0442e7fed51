"""What a team does with papers: reading lists, votes and personal watches (core and CLI twins)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.digest.run import DigestRunner
from bot.models import Paper, paper_id
from bot.reading_list import ReadingList, abstract_changes, as_bibtex, as_markdown
from bot.service import PaperService
from bot.store import SQLiteStore
from bot.votes import top, vote
from bot.watches import Watches, WatchSpec

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def service(tmp_path: Path, seeded_db: Path) -> PaperService:
    db = tmp_path / "team.db"
    shutil.copy(seeded_db, db)
    return PaperService(SQLiteStore(db), embedder=False)


def new_paper(n: int, title: str, abstract: str, authors: list[str] | None = None, version: int = 1) -> Paper:
    return Paper(
        id=paper_id(title, abstract) if version == 1 else f"p{n}",
        title=title,
        abstract=abstract,
        authors=authors or [f"Ada Tester{n}"],
        category="cs.LG",
        categories=["cs.LG"],
        date=NOW.date(),
        arxiv_id=f"2612.{n:05d}",
        version=version,
    )


def add(service: PaperService, *papers: Paper) -> None:
    with service.store.atomic():
        service.store.put_papers(list(papers))
        service.store.bump_corpus_version()
    service.invalidate()


# -- reading lists ------------------------------------------------------------------------
def test_reading_list_saves_once_and_exports(service: PaperService) -> None:
    reading = ReadingList(service)
    paper, new = reading.save(5, "warm weight averaged reward models", user=11)
    assert new and paper.title.startswith("WARM")
    assert reading.save(5, "WARM: On the Benefits of Weight Averaged Reward Models", user=12)[1] is False
    reading.save(5, "Munchausen Reinforcement Learning")
    entries = reading.entries(5)
    assert [e.paper.label[:6] for e in entries] == ["WARM: ", "Muncha"] and entries[0].user == 11
    assert reading.entries(6) == []
    bib = as_bibtex(entries)
    assert bib.count("@") == 2 and "{{WARM: On the Benefits" in bib
    md = as_markdown(entries)
    assert md.startswith("# Reading list") and "1. [WARM" in md and "2. [Munchausen" in md


def test_a_new_version_of_a_saved_paper_is_announced_once_with_its_changes(service: PaperService) -> None:
    v1 = new_paper(1, "Sparse Rewards", "We study sparse rewards. Results are good.", version=1)
    v1 = v1.model_copy(update={"id": "p1"})
    add(service, v1)
    reading = ReadingList(service)
    reading.save_paper(9, v1)
    assert reading.new_versions() == []
    v2 = v1.model_copy(
        update={"version": 2, "abstract": "We study sparse rewards. Results are much better on Atari."}
    )
    add(service, v2)
    [change] = reading.new_versions()
    assert change.channel == 9 and change.old_version == 1 and change.paper.version == 2
    assert change.added == ["Results are much better on Atari."] and change.removed == ["Results are good."]
    assert reading.new_versions() == []  # once


def test_abstract_changes() -> None:
    assert abstract_changes("A one. B two.", "A one. B two. C three.") == (["C three."], [])


# -- votes ----------------------------------------------------------------------------------
def test_votes_toggle_rank_and_feed_the_digest_library(service: PaperService) -> None:
    store = service.store
    munchausen = service.paper("Munchausen Reinforcement Learning")
    warm = service.paper("WARM")
    assert vote(store, 3, munchausen.id, 1, "👍", True) and vote(store, 3, munchausen.id, 2, "⭐", True)
    vote(store, 3, warm.id, 1, "👍", True)
    vote(store, 3, warm.id, 1, "👍", False)  # taken back
    assert not vote(store, 3, warm.id, 1, "🎉", True)  # not a vote
    assert [(p.id, n) for p, n in top(store, 3, "week")] == [(munchausen.id, 2)]
    assert top(store, 3, "week", now=NOW + dt.timedelta(days=400)) == []
    assert top(store, 4, "all") == []
    library = {p.id for p in DigestRunner(service).library(3)}
    assert munchausen.id in library  # votes teach the channel's digest


# -- watches ---------------------------------------------------------------------------------
def test_a_watch_reports_a_new_matching_paper_once_and_never_an_old_one(service: PaperService) -> None:
    watches = Watches(service)
    watch = watches.add(7, WatchSpec(query="reward models", time="08:00", tz="UTC"))
    time.sleep(1.1)  # papers stored from now on are new to the watch
    match = new_paper(1, "Reward Models for Agents", "We train reward models for agents.")
    other = new_paper(2, "Sparse Attention", "An attention mechanism.")
    add(service, match, other)
    sent: list = []
    batches = watches.run_due(NOW, sent.append)
    assert [b.user for b in batches] == [7] and [i.id for i in sent[0].items] == [match.id]
    assert sent[0].items[0].reason == "matches “reward models”"
    assert "WARM" not in json.dumps(sent[0].to_json())  # WARM is about reward models, but was here first
    assert watches.run_due(NOW + dt.timedelta(hours=1), sent.append) == []  # today's batch is done
    assert watches.run_due(NOW + dt.timedelta(days=1), sent.append) == []  # never twice
    assert watches.list(7) == [watch]


def test_watch_author_and_time(service: PaperService) -> None:
    watches = Watches(service)
    watches.add(8, WatchSpec(query="reward models", author="Nino Vieillard", time="18:00", tz="Europe/Paris"))
    time.sleep(1.1)
    by_nino = new_paper(3, "Reward Models Again", "Reward models, again.", authors=["Nino Vieillard"])
    by_other = new_paper(4, "Reward Models Elsewhere", "Reward models, elsewhere.")
    add(service, by_nino, by_other)
    sent: list = []
    assert watches.run_due(NOW, sent.append) == []  # 10:00 in Paris: not yet
    watches.run_due(NOW.replace(hour=17, minute=30), sent.append)
    assert [i.id for b in sent for i in b.items] == [by_nino.id]


def test_a_failed_send_is_tried_again(service: PaperService) -> None:
    watches = Watches(service)
    watches.add(9, WatchSpec(query="sparse attention"))
    time.sleep(1.1)
    add(service, new_paper(5, "Sparse Attention Everywhere", "Sparse attention, everywhere."))

    def fail(batch: object) -> None:
        raise RuntimeError("DMs closed")

    assert watches.run_due(NOW, fail) == []
    sent: list = []
    assert len(watches.run_due(NOW, sent.append)) == 1 and len(sent[0].items) == 1


def test_bad_watches_are_refused() -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        WatchSpec(query="x", time="25:00")
    with pytest.raises(ValueError, match="time zone"):
        WatchSpec(query="x", tz="Mars/Base")
    with pytest.raises(ValueError, match="query"):
        WatchSpec(query="   ")


# -- the CLI twins ----------------------------------------------------------------------------
def cli(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERBOT_SEMANTIC": "false"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input=stdin,
    )


def snapshot(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    created = NOW.strftime("%a, %d %b %Y %H:%M:%S GMT")
    with path.open("w") as out:
        for arxiv_id, title, abstract in rows:
            out.write(
                json.dumps(
                    {
                        "id": arxiv_id,
                        "authors": "Ada Tester",
                        "title": title,
                        "categories": "cs.LG",
                        "abstract": abstract,
                        "versions": [{"version": "v1", "created": created}],
                    }
                )
                + "\n"
            )
    return path


def test_cli_watch_and_reading_list(tmp_path: Path, seeded_db: Path) -> None:
    db = tmp_path / "cli.db"
    shutil.copy(seeded_db, db)
    added = json.loads(cli(db, "watch", "add", "--user", "42", "offline reinforcement learning").stdout)
    assert added["user"] == 42 and added["query"] == "offline reinforcement learning"
    time.sleep(1.1)
    feed = snapshot(
        tmp_path / "new.jsonl",
        [
            (
                "2612.00001",
                "Offline Reinforcement Learning at Scale",
                "Offline reinforcement learning for robots.",
            ),
            ("2612.00002", "Vision Transformers", "Images."),
        ],
    )
    assert cli(db, "ingest", str(feed)).returncode == 0
    run = cli(db, "watch", "run", "--now", NOW.isoformat(), "--print")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 0 and [line["user"] for line in lines] == [42]
    [item] = lines[0]["items"]
    assert item["arxiv_id"] == "2612.00001" and {
        "id",
        "arxiv_id",
        "title",
        "authors",
        "date",
        "reason",
        "links",
    } <= set(item)
    assert cli(db, "watch", "run", "--now", (NOW + dt.timedelta(days=1)).isoformat(), "--print").stdout == ""
    listed = [json.loads(line) for line in cli(db, "watch", "list", "--user", "42").stdout.splitlines()]
    assert [w["id"] for w in listed] == [added["id"]]
    assert cli(db, "watch", "remove", "--user", "43", str(added["id"])).returncode == 2
    assert cli(db, "watch", "remove", "--user", "42", str(added["id"])).returncode == 0
    assert cli(db, "watch", "add", "--user", "42", "x", "--time", "7pm").returncode == 2

    assert "saved:" in cli(db, "save", "--channel", "5", "2612.00001").stdout
    assert (
        "already saved" in cli(db, "save", "--channel", "5", "Offline Reinforcement Learning at Scale").stdout
    )
    entries = json.loads(cli(db, "reading-list", "--channel", "5", "--json").stdout)
    assert [e["arxiv_id"] for e in entries] == ["2612.00001"]
    assert cli(db, "reading-list", "--channel", "5", "--bibtex").stdout.startswith("@misc{")
    missing = cli(db, "save", "--channel", "5", "zzzz no such paper qqq")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
