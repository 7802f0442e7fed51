"""The order a deployment's cron runs: ingest (or fetch), then ``digest run``, nothing in between,
with semantic search on (the default), in separate processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pg_server import create_database, find_bindir, postgres_server

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def snapshot(path: Path, first: int, count: int, day: dt.date) -> Path:
    """An arXiv metadata snapshot of ``count`` new cs.LG papers dated ``day``."""
    created = dt.datetime.combine(day, dt.time(12), dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with path.open("w", encoding="utf-8") as out:
        for n in range(first, first + count):
            record = {
                "id": f"2611.{n:05d}",
                "authors": f"Ada Tester{n}, Nino Vieillard",
                "title": f"Offline reward models for agents, study {n}",
                "categories": "cs.LG",
                "abstract": f"We study offline reinforcement learning with reward models, variant {n}.",
                "versions": [{"version": "v1", "created": created}],
                "update_date": day.isoformat(),
            }
            out.write(json.dumps(record) + "\n")
    return path


def paperbot(target: str, *args: str, url: bool = False) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOT_")}
    if url:
        env["PAPERBOT_DATABASE_URL"] = target
        command = [sys.executable, "-m", "bot", *args]
    else:
        command = [sys.executable, "-m", "bot", "--db", target, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def done(process: subprocess.Popen[str], timeout: float = 180) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "locked" not in err, err
    return out


def digests(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def cron_order(target: str, tmp_path: Path, url: bool) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"keywords": ["reward models"], "categories": ["cs.LG"], "max_papers": 50}))
    done(paperbot(target, "ingest", url=url))
    done(
        paperbot(
            target,
            "ingest",
            str(snapshot(tmp_path / "day1.jsonl", 1, 5, NOW.date() - dt.timedelta(days=1))),
            url=url,
        )
    )
    done(paperbot(target, "digest", "subscribe", "--channel", "42", "--profile", str(profile), url=url))
    first = digests(done(paperbot(target, "digest", "run", "--now", NOW.isoformat(), "--print", url=url)))
    assert [d["channel"] for d in first] == [42]
    assert {i["arxiv_id"] for i in first[0]["items"]} >= {f"2611.{n:05d}" for n in range(1, 6)}
    assert done(paperbot(target, "digest", "run", "--now", NOW.isoformat(), "--print", url=url)) == ""

    # Three days down, then the cron order again: one catch-up digest with only the new papers.
    later = NOW + dt.timedelta(days=3)
    done(
        paperbot(
            target,
            "ingest",
            str(snapshot(tmp_path / "day4.jsonl", 6, 4, later.date() - dt.timedelta(days=2))),
            url=url,
        )
    )
    second = digests(done(paperbot(target, "digest", "run", "--now", later.isoformat(), "--print", url=url)))
    assert [d["channel"] for d in second] == [42]
    assert {i["arxiv_id"] for i in second[0]["items"]} == {f"2611.{n:05d}" for n in range(6, 10)}


def test_cron_order_on_sqlite(tmp_path: Path) -> None:
    cron_order(str(tmp_path / "d.db"), tmp_path, url=False)


def test_ingest_in_another_process_while_the_digest_plans(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"categories": ["cs.LG"], "max_papers": 100}))
    done(paperbot(db, "ingest"))
    done(paperbot(db, "ingest", str(snapshot(tmp_path / "a.jsonl", 1, 20, NOW.date()))))
    done(paperbot(db, "digest", "subscribe", "--channel", "7", "--profile", str(profile)))
    # The digest starts with a stale index (it must rebuild it) while 300 papers arrive.
    batch = snapshot(tmp_path / "b.jsonl", 100, 300, NOW.date())
    ingest = paperbot(db, "ingest", str(batch))
    digest = paperbot(db, "digest", "run", "--now", NOW.isoformat(), "--print")
    done(ingest)
    posted = digests(done(digest))
    assert [d["channel"] for d in posted] == [7]
    ids = [i["id"] for i in posted[0]["items"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 20
    # The next day's digest has what the first one did not, and nothing twice.
    tomorrow = (NOW + dt.timedelta(days=1)).isoformat()
    more = digests(done(paperbot(db, "digest", "run", "--now", tomorrow, "--print")))
    later_ids = [i["id"] for d in more for i in d["items"]]
    assert not set(later_ids) & set(ids) and len(later_ids) == len(set(later_ids))
    assert len(later_ids) == min(100, 320 - len(ids))  # the papers the first day had no room for


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    if find_bindir() is None:
        pytest.skip("no PostgreSQL server binary (initdb/postgres) here")
    with postgres_server() as url:
        yield url


def test_cron_order_on_postgres(tmp_path: Path, pg_server: str) -> None:
    cron_order(create_database(pg_server, "cron_order"), tmp_path, url=True)
