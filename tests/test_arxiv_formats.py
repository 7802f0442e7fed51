"""arXiv inputs as files: API Atom, RSS listings, the bulk snapshot; merging with the seeds."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest.formats import parse_atom, parse_rss, snapshot_paper
from bot.ingest.pipeline import ingest_paths
from bot.ingest.seeds import ParsedPaper
from bot.store import SQLiteStore
from tests.conftest import FIXTURES, SEEDS

ARXIV = FIXTURES / "arxiv"


def papers(items) -> list:  # type: ignore[no-untyped-def]
    return [i.paper for i in items if isinstance(i, ParsedPaper)]


def test_atom_entries() -> None:
    found = papers(parse_atom((ARXIV / "api_response.xml").read_bytes(), "api.xml"))
    assert [p.arxiv_id for p in found] == ["2401.12187", "2611.04321", "hep-th/9901001"]
    warm, sparse, old = found
    assert warm.title == "WARM: On the Benefits of Weight Averaged Reward Models"  # line wrap undone
    assert warm.authors[0] == "Alexandre Ramé" and len(warm.authors) == 5 and not warm.et_al
    assert warm.categories == ["cs.LG", "cs.AI", "cs.CL"] and warm.category == "cs.LG"
    assert warm.date == dt.date(2024, 1, 22) and warm.version == 1 and warm.comment == "Accepted at ICML 2024"
    assert (
        sparse.version == 2
        and sparse.updated == dt.date(2026, 11, 20)
        and sparse.doi == "10.1234/example.5678"
    )
    assert sparse.has_code and sparse.orgs == ["Example University"] and sparse.categories[0] == "cs.LG"
    assert old.links["abs"] == "https://arxiv.org/abs/hep-th/9901001"
    assert sparse.links["pdf"].endswith("2611.04321v2")


def test_rss_items_and_announce_types() -> None:
    found = papers(parse_rss((ARXIV / "rss_cs_lg.xml").read_bytes(), "rss.xml"))
    new, cross, replace = found
    assert new.arxiv_id == "2611.08888" and new.date == dt.date(2026, 11, 24)
    assert new.authors == ["Sarah Perrin", "Mathieu Laurière", "Julien Pérolat"]
    assert new.abstract.startswith("We model large populations")
    assert cross.authors == ["Rishabh Agarwal", "Johan Ferret"] and cross.categories == ["cs.CL", "cs.LG"]
    assert replace.version == 2 and replace.date is None  # a new version, not a new paper


def test_snapshot_rows() -> None:
    rows = [
        json.loads(line)
        for line in (ARXIV / "snapshot.jsonl").read_text().splitlines()
        if line.startswith("{")
    ]
    paper = snapshot_paper(rows[0], "s.jsonl")
    assert paper.arxiv_id == "0704.0001" and paper.version == 2
    assert paper.date == dt.date(2007, 4, 2) and paper.updated == dt.date(2008, 11, 13)
    assert paper.authors[0] == "C. Balázs" and paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert (
        paper.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )


@pytest.mark.parametrize("name", ["snapshot.jsonl", "snapshot.jsonl.gz"])
def test_snapshot_files_stream_and_report_bad_lines(tmp_path: Path, name: str) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        report = ingest_paths(store, [ARXIV / name])
        assert store.count_papers() == 3
    assert [(s.line, s.reason.split(" ")[0]) for s in report.skipped] == [(3, "bad"), (4, "not")]


def test_category_filter(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        ingest_paths(store, [ARXIV / "snapshot.jsonl"], categories=["cs.LG"])
        assert sorted(p.arxiv_id for p in store.iter_papers()) == ["2106.01345", "2611.07777"]


def test_hostile_xml_is_refused_with_a_line(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        bomb = ingest_paths(store, [ARXIV / "billion_laughs.xml"])
        broken = ingest_paths(store, [ARXIV / "malformed_api.xml"])
        assert store.count_papers() == 2  # the two entries before the break
    assert "refused XML" in bomb.skipped[0].reason
    assert broken.skipped[0].line > 1 and "malformed XML" in broken.skipped[0].reason


def test_arxiv_papers_enrich_seed_papers_and_replace_updates_in_place(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "db.sqlite") as store:
        ingest_paths(store, [SEEDS])
        api = ingest_paths(store, [ARXIV / "api_response.xml"])
        assert (api.added, api.updated) == (2, 1)  # WARM is a seed paper: enriched, not new
        warm = next(p for p in store.iter_papers() if p.arxiv_id == "2401.12187")
        assert warm.title == "WARM: On the Benefits of Weight Averaged Reward Models"
        assert "001_ac5f9d5c4ea2d2ec.txt" in warm.sources and "api_response.xml" in warm.sources
        assert len(warm.authors) == 5 and warm.links["abs"] == "https://arxiv.org/abs/2401.12187"
        rss = ingest_paths(store, [ARXIV / "rss_cs_lg.xml"])
        assert (rss.added, rss.updated) == (2, 1)  # the replace is not new
        warm = store.find_by_arxiv_id("2401.12187")
        assert warm is not None and warm.version == 2 and "second version" in warm.abstract
        assert warm.date == dt.date(2024, 1, 22)  # still its first date
        assert any("weight space" in a for a in warm.other_abstracts)  # v1 kept


def test_fuzzy_title_enrichment_needs_the_same_first_author(tmp_path: Path) -> None:
    text = (ARXIV / "api_response.xml").read_bytes()
    fuzzy = text.replace(
        b"WARM: On the Benefits of Weight Averaged Reward\n  Models",
        b"WARM: The Benefits of Weight-Averaged Reward Models",
    )
    (tmp_path / "fuzzy.xml").write_bytes(fuzzy)
    (tmp_path / "other.xml").write_bytes(fuzzy.replace("Alexandre Ramé".encode(), b"Someone Else"))
    with SQLiteStore(tmp_path / "a.sqlite") as store:
        ingest_paths(store, [SEEDS])
        ingest_paths(store, [tmp_path / "fuzzy.xml"])
        assert store.count_papers() == 55  # WARM merged, two others added
    with SQLiteStore(tmp_path / "b.sqlite") as store:
        ingest_paths(store, [SEEDS])
        ingest_paths(store, [tmp_path / "other.xml"])
        assert store.count_papers() == 56  # another first author: another paper


def test_cli_list_shows_arxiv_fields(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    for path in (SEEDS, ARXIV / "api_response.xml"):
        subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(db), "ingest", str(path)],
            check=True,
            capture_output=True,
        )
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(db), "list", "--json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    sparse = next(p for p in listed if p["arxiv_id"] == "2611.04321")
    assert sparse["version"] == 2 and sparse["links"]["abs"] == "https://arxiv.org/abs/2611.04321"
    assert "bibtex" in sparse and "eprint = {2611.04321}" in sparse["bibtex"]
    seed_only = next(p for p in listed if p["title"] == "Munchausen Reinforcement Learning")
    assert seed_only["arxiv_id"] is None and seed_only["version"] is None
