"""Shared fixtures: the bundled seeds and stores in temp files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.pipeline import ingest_paths
from bot.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    with SQLiteStore(tmp_path / "test.db") as s:
        yield s


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the bundled seeds ingested once for the whole session."""
    path = tmp_path_factory.mktemp("seeded") / "seeds.db"
    with SQLiteStore(path) as s:
        ingest_paths(s, [SEEDS])
    return path


@pytest.fixture
def seeded_store(seeded_db: Path) -> SQLiteStore:
    with SQLiteStore(seeded_db) as s:
        yield s
