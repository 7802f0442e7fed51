"""The service on the bundled seeds: search, answers, authors, similar papers, hostile input."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import NotFound
from bot.service import PaperService
from bot.store import SQLiteStore
from tests.conftest import FIXTURES

HIT_KEYS = {"id", "title", "authors", "abstract", "category", "date", "score", "links"}


@pytest.fixture(scope="module")
def service(seeded_db: Path) -> PaperService:
    return PaperService(SQLiteStore(seeded_db))


def titles(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.paper.label for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("GKD", "On-Policy Distillation of Language Models: Learning from Self-Generated Mistakes"),
        ("WARP", "WARP: On the Benefits of Weight Averaged Rewarded Policies"),
        ("munchausen reinforcment learning", "Munchausen Reinforcement Learning"),
        ("gemma3 tech report", "Gemma 3 Technical Report"),
        ("RLDS", "RLDS"),
        ("Reverb", "Reverb"),
        ("which paper averages reward models?", "WARM: On the Benefits of Weight Averaged Reward Models"),
    ],
)
def test_search_finds(service: PaperService, query: str, expected: str) -> None:
    assert titles(service.search(query, k=3))[0].startswith(expected)


def test_author_queries_return_every_paper_newest_first(service: PaperService) -> None:
    hits = service.search("papers by Julien Perolat")
    assert len(hits) == 6
    dates = [h.paper.date for h in hits]
    assert dates == sorted(dates, reverse=True)
    assert all("julien perolat" in {a.lower().replace("é", "e") for a in h.paper.authors} for h in hits)


def test_filters(service: PaperService) -> None:
    hits = service.search("reinforcement learning", k=50, category="OC")
    assert titles(hits) == ["Fictitious Play for Mean Field Games: Continuous Time Analysis and Applications"]
    recent = service.search("reinforcement learning", k=50, since=dt.date(2024, 1, 1))
    assert recent and all(h.paper.date and h.paper.date >= dt.date(2024, 1, 1) for h in recent)
    by = service.search("mean field games", k=50, author="Sarah Perrin")
    assert by and all("Sarah Perrin" in h.paper.authors for h in by)


def test_ask_gives_passages_that_answer(service: PaperService) -> None:
    answer = service.ask("what is GKD?")
    assert answer.hits[0].paper.title and answer.hits[0].paper.title.startswith("On-Policy Distillation")
    assert 1 <= len(answer.passages) <= 3
    assert any("GKD" in p.text for p in answer.passages)
    best = answer.hits[0].paper
    assert all(p.paper_id == best.id and p.section == "Abstract" and p.page is None for p in answer.passages)
    passage = answer.to_json()["passages"][0]
    assert set(passage) == {"text", "paper_id", "section", "page", "link"}
    assert passage["link"] == best.links.get("abs", best.links["arxiv_search"])
    assert len(answer.hits) <= 5
    data = answer.to_json()
    assert set(data) >= {"intent", "text", "results"}
    assert all(set(hit) >= HIT_KEYS for hit in data["results"])
    assert "arxiv.org/search" in answer.text


def test_similar_excludes_the_paper_itself(service: PaperService) -> None:
    hits = service.similar("Hindsight Credit Assignment", k=3)
    assert "Hindsight Credit Assignment" not in titles(hits)
    assert "Counterfactual Credit Assignment in Model-Free Reinforcement Learning" in titles(hits)


def test_paper_lookup(service: PaperService) -> None:
    paper = service.paper("mean field games flock")
    assert paper.title == "Mean Field Games Flock! The Reinforcement Learning Way"
    assert service.paper(paper.id) == paper
    with pytest.raises(NotFound):
        service.paper("zzzz qqqq xxxx")


def test_author_and_completion(service: PaperService) -> None:
    name, papers = service.author("perolat")
    assert name == "Julien Pérolat" and len(papers) == 6
    assert service.complete_authors("hussen")[0] == "Léonard Hussenot"
    choices = service.complete_titles("gemma 2")
    assert choices[0][0].startswith("Gemma 2") and len(choices) <= 25
    with pytest.raises(NotFound):
        service.author("Nobody Atall")


def test_empty_answers_say_why(service: PaperService) -> None:
    assert service.ask("").empty_reason
    answer = service.ask("what has Olivier Pietquin written on spiking neurons?")
    assert answer.hits == [] and "Pietquin" in (answer.empty_reason or "")


HOSTILE = [
    '"unbalanced quote',
    "*",
    "NEAR(reward model, 3)",
    "-reward -model",
    "reward AND OR NOT model",
    "🤖🧠📄",
    "'; DROP TABLE papers; --",
    "\x00\x01\x02",
    "a" * 10_000,
    "reinforcement " * 2_000,
    "papers by " + "x" * 5000,
    "similar to",
    "latest",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries(service: PaperService, query: str) -> None:
    hits = service.search(query)
    assert isinstance(hits, list)
    answer = service.ask(query)
    assert answer.text
    assert service.store.count_papers() == 53


@given(st.text(max_size=300))
@settings(max_examples=60, deadline=None)
def test_any_text_is_a_valid_query(service: PaperService, text: str) -> None:
    service.search(text, k=3)
    assert service.ask(text).text


def test_cli_search_ask_batch(seeded_db: Path, tmp_path: Path) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(seeded_db), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    hits = json.loads(cli("search", "mean field games", "-k", "3", "--since", "2021", "--json"))
    assert len(hits) == 3 and all(set(h) >= HIT_KEYS for h in hits)
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"q": "GKD"}) + "\n" + json.dumps({"q": "papers by Sarah Perrin"}) + "\n")
    lines = [json.loads(line) for line in cli("search", "--batch", str(batch), "--json").splitlines()]
    assert [row["q"] for row in lines] == ["GKD", "papers by Sarah Perrin"]
    assert lines[0]["results"][0]["title"].startswith("On-Policy Distillation")
    answer = json.loads(cli("ask", "what is GKD?", "--json"))
    assert answer["intent"] == "acronym" and answer["results"]
    report = cli("eval", "--questions", str(FIXTURES / "eval" / "dev_questions.jsonl"))
    assert "hit@1=" in report and "MRR@10=" in report


def test_index_is_saved_reused_and_rebuilt_after_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.ingest.pipeline import ingest_paths
    from bot.search import build
    from tests.conftest import SEEDS

    store = SQLiteStore(tmp_path / "db.sqlite")
    ingest_paths(store, [SEEDS / "000_c71aa63bccfb9544.txt"])
    first = PaperService(store, embedder=False)
    assert len(first.engine) == 6
    assert (tmp_path / "db.sqlite.index" / "meta.json").exists()
    builds = []
    monkeypatch.setattr(build, "build_engine", lambda *a, **k: builds.append(1))
    again = PaperService(store, embedder=False)
    assert len(again.engine) == 6 and builds == []  # loaded from disk
    assert again.search("BOND best-of-n", k=1)[0].paper.title.startswith("BOND")
    monkeypatch.undo()
    ingest_paths(store, [SEEDS])
    again.invalidate()  # as service.ingest does; other processes' ingests are seen within a second
    assert len(again.engine) == 53  # the corpus changed: rebuilt


def test_long_running_service_answers_from_the_current_index_while_another_process_ingests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection's ingest does not make a question wait: the old index answers at once,
    the new one is built in the background and swapped in (SearcherManager)."""
    import threading

    from bot import service as service_module
    from bot.ingest.pipeline import ingest_paths
    from tests.conftest import SEEDS

    path = tmp_path / "db.sqlite"
    ingest_paths(SQLiteStore(path), [SEEDS / "000_c71aa63bccfb9544.txt"])
    live = PaperService(SQLiteStore(path), embedder=False, background_refresh=True)
    assert len(live.engine) == 6
    release = threading.Event()
    real_build = PaperService._build_engine

    def slow_build(self: PaperService, merge: bool = True):  # type: ignore[no-untyped-def]
        release.wait(10)  # hold the refresh until the old index has answered
        return real_build(self, merge)

    monkeypatch.setattr(PaperService, "_build_engine", slow_build)
    monkeypatch.setattr(service_module, "VERSION_CHECK_SECONDS", 0.0)
    ingest_paths(SQLiteStore(path), [SEEDS])  # another process's ingest
    assert len(live.engine) == 6  # answered from the current index, without waiting
    assert live.search("BOND best-of-n", k=1)[0].paper.title.startswith("BOND")
    release.set()
    live.wait_for_refresh(10)
    assert len(live.engine) == 53  # swapped in
    assert live.search("munchausen reinforcement learning", k=1)[0].paper.title.startswith("Munchausen")


def test_own_ingest_is_read_at_once_even_when_refreshing_in_background(tmp_path: Path) -> None:
    from bot.ingest.pipeline import ingest_paths
    from tests.conftest import SEEDS

    store = SQLiteStore(tmp_path / "db.sqlite")
    ingest_paths(store, [SEEDS / "000_c71aa63bccfb9544.txt"])
    live = PaperService(store, embedder=False, background_refresh=True)
    assert len(live.engine) == 6
    ingest_paths(store, [SEEDS])
    live.invalidate()  # this process wrote: the next answer must see it
    assert len(live.engine) == 53
