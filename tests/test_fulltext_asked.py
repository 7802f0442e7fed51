"""Full texts for the papers people ask about, and the licence of each text (#21): answered
questions note their paper (never failing the answer), ``fulltext fetch --asked`` downloads this
week's that have no text, the licence arXiv's HTML states is recorded and shown. Never the
network: arXiv's answers are recorded here (respx)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.fulltext import attach, attach_file
from bot.fulltext.fetch import fetch_fulltext
from bot.fulltext.html import parse_html
from bot.fulltext.licence import ARXIV_NONEXCLUSIVE, UNKNOWN, html_licence, licence_name
from bot.ingest.arxiv import ArxivClient, RateLimiter
from bot.service import PaperService
from bot.store import SQLiteStore
from tests.test_cli_errors import paperbot
from tests.test_fulltext import BATCH_FACT, FILLER, GEMMA_ARXIV, GEMMA_HTML, WARP_ARXIV, build_pdf

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
# arXiv's banner, as arxiv.org/html/ID serves it: the licence line and the stamp.
BANNER = (
    '<div class="section" id="target-section"><div id="license-tr">License: CC BY 4.0</div>'
    f'<div id="watermark-tr">arXiv:{GEMMA_ARXIV}v1 [cs.CL] 31 Jul 2024</div></div>'
)
GEMMA_CC_HTML = GEMMA_HTML.replace('<div class="ltx_page_main">', BANNER + '<div class="ltx_page_main">')
WEEK = dt.timedelta(days=7)


@pytest.fixture(scope="module")
def warp_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WARP's PDF (with its arXiv stamp), as tests/test_fulltext.py builds it."""
    sections = [
        ("1 Introduction", [FILLER * 6, FILLER * 5]),
        ("4 Experimental setup", [FILLER * 3, BATCH_FACT]),
    ]
    return build_pdf(tmp_path_factory.mktemp("pdf") / "warp.pdf", sections, [])


@pytest.fixture
def db(tmp_path: Path, seeded_db: Path) -> Path:
    copy = tmp_path / "seeded.db"
    copy.write_bytes(seeded_db.read_bytes())
    return copy


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(db) as s:
        yield s


def a_week_ago() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - WEEK


def with_arxiv_ids(service: PaperService) -> tuple[str, str]:
    """WARP and Gemma 2 as arXiv papers (the seeds carry no arXiv ids): their ids."""
    warp = service.paper("WARP").model_copy(update={"arxiv_id": WARP_ARXIV})
    gemma = service.paper("Gemma 2").model_copy(update={"arxiv_id": GEMMA_ARXIV})
    service.store.put_papers([warp, gemma])
    service.invalidate()
    return warp.id, gemma.id


def offline_client() -> ArxivClient:
    return ArxivClient("paperbot-tests", retries=1, limiter=RateLimiter(0, sleep=lambda _: None))


# -- which papers people asked about ------------------------------------------------------------
def test_an_answered_question_notes_its_paper(store: SQLiteStore) -> None:
    service = PaperService(store, embedder=False)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    warp = service.paper("WARP").id
    assert warp not in store.fulltext.asked_since(since)
    service.ask("what batch size did WARP use?")  # not a person asking (the evaluation): not noted
    assert store.fulltext.asked_since(since) == []
    answer = service.ask("what batch size did WARP use?", record=True)
    assert answer.answered and answer.hits[0].paper.id == warp
    assert store.fulltext.asked_since(since) == [warp]
    # A comparison is about both papers; lists of an author's papers and unanswered questions
    # are about none.
    compared = service.ask("compare WARM and WARP", record=True)
    assert compared.intent == "compare"
    assert set(store.fulltext.asked_since(since)) == {warp, service.paper("WARM").id}
    before = store.fulltext.asked_since(since)
    assert service.ask("papers by Nino Vieillard", record=True).intent == "author"
    unanswered = service.ask("what is the boiling point of liquid nitrogen in a tokamak?", record=True)
    assert not unanswered.answered and store.fulltext.asked_since(since) == before


def test_a_read_only_database_still_answers(store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    service = PaperService(store, embedder=False)
    service.paper("WARP")  # the index is built before the database turns read-only
    store.db.execute("PRAGMA query_only = ON")  # every write now fails, as on a read-only file
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        answer = service.ask("what batch size did WARP use?", record=True)
    assert answer.answered and answer.hits[0].paper.label.startswith("WARP")
    assert "could not note the paper asked about" in caplog.text
    store.db.execute("PRAGMA query_only = OFF")
    assert store.fulltext.asked_since(a_week_ago()) == []


def test_a_long_running_process_notes_from_a_thread_of_its_own(store: SQLiteStore) -> None:
    from bot.chat.dialogue import Dialogue

    service = PaperService(store, embedder=False, background_refresh=True)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    Dialogue(service).ask("chan", "what batch size did WARP use?")  # the chat and Discord's way
    service.wait_for_records()
    assert store.fulltext.asked_since(since) == [service.paper("WARP").id]


def test_cli_ask_notes_and_fetch_asked_downloads_this_weeks(
    db: Path, tmp_path: Path, warp_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SQLiteStore(db) as store:
        service = PaperService(store, embedder=False)
        warp, gemma = with_arxiv_ids(service)
        attach(store, service.paper("WARP"), warp_pdf.read_bytes())  # WARP has its text already
        store.fulltext.record_asked(warp)
        old = service.paper("WARM").model_copy(update={"arxiv_id": "2401.12187"})
        store.put_papers([old])
        store.fulltext.record_asked(old.id, at=dt.datetime.now(dt.UTC) - WEEK - dt.timedelta(hours=1))
        no_arxiv = service.paper("BOND").id  # asked about, but arXiv cannot serve it
        store.fulltext.record_asked(no_arxiv)

    asked = paperbot(
        "--db", str(db), "ask", "--json", "how many TPUv5p chips was Gemma 2 trained on?", cwd=tmp_path
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["results"][0]["id"] == gemma
    with SQLiteStore(db) as store:
        assert gemma in store.fulltext.asked_since(a_week_ago())

    monkeypatch.setenv("PAPERBOT_ARXIV_DELAY_SECONDS", "0")
    monkeypatch.setenv("PAPERBOT_SEMANTIC", "false")
    runner = CliRunner()
    with respx.mock() as mock:  # any other address is refused: only Gemma 2 is downloaded
        page = mock.get(f"https://arxiv.org/html/{GEMMA_ARXIV}").mock(
            return_value=httpx.Response(200, text=GEMMA_CC_HTML)
        )
        fetched = runner.invoke(app, ["--db", str(db), "fulltext", "fetch", "--asked", "--json"])
        assert fetched.exit_code == 0, fetched.output
        lines = [json.loads(line) for line in fetched.stdout.splitlines()]
        assert [(r["id"], r["status"], r["kind"], r["licence"]) for r in lines] == [
            (gemma, "added", "html", CC_BY)
        ]
        assert page.call_count == 1
        again = runner.invoke(app, ["--db", str(db), "fulltext", "fetch", "--asked"])
        assert again.exit_code == 0 and again.stdout.strip() == "nothing to fetch"
        # Further back, the older question counts too (its download fails here: exit 1, said).
        mock.get("https://arxiv.org/html/2401.12187").mock(return_value=httpx.Response(404))
        mock.get("https://arxiv.org/pdf/2401.12187").mock(return_value=httpx.Response(404))
        older = runner.invoke(app, ["--db", str(db), "fulltext", "fetch", "--asked", "--days", "9", "--json"])
        assert older.exit_code == 1 and [json.loads(x)["id"] for x in older.stdout.splitlines()] == [old.id]

    listed = runner.invoke(app, ["--db", str(db), "fulltext", "list", "--json"])
    licences = {r["id"]: r["licence"] for r in json.loads(listed.stdout)}
    assert licences == {gemma: CC_BY, warp: None}  # WARP's PDF was a local file: it says nothing
    plain = runner.invoke(app, ["--db", str(db), "fulltext", "list"])
    assert "licence: CC BY 4.0" in plain.stdout and "licence: none recorded" in plain.stdout
    shown = runner.invoke(app, ["--db", str(db), "fulltext", "show", "Gemma 2"])
    assert shown.exit_code == 0 and f"licence: CC BY 4.0 ({CC_BY})" in shown.stdout
    assert "License:" not in shown.stdout and "watermark" not in shown.stdout  # the banner is no passage


def test_fetch_asked_needs_nothing_else(db: Path, tmp_path: Path) -> None:
    result = paperbot("--db", str(db), "fulltext", "fetch", "--asked", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing to fetch"


# -- the licence of a text ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("html", "licence", "name"),
    [
        ('<div id="license-tr">License: CC BY 4.0</div>', CC_BY, "CC BY 4.0"),
        (
            '<a id="license-tr" href="https://info.arxiv.org/help/license/index.html#licenses-available">'
            "License: arXiv.org perpetual non-exclusive license</a>",
            ARXIV_NONEXCLUSIVE,
            "arXiv non-exclusive",
        ),
        (
            '<a id="license-tr" href="https://creativecommons.org/licenses/by-nc-sa/4.0/">License: CC BY-NC-SA 4.0</a>',
            "http://creativecommons.org/licenses/by-nc-sa/4.0/",
            "CC BY-NC-SA 4.0",
        ),
        (
            "<div id=license-tr>License: CC Zero</div>",
            "http://creativecommons.org/publicdomain/zero/1.0/",
            "CC0 1.0",
        ),
        (
            '<div id="license-tr">License: a licence of its own</div>',
            "a licence of its own",
            "a licence of its own",
        ),
        ("<p>No licence line.</p>", None, "none recorded"),
    ],
)
def test_the_licence_arxivs_html_states(html: str, licence: str | None, name: str) -> None:
    assert html_licence(f"<html><body>{html}<article>...</article></body></html>") == licence
    assert licence_name(licence) == name


def test_a_download_records_the_licence_the_html_states_else_unknown(
    store: SQLiteStore, warp_pdf: Path, tmp_path: Path
) -> None:
    parsed = parse_html(GEMMA_CC_HTML.encode())
    assert parsed.licence == CC_BY and parse_html(GEMMA_HTML.encode()).licence is None
    assert not any("License" in b.text or "[cs.CL]" in b.text for b in parsed.blocks)
    service = PaperService(store, embedder=False)
    warp, gemma = with_arxiv_ids(service)
    client = offline_client()
    with respx.mock() as mock:
        mock.get(f"https://arxiv.org/html/{GEMMA_ARXIV}").mock(
            return_value=httpx.Response(200, text=GEMMA_CC_HTML)
        )
        mock.get(f"https://arxiv.org/html/{WARP_ARXIV}").mock(return_value=httpx.Response(404))
        mock.get(f"https://arxiv.org/pdf/{WARP_ARXIV}").mock(
            return_value=httpx.Response(200, content=warp_pdf.read_bytes())
        )
        html = fetch_fulltext(store, client, store.get_paper(gemma))  # type: ignore[arg-type]
        pdf = fetch_fulltext(store, client, store.get_paper(warp))  # type: ignore[arg-type]
    assert (html.kind, html.licence, html.to_json()["licence"]) == ("html", CC_BY, CC_BY)
    assert (pdf.kind, pdf.licence) == ("pdf", UNKNOWN)  # arXiv's PDF does not say
    assert store.fulltext.get(gemma).licence == CC_BY  # type: ignore[union-attr]
    assert store.fulltext.get(warp).licence == UNKNOWN  # type: ignore[union-attr]
    # A local file records what it says: a saved arXiv page its licence, a PDF nothing.
    saved = tmp_path / "gemma.html"
    saved.write_text(GEMMA_CC_HTML, encoding="utf-8")
    assert attach_file(store, store.get_paper(gemma), saved).licence == CC_BY  # type: ignore[arg-type]
    assert attach_file(store, store.get_paper(warp), warp_pdf).licence is None  # type: ignore[arg-type]


# -- export and import carry full texts -------------------------------------------------------------
def test_export_then_import_into_a_fresh_database_keeps_the_full_texts(
    db: Path, tmp_path: Path, warp_pdf: Path
) -> None:
    saved = tmp_path / "gemma.html"
    saved.write_text(GEMMA_CC_HTML, encoding="utf-8")
    for ref, file in (("WARP", warp_pdf), ("Gemma 2", saved)):
        assert paperbot("--db", str(db), "fulltext", "add", ref, str(file), cwd=tmp_path).returncode == 0
    exported = paperbot("--db", str(db), "export", "--json", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    papers = json.loads(exported.stdout)
    with_text = [p for p in papers if "fulltext" in p]
    assert len(with_text) == 2 and all(p["fulltext"]["passages"] for p in with_text)
    assert {p["fulltext"]["licence"] for p in with_text} == {CC_BY, None}
    dump = tmp_path / "papers.json"
    dump.write_text(exported.stdout, encoding="utf-8")

    fresh = tmp_path / "fresh.db"
    imported = paperbot("--db", str(fresh), "import", str(dump), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "full texts: 2 added" in imported.stdout
    listing = [
        paperbot("--db", str(d), "fulltext", "list", "--json", cwd=tmp_path).stdout for d in (db, fresh)
    ]
    assert json.loads(listing[0]) == json.loads(listing[1])  # hash, licence, dates, counts
    for ref in ("WARP", "Gemma 2"):
        shown = [
            paperbot("--db", str(d), "fulltext", "show", ref, "--json", cwd=tmp_path).stdout
            for d in (db, fresh)
        ]
        assert json.loads(shown[0]) == json.loads(shown[1])  # passages, sections, pages, links
    again = paperbot("--db", str(fresh), "export", "--json", cwd=tmp_path)
    assert json.loads(again.stdout) == papers  # lossless, texts included
    answer = paperbot("--db", str(fresh), "ask", "--json", "what batch size did WARP use?", cwd=tmp_path)
    assert "batch size of 128" in json.loads(answer.stdout)["passages"][0]["text"]

    # Importing again changes nothing; a damaged text is said, and its paper still imported.
    assert "full texts: 2 kept" in paperbot("--db", str(fresh), "import", str(dump), cwd=tmp_path).stdout
    with_text[0]["fulltext"]["sha256"] = "not a hash"
    with_text[1]["fulltext"]["passages"] = []
    dump.write_text(json.dumps(with_text), encoding="utf-8")
    other = tmp_path / "other.db"
    bad = paperbot("--db", str(other), "import", str(dump), cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout.startswith("2 added")
    assert bad.stderr.count("full text: sha256") == 1 and bad.stderr.count("full text: passages") == 1
    assert paperbot("--db", str(other), "fulltext", "list", "--json", cwd=tmp_path).stdout.strip() == "[]"


def test_the_console_chat_notes_before_it_leaves(db: Path, tmp_path: Path) -> None:
    import subprocess

    from tests.test_cli_errors import SCRIPT

    result = subprocess.run(
        [str(SCRIPT), "--db", str(db), "chat"],
        input="what batch size did WARP use?\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PAPERBOT_SEMANTIC": "false",
            "PAPERBOT_LOG_FILE": str(tmp_path / "log"),
        },
    )
    assert result.returncode == 0, result.stderr
    with SQLiteStore(db) as store:
        warp = PaperService(store, embedder=False).paper("WARP").id
        assert warp in store.fulltext.asked_since(a_week_ago())
