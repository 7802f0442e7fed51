"""Ingest into the SQLite store: the 53 seed papers, merging, linking, idempotency, atomicity."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest import pipeline
from bot.ingest.pipeline import ingest_paths
from bot.models import author_key
from bot.search.build import build_engine
from bot.search.engine import document_text
from bot.store import SQLiteStore
from tests.conftest import SEEDS

GKD_TITLE = "On-Policy Distillation of Language Models: Learning from Self-Generated Mistakes"


def test_seeds_hold_53_distinct_papers(seeded_store: SQLiteStore) -> None:
    papers = list(seeded_store.iter_papers())
    assert len(papers) == 53
    assert sum(p.title is None for p in papers) == 3
    labels = sorted(p.label for p in papers if p.title is None)
    assert labels[0].startswith("RLDS") and labels[1].startswith("Reverb")
    assert labels[2].startswith("We address the issue of tuning hyperparameters")


def test_papers_listed_in_several_files_keep_every_source(seeded_store: SQLiteStore) -> None:
    gemma2 = next(p for p in seeded_store.iter_papers() if p.title and p.title.startswith("Gemma 2:"))
    assert sorted(gemma2.sources) == sorted(
        f.name for f in SEEDS.glob("*.txt")
    )  # in every file, 002 by its abstract


def test_older_gkd_abstract_is_linked_and_kept(seeded_store: SQLiteStore) -> None:
    (gkd,) = [p for p in seeded_store.iter_papers() if p.title == GKD_TITLE]
    assert "002_40f23afc402a7976.txt" in gkd.sources
    assert len(gkd.other_abstracts) == 1
    assert "Generalized Knowledge Distillation (GKD)" in gkd.other_abstracts[0]
    assert gkd.other_abstracts[0].startswith("Knowledge distillation is commonly used")
    assert "GKD" in document_text(gkd)  # what search indexes holds every abstract version


def test_authors_are_accent_folded_but_displayed_with_accents(seeded_store: SQLiteStore) -> None:
    names = seeded_store.author_names()
    shown, count = names[author_key("Julien Perolat")]
    assert shown == "Julien Pérolat"
    assert count == 6  # written "Pérolat" in four papers and "Perolat" in two
    engine = build_engine(seeded_store)  # "papers by" reads the index's author -> papers rows
    assert len(engine.author_papers.docs_with("julien perolat")) == 6


def test_reingest_changes_nothing(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        first = ingest_paths(store, [SEEDS])
        before = [p.model_dump() for p in store.iter_papers()]
        second = ingest_paths(store, [SEEDS])
        assert (first.added, first.updated) == (53, 0)
        assert (second.added, second.updated, second.unchanged) == (0, 0, 53)
        assert [p.model_dump() for p in store.iter_papers()] == before


def test_file_order_does_not_matter(tmp_path: Path) -> None:
    """Abstract-only records arriving before their titled paper are linked later."""
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        ingest_paths(store, [SEEDS / "002_40f23afc402a7976.txt"])
        assert store.count_papers() == 8
        report = ingest_paths(store, sorted(SEEDS.glob("*.txt"), reverse=True))
        assert store.count_papers() == 53
        assert report.updated + report.added == 53 - 3 + 3 or report.added == 50
        (gkd,) = [p for p in store.iter_papers() if p.title == GKD_TITLE]
        assert len(gkd.other_abstracts) == 1


def test_failure_mid_ingest_leaves_database_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        ingest_paths(store, [SEEDS / "000_c71aa63bccfb9544.txt"])
        before = [p.model_dump() for p in store.iter_papers()]
        calls = {"n": 0}
        original = pipeline.Ingest.add

        def exploding(self: pipeline.Ingest, paper):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 20:
                raise RuntimeError("disk on fire")
            return original(self, paper)

        monkeypatch.setattr(pipeline.Ingest, "add", exploding)
        with pytest.raises(RuntimeError):
            ingest_paths(store, [SEEDS])
        assert [p.model_dump() for p in store.iter_papers()] == before
        last = store.last_ingest()
        assert last is not None and last.added == 6


def test_malformed_files_mixed_in(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SEEDS, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "broken.txt").write_text(
        "LGJul 28, 2020\nno title split possible\nabstract\nLGJul 30, 2020\nA Good PaperAnna Smith, Bob Jones\nFine.\nCLJan"
    )
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        report = ingest_paths(store, [folder])
        assert store.count_papers() == 54
        reasons = {str(s) for s in report.skipped}
        assert any(r.startswith("broken.txt:2: ") for r in reasons)
        assert any(r.startswith("broken.txt:7: ") for r in reasons)
        assert any(r.startswith("binary.txt:1: ") for r in reasons)
        assert report.exit_code == 1


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), *args], capture_output=True, text=True, timeout=120
    )


def test_cli_ingest_and_list(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    result = run_cli("ingest", db=db)
    assert result.returncode == 0, result.stderr
    assert "53 added" in result.stdout
    listed = json.loads(run_cli("list", "--json", db=db).stdout)
    assert len(listed) == 53
    keys = {
        "id",
        "title",
        "authors",
        "et_al",
        "orgs",
        "category",
        "date",
        "has_code",
        "abstract",
        "sources",
        "arxiv_id",
        "version",
        "links",
    }
    assert all(keys <= set(p) for p in listed)
    munchausen = next(p for p in listed if p["title"] == "Munchausen Reinforcement Learning")
    assert munchausen["date"] == "2020-07-28" and munchausen["et_al"] is False
    assert munchausen["links"]["arxiv_search"].startswith("https://arxiv.org/search/")


def test_cli_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    bad = tmp_path / "bad.txt"
    bad.write_text("LGJul 28, 2020\nA Good PaperAnna Smith, Bob Jones\nFine.\nLGJul 29, 2020\n")
    partial = run_cli("ingest", str(bad), db=db)
    assert partial.returncode == 1
    assert "bad.txt:4: truncated record" in partial.stderr
    missing = run_cli("ingest", str(tmp_path / "nope.txt"), db=db)
    assert missing.returncode == 2
    assert "nope.txt" in missing.stderr and "Traceback" not in missing.stderr
