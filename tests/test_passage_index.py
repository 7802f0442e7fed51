"""The library-wide passage index (bot/fulltext/index.py): a question that names no paper, whose
answer is in no abstract but in a paper's body, is answered from that body (the paper first, the
passage quoted with its section, page and link); the index is saved beside the paper index,
reused while the full texts are unchanged and extended by a segment when one is added; through ``ask --json``
too. Built from tests/test_fulltext.py's WARP PDF and Gemma 2 HTML. Never the network."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.fulltext import attach
from bot.fulltext.index import build, passage_folder
from bot.search.analysis import analyze
from bot.service import PaperService
from bot.store import SQLiteStore
from tests.test_cli_errors import paperbot
from tests.test_fulltext import GEMMA_ARXIV, GEMMA_HTML, WARP_ARXIV, db, warp_pdf  # noqa: F401 (fixtures)

BATCH_QUESTION = "what batch size and learning rate were used for training?"
CHIPS_QUESTION = "how many TPUv5p chips were used for training?"
DROPOUT_FACT = "We set the dropout rate to 0.13 and average the results over 9 random seeds."
DROPOUT_QUESTION = "what dropout rate was set, and over how many random seeds?"


def html_paper(title: str, arxiv_id: str, sections: list[tuple[str, list[str]]]) -> str:
    """A paper as arXiv's LaTeXML renders it: numbered sections of paragraphs with their anchors."""
    body = "".join(
        f'<section id="S{n}" class="ltx_section"><h2 class="ltx_title ltx_title_section">'
        f'<span class="ltx_tag ltx_tag_section">{n} </span>{heading}</h2>'
        + "".join(
            f'<div id="S{n}.p{i}" class="ltx_para"><p class="ltx_p">{text}</p></div>'
            for i, text in enumerate(paragraphs, 1)
        )
        + "</section>"
        for n, (heading, paragraphs) in enumerate(sections, 1)
    )
    return (
        f'<!DOCTYPE html><html><head><title>{title}</title><link rel="canonical" '
        f'href="https://arxiv.org/html/{arxiv_id}v1"></head><body><article class="ltx_document">'
        f'<h1 class="ltx_title ltx_title_document">{title}</h1>{body}</article></body></html>'
    )


@pytest.fixture
def store(db: Path, warp_pdf: Path) -> Iterator[SQLiteStore]:  # noqa: F811
    """The seeds with WARP's PDF and Gemma 2's HTML attached."""
    with SQLiteStore(db) as store:
        service = PaperService(store, embedder=False)
        attach(store, service.paper("WARP"), warp_pdf.read_bytes(), source="warp.pdf")
        attach(store, service.paper("Gemma 2"), GEMMA_HTML.encode(), source="gemma2.html")
        yield store


def test_a_question_naming_no_paper_is_answered_from_the_body_that_holds_it(db: Path, warp_pdf: Path) -> None:  # noqa: F811
    with SQLiteStore(db) as store:
        service = PaperService(store, embedder=False)
        before = service.ask(BATCH_QUESTION)  # no abstract says it
        assert not before.answered and not before.passages
        warp, gemma = service.paper("WARP"), service.paper("Gemma 2")
        attach(store, warp, warp_pdf.read_bytes(), source="warp.pdf")
        attach(store, gemma, GEMMA_HTML.encode(), source="gemma2.html")

        answer = service.ask(BATCH_QUESTION)
        assert answer.answered and answer.hits[0].paper.id == warp.id
        first = answer.passages[0]
        assert "batch size of 128" in first.text and first.paper_id == warp.id
        assert first.section == "4 Experimental setup" and isinstance(first.page, int)
        assert first.link == f"https://arxiv.org/pdf/{WARP_ARXIV}#page={first.page}"
        assert "batch size of 128" in answer.text and "§4 Experimental setup" in answer.text

        chips = service.ask(CHIPS_QUESTION)
        assert chips.answered and chips.hits[0].paper.id == gemma.id
        assert "6144 chips" in chips.passages[0].text and chips.passages[0].page is None
        assert chips.passages[0].link == f"https://arxiv.org/html/{GEMMA_ARXIV}#S3.SS1"

        # What no body covers stays unanswered; the abstract still answers what it says.
        assert not service.ask("who won the football world cup in 1998?").answered
        averages = service.ask("which paper averages reward models?")
        assert averages.hits[0].paper.title.startswith("WARM") and averages.passages[0].section == "Abstract"


def test_a_question_about_a_named_paper_keeps_to_that_paper(store: SQLiteStore) -> None:
    service = PaperService(store, embedder=False)
    gemma = service.paper("Gemma 2")
    # Gemma 2's text says nothing of a batch size; WARP's does, but the question is about Gemma 2.
    answer = service.ask("what batch size did Gemma 2 use?")
    assert answer.hits[0].paper.id == gemma.id
    assert all(p.paper_id == gemma.id for p in answer.passages)
    assert not any("batch size of 128" in p.text for p in answer.passages)
    # A name the question uses must be the passage's paper's: Gemma 2's chips are not Llama 3's.
    for question in (
        "how many TPUv5p chips was Llama 3 trained on?",
        "how many TPUv5p chips was Gemma 3 trained on?",
    ):
        other = service.ask(question)
        assert not any("6144" in p.text for p in other.passages), question
    named = service.ask("what batch size did WARP use?")  # its own body, as before
    assert named.hits[0].paper.title.startswith("WARP") and "batch size of 128" in named.passages[0].text


def test_the_index_is_saved_reused_and_extended_when_a_text_is_added(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = PaperService(store, embedder=False)
    assert service.ask(BATCH_QUESTION).answered and service.passage_indexes.builds == 1
    folder = passage_folder(store.index_folder())
    assert folder is not None and folder.name == "seeded.db.index.passages"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["fulltext_version"] == store.fulltext.version() == "2:2"
    index = service.passage_indexes.current()
    body = list(store.fulltext.iter_passages(skip_sections=["Abstract", "Front matter"]))
    assert index is not None and index.size == len(body) > 10
    assert {index.place(r)[0] for r in range(index.size)} == {
        service.paper("WARP").id,
        service.paper("Gemma 2").id,
    }

    service.ask(CHIPS_QUESTION)
    assert service.passage_indexes.builds == 1  # nothing changed: the same index
    other = PaperService(store, embedder=False)  # another process: the saved one, memory-mapped
    assert other.ask(BATCH_QUESTION).answered and other.passage_indexes.builds == 0
    loaded = other.passage_indexes.current()
    assert loaded is not None and isinstance(loaded.lexical.indices, np.memmap)

    warm = service.paper("WARM")
    assert DROPOUT_FACT not in service.ask(DROPOUT_QUESTION).text
    page = html_paper(
        warm.label,
        "2401.12187",
        [
            (
                "Method",
                ["We ensemble reward models fine-tuned from a shared initialisation. " * 4, DROPOUT_FACT],
            )
        ],
    )
    attach(store, warm, page.encode(), source="warm.html")
    answer = service.ask(DROPOUT_QUESTION)
    extended = service.passage_indexes.current()
    assert extended is not None and extended.base is not None  # a segment, not a rebuild
    assert service.passage_indexes.builds == 1 and store.fulltext.version() == "3:3"
    assert json.loads((folder / "meta.json").read_text())["fulltext_version"] == "2:2"  # the base
    fresh = build(store)  # BM25 across the segments: the scores of a fresh build
    for question in (DROPOUT_QUESTION, BATCH_QUESTION, CHIPS_QUESTION):
        terms = analyze(question)
        ours = {extended.place(r): round(s, 4) for r, s, _ in extended.best(terms, 5, 0.2)}
        theirs = {fresh.place(r): round(s, 4) for r, s, _ in fresh.best(terms, 5, 0.2)}
        assert ours == theirs and ours
    assert answer.answered and answer.hits[0].paper.id == warm.id
    assert (
        answer.passages[0].text == DROPOUT_FACT
        and answer.passages[0].link == "https://arxiv.org/html/2401.12187#S1"
    )

    store.fulltext.remove(warm.id)  # gone from the index too
    assert not any(p.paper_id == warm.id for p in service.ask(DROPOUT_QUESTION).passages)
    assert service.passage_indexes.builds == 1
    monkeypatch.setattr("bot.fulltext.index.MERGE_MIN", 0)  # changes that outgrow the base: rebuilt
    attach(store, warm, page.encode(), source="warm.html")
    assert service.ask(DROPOUT_QUESTION).hits[0].paper.id == warm.id
    assert service.passage_indexes.builds == 2
    assert json.loads((folder / "meta.json").read_text())["fulltext_version"] == store.fulltext.version()
    assert not list(folder.parent.glob(".passages-*"))  # no temp folder left behind


def test_ask_json_answers_from_any_body(db: Path, tmp_path: Path, warp_pdf: Path) -> None:  # noqa: F811
    added = paperbot("--db", str(db), "fulltext", "add", "WARP", str(warp_pdf), "--json", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    warp_id = json.loads(added.stdout)["id"]
    asked = paperbot("--db", str(db), "ask", "--json", BATCH_QUESTION, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answered"] is True and answer["results"][0]["id"] == warp_id
    first = answer["passages"][0]
    assert set(first) == {"text", "paper_id", "section", "page", "link"}
    assert "batch size of 128" in first["text"] and first["paper_id"] == warp_id
    assert first["section"] == "4 Experimental setup" and isinstance(first["page"], int)
    assert first["link"] == f"https://arxiv.org/pdf/{WARP_ARXIV}#page={first['page']}"
    saved = json.loads((Path(f"{db}.index.passages") / "meta.json").read_text())

    gemma_html = tmp_path / "gemma2.html"
    gemma_html.write_text(GEMMA_HTML, encoding="utf-8")
    assert (
        paperbot("--db", str(db), "fulltext", "add", "Gemma 2", str(gemma_html), cwd=tmp_path).returncode == 0
    )
    asked = paperbot("--db", str(db), "ask", "--json", CHIPS_QUESTION, cwd=tmp_path)
    answer = json.loads(asked.stdout)
    assert answer["answered"] is True and answer["results"][0]["title"].startswith("Gemma 2:")
    assert "6144 chips" in answer["passages"][0]["text"]
    assert answer["passages"][0]["link"] == f"https://arxiv.org/html/{GEMMA_ARXIV}#S3.SS1"
    # The second text went into a segment: the saved index is still the first one's.
    assert json.loads((Path(f"{db}.index.passages") / "meta.json").read_text()) == saved
