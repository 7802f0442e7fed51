"""``paperbot fetch`` against a local arXiv stand-in on 127.0.0.1, killed at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bot.store import SQLiteStore
from bot.store.sqlite import integrity_problems

PAGE = 50
TOTAL = 400


def atom_page(start: int, size: int) -> bytes:
    entries = []
    for n in range(start, min(start + size, TOTAL)):
        entries.append(
            f"""<entry><id>http://arxiv.org/abs/2611.{n:05d}v1</id>
            <published>2026-11-2{n % 5}T10:00:00Z</published><updated>2026-11-24T10:00:00Z</updated>
            <title>Local Paper Number {n}</title><summary>An abstract about topic {n % 7} and method {n}.</summary>
            <author><name>Author {n % 11} Smith</name></author>
            <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG"/>
            <category term="cs.LG"/></entry>"""
        )
    return (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{"".join(entries)}</feed>'.encode()
    )


class SlowArxiv(BaseHTTPRequestHandler):
    """Pages of the API, each after a short pause, so that kills land mid-fetch too."""

    def do_GET(self) -> None:
        params = parse_qs(urlparse(self.path).query)
        start = int(params.get("start", ["0"])[0])
        size = int(params.get("max_results", [str(PAGE)])[0])
        time.sleep(0.15)
        body = atom_page(start, size)
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def local_arxiv() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowArxiv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/query"
    server.shutdown()


def fetch_command(db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot",
        "--db",
        str(db),
        "fetch",
        "--category",
        "cs.LG",
        "--days",
        "30",
        "--limit",
        str(TOTAL),
    ]


def test_fetch_killed_at_random_points_then_completed(tmp_path: Path, local_arxiv: str) -> None:
    env = {**os.environ, "PAPERBOT_ARXIV_API_URL": local_arxiv, "PAPERBOT_ARXIV_DELAY_SECONDS": "0"}
    reference = tmp_path / "reference.sqlite"
    start = time.perf_counter()
    done = subprocess.run(fetch_command(reference), env=env, capture_output=True, text=True, timeout=120)
    full = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert "400 added" in done.stdout
    rng = random.Random(5)
    kills = 0
    for attempt in range(6):
        db = tmp_path / f"run-{attempt}.sqlite"
        process = subprocess.Popen(
            fetch_command(db), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.1, 0.95) * full)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        if db.exists():
            with SQLiteStore(db) as store:
                assert integrity_problems(store) == []
                assert store.count_papers() in (0, TOTAL)
        again = subprocess.run(fetch_command(db), env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        with SQLiteStore(db) as store:
            ids = [p.arxiv_id for p in store.iter_papers()]
            assert len(ids) == len(set(ids)) == TOTAL
    assert kills >= 3
