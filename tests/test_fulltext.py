"""Full texts: PDFs (built here with reportlab) and arXiv HTML (strings here) parsed into passages
with section, page and anchor; bad files refused with one clear error and nothing stored; the
CLI's ``fulltext add/list`` and ``ask --json`` quoting the body, end to end. Never the network."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import letter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from bot.fulltext import FulltextError, attach, body_passages, parse_document, place_link
from bot.fulltext.html import parse_html
from bot.fulltext.pdf import parse_pdf
from bot.fulltext.text import join_lines, pieces, repair
from bot.service import PaperService
from bot.store import SQLiteStore
from tests.test_cli_errors import paperbot

WARP_TITLE = "WARP: On the Benefits of Weight Averaged Rewarded Policies"
WARP_ARXIV = "2406.16768"
GEMMA_ARXIV = "2408.00118"
FILLER = (
    "Reinforcement learning from human feedback aligns large language models with human preferences, "
    "but it raises questions about the stability of the optimisation and the diversity of the results. "
)
BATCH_FACT = (
    "We train every policy with a batch size of 128 prompts and a learning rate of 1e-6 on 64 TPU v5e chips."
)
KL_FACT = "The coefficient of the KL regularization is 0.05 in all our runs."
HEADER = "WARP: weight averaged rewarded policies (preprint)"

BODY = ParagraphStyle(
    "body", fontName="Times-Roman", fontSize=10, leading=12, alignment=TA_JUSTIFY, spaceAfter=6
)
H1 = ParagraphStyle("h1", fontName="Times-Bold", fontSize=12, leading=14, spaceBefore=8, spaceAfter=6)
H2 = ParagraphStyle("h2", fontName="Times-Bold", fontSize=10, leading=12, spaceBefore=6, spaceAfter=4)
TITLE = ParagraphStyle("title", fontName="Times-Bold", fontSize=16, leading=20, spaceAfter=12)


def build_pdf(
    path: Path, sections: list[tuple[str, list[str]]], appendix: list[tuple[str, list[str]]]
) -> Path:
    """A paper: title, abstract, numbered sections, References, an appendix after them; a running
    header from page 2, a page number at the foot of every page, the arXiv stamp on page 1."""

    def on_page(c: canvas.Canvas, doc: SimpleDocTemplate) -> None:
        c.saveState()
        if doc.page > 1:
            c.setFont("Times-Italic", 8)
            c.drawString(72, 760, HEADER)
        else:
            c.setFont("Times-Roman", 14)
            c.translate(30, 200)
            c.rotate(90)
            c.drawString(0, 0, f"arXiv:{WARP_ARXIV}v1  [cs.LG]  24 Jun 2024")
        c.restoreState()
        c.setFont("Times-Roman", 9)
        c.drawCentredString(306, 30, str(doc.page))

    story = [
        Paragraph(WARP_TITLE, TITLE),
        Paragraph("Alexandre Ramé, Johan Ferret, Nino Vieillard", BODY),
        Paragraph("Abstract", H1),
        Paragraph("We study how to merge policies in the weight space. " * 4, BODY),
    ]
    for heading, paragraphs in sections:
        story.append(Paragraph(heading, H2 if "." in heading.split()[0] else H1))
        story += [Paragraph(p, BODY) for p in paragraphs]
    story.append(Paragraph("References", H1))
    story += [
        Paragraph(f"[{i}] A. Author and B. Author. Reward models number {i}. In NeurIPS, 2023.", BODY)
        for i in range(1, 30)
    ]
    story.append(PageBreak())
    for heading, paragraphs in appendix:
        story.append(Paragraph(heading, H1))
        story += [Paragraph(p, BODY) for p in paragraphs]
    SimpleDocTemplate(str(path), pagesize=letter).build(story, onFirstPage=on_page, onLaterPages=on_page)
    return path


@pytest.fixture(scope="module")
def warp_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sections = [
        ("1 Introduction", [FILLER * 6, FILLER * 5]),
        ("2 Related work", [FILLER * 7]),
        ("3 Method", [FILLER * 4, "We average the weights of the policies along the fine-tuning run."]),
        ("3.1 Exponential moving average", [FILLER * 3]),
        ("4 Experimental setup", [FILLER * 3, BATCH_FACT]),
        ("5 Conclusion", [FILLER * 2]),
    ]
    appendix = [("A Hyperparameters", [KL_FACT])]
    return build_pdf(tmp_path_factory.mktemp("pdf") / "warp.pdf", sections, appendix)


GEMMA_HTML = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Gemma 2: Improving Open Language Models at a Practical Size</title>
<link rel="canonical" href="https://arxiv.org/html/{GEMMA_ARXIV}v1">
<script>document.write("<p class='ltx_p'>script text</p>");</script><style>.ltx_p {{ color: red }}</style></head>
<body><nav class="ltx_page_navbar"><a href="#S1">1 Introduction</a></nav>
<div class="ltx_page_main"><article class="ltx_document">
<h1 class="ltx_title ltx_title_document">Gemma 2: Improving Open Language Models at a Practical Size</h1>
<div class="ltx_authors"><span class="ltx_creator">Gemma Team</span></div>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p">In this work, we introduce Gemma 2, a new addition to the Gemma family.</p></div>
<section id="S1" class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Introduction</h2>
<div id="S1.p1" class="ltx_para"><p class="ltx_p">We train the small models with knowledge distillation<span class="ltx_note ltx_role_footnote"><sup class="ltx_note_mark">1</sup><span class="ltx_note_outer"><span class="ltx_note_content">A footnote that is left out.</span></span></span>
and keep the recipe e&#xFB03;cient and the ﬁnal models small.</p></div>
</section>
<section id="S3" class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">3 </span>Pre-training</h2>
<section id="S3.SS1" class="ltx_subsection"><h3 class="ltx_title ltx_title_subsection"><span class="ltx_tag ltx_tag_subsection">3.1 </span>Compute infrastructure</h3>
<div id="S3.SS1.p1" class="ltx_para"><p class="ltx_p">The 27B model is trained on an 8x24x32 configuration of TPUv5p, totaling 6144 chips,
with a loss <math alttext="\\mathcal{{L}}=-\\log p_{{\\theta}}" display="inline"><semantics><mi>ℒ</mi><annotation encoding="application/x-tex">\\mathcal{{L}}</annotation></semantics></math> per token.</p></div>
<figure class="ltx_table" id="S3.T3"><figcaption class="ltx_caption">Table 3: Training infrastructure with sharding by model size.</figcaption>
<table class="ltx_tabular"><tr><td>27B</td><td>6144</td></tr></table></figure>
<img src="x1.png" alt="a figure">
</section></section>
<section id="bib" class="ltx_bibliography"><h2 class="ltx_title ltx_title_bibliography">References</h2>
<ul><li class="ltx_bibitem">Jouppi et al. TPU v4: an optically reconfigurable supercomputer. 2023.</li></ul></section>
<section id="A1" class="ltx_appendix"><h2 class="ltx_title ltx_title_appendix"><span class="ltx_tag ltx_tag_appendix">Appendix A </span>Chat template</h2>
<div id="A1.p1" class="ltx_para"><p class="ltx_p">The chat template marks each turn with a control token and a role name.</p></div></section>
</article></div><footer class="ltx_page_footer">Generated by LaTeXML</footer></body></html>
"""


def passage_texts(parsed: object) -> str:
    return "\n".join(b.text for b in parsed.blocks)  # type: ignore[attr-defined]


@pytest.fixture
def db(tmp_path: Path, seeded_db: Path) -> Path:
    """A copy of the seeded database: full texts added here stay here."""
    copy = tmp_path / "seeded.db"
    shutil.copy(seeded_db, copy)
    return copy


@pytest.fixture
def own_store(db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(db) as store:
        yield store


# -- PDF ----------------------------------------------------------------------------------------
def test_pdf_sections_pages_and_paragraphs(warp_pdf: Path) -> None:
    parsed = parse_pdf(warp_pdf.read_bytes())
    assert parsed.kind == "pdf" and parsed.pages is not None and parsed.pages >= 3
    assert parsed.arxiv_id == WARP_ARXIV  # from the stamp on page 1
    assert parsed.sections() == [
        "Front matter",
        "Abstract",
        "1 Introduction",
        "2 Related work",
        "3 Method",
        "3.1 Exponential moving average",
        "4 Experimental setup",
        "5 Conclusion",
        "A Hyperparameters",
    ]
    fact = next(b for b in parsed.blocks if "batch size of 128" in b.text)
    assert fact.section == "4 Experimental setup" and fact.text == BATCH_FACT  # its own paragraph
    kl = next(b for b in parsed.blocks if "KL regularization" in b.text)
    assert kl.section == "A Hyperparameters" and kl.page == parsed.pages  # the appendix, on the last page
    assert all(b.page is not None and 1 <= b.page <= parsed.pages for b in parsed.blocks)
    # A paragraph running over a page break stays one paragraph, on the page where it starts.
    assert sum(FILLER.strip() in b.text for b in parsed.blocks) >= 6


def test_pdf_headers_footers_stamp_and_references_are_dropped(warp_pdf: Path) -> None:
    parsed = parse_pdf(warp_pdf.read_bytes())
    text = passage_texts(parsed)
    assert HEADER not in text and "preprint" not in text
    assert "arXiv:" not in text and "[cs.LG]" not in text
    assert not [b for b in parsed.blocks if b.text.strip().isdigit()]  # page numbers
    assert "Reward models number" not in text and "References" not in parsed.sections()


def hyphenated_pdf(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(72, 700, "1 Introduction")
    c.setFont("Helvetica", 10)
    lines = [
        "We tune the learn-",
        "ing rate of the policy with a care-",
        "ful sweep, and keep the well-known",
        "state-of-the-art recipe otherwise.",
    ]
    for n, line in enumerate(lines):
        c.drawString(72, 680 - 12 * n, line)
    c.drawString(72, 620, FILLER * 0 + "Enough other text on the page to count as a text layer of a paper.")
    c.showPage()
    c.save()
    return path


def test_pdf_line_end_hyphens_are_joined(tmp_path: Path) -> None:
    parsed = parse_pdf(hyphenated_pdf(tmp_path / "h.pdf").read_bytes())
    text = passage_texts(parsed)
    assert "learning rate" in text and "careful sweep" in text, text
    assert "well-known" in text and "state-of-the-art" in text
    assert "\ufffe" not in text and "\xad" not in text


def test_text_repair_spells_out_ligatures_and_joins_hyphens() -> None:
    assert repair("the ﬁnal ﬂow is eﬃcient, ﬀ") == "the final flow is efficient, ff"
    assert join_lines(["we ﬁne-tune the learn-", "ing rate of the", "state-of-the-", "Art"]) == (
        "we fine-tune the learning rate of the state-of-the- Art"
    )
    assert join_lines(["soft\xad", "hyphen and pdfium\ufffe", "marker"]) == "softhyphen and pdfiummarker"
    long = "A sentence that goes on for a while. " * 60
    cut = pieces(long.strip())
    assert len(cut) > 1 and all(len(p) <= 900 for p in cut) and " ".join(cut) == long.strip()


def test_truncated_pdf_is_refused_and_nothing_is_stored(warp_pdf: Path, own_store: SQLiteStore) -> None:
    data = warp_pdf.read_bytes()
    with pytest.raises(FulltextError, match="truncated"):
        parse_pdf(data[: len(data) // 2])
    warp = PaperService(own_store, embedder=False).paper("WARP")
    with pytest.raises(FulltextError, match="truncated"):
        attach(own_store, warp, data[: len(data) // 2])
    assert own_store.fulltext.list() == [] and own_store.fulltext.passages(warp.id) == []
    # A good text first, then a bad one: the good one stays.
    attach(own_store, warp, data, source="warp.pdf")
    before = own_store.fulltext.passages(warp.id)
    with pytest.raises(FulltextError):
        attach(own_store, warp, data[:-200])
    assert own_store.fulltext.passages(warp.id) == before
    own_store.fulltext.remove(warp.id)


def test_damaged_and_encrypted_pdfs_say_so(tmp_path: Path) -> None:
    with pytest.raises(FulltextError, match="damaged"):
        parse_pdf(b"%PDF-1.4\n garbage that is no PDF at all \n%%EOF\n")
    path = tmp_path / "locked.pdf"
    c = canvas.Canvas(str(path), encrypt=StandardEncryption("user-secret", "owner-secret"))
    c.drawString(72, 700, "A secret paper about reward models and weight averaging.")
    c.showPage()
    c.save()
    with pytest.raises(FulltextError, match="encrypted"):
        parse_pdf(path.read_bytes())
    with pytest.raises(FulltextError, match="not a PDF or an HTML file"):
        parse_document(b"\x89PNG\r\n\x1a\n")


def test_a_pdf_without_a_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    for _ in range(2):  # a "scan": shapes, no text
        for n in range(40):
            c.rect(72, 700 - 14 * n, 400, 8, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(FulltextError, match="no text layer"):
        parse_pdf(path.read_bytes())


def test_bounds_on_pages_size_and_time(
    warp_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = warp_pdf.read_bytes()
    with pytest.raises(FulltextError, match="pages"):
        parse_pdf(data, max_pages=2)
    with pytest.raises(FulltextError, match="took over"):
        parse_pdf(data, max_seconds=0)
    import bot.fulltext as fulltext
    import bot.fulltext.pdf as pdf

    monkeypatch.setattr(pdf, "MAX_BYTES", 1000)
    with pytest.raises(FulltextError, match="too large"):
        parse_pdf(data)
    monkeypatch.setattr(fulltext, "MAX_BYTES", 1000)
    with SQLiteStore(":memory:") as store:
        paper = PaperService(store, embedder=False)
        with pytest.raises(FulltextError, match="too large"):
            fulltext.attach_file(store, paper.store.get_paper("x") or _paper(store), warp_pdf)


def _paper(store: SQLiteStore):  # type: ignore[no-untyped-def]
    from bot.models import Paper

    p = Paper(id="p1", title="A paper", authors=["A"], abstract="An abstract.")
    store.put_paper(p)
    return p


# -- HTML ---------------------------------------------------------------------------------------
def test_latexml_html_sections_anchors_and_math() -> None:
    parsed = parse_html(GEMMA_HTML.encode())
    assert parsed.kind == "html" and parsed.pages is None and parsed.arxiv_id == GEMMA_ARXIV
    assert parsed.title == "Gemma 2: Improving Open Language Models at a Practical Size"
    assert parsed.sections() == [
        "Abstract",
        "1 Introduction",
        "3.1 Compute infrastructure",
        "Appendix A Chat template",
    ]
    chips = next(b for b in parsed.blocks if "6144 chips" in b.text)
    assert chips.anchor == "S3.SS1" and chips.page is None
    assert "\\mathcal{L}=-\\log p_{\\theta}" in chips.text and "ℒ" not in chips.text  # math as its LaTeX
    text = passage_texts(parsed)
    assert "script text" not in text and "color: red" not in text and "a figure" not in text
    assert "footnote" not in text and "Generated by LaTeXML" not in text and "Jouppi" not in text
    assert "efficient and the final models" in text  # ligatures spelled out
    caption = next(b for b in parsed.blocks if b.text.startswith("Table 3"))
    assert caption.anchor == "S3.SS1"


def test_html_that_is_no_paper_is_refused() -> None:
    with pytest.raises(FulltextError, match="no paper text"):
        parse_html(b"<html><body><h1>404 Not Found</h1></body></html>")


def test_links_go_to_the_page_or_the_section(warp_pdf: Path, own_store: SQLiteStore) -> None:
    service = PaperService(own_store, embedder=False)
    warp, gemma = service.paper("WARP"), service.paper("Gemma 2")
    attach(own_store, warp, warp_pdf.read_bytes(), source="warp.pdf")
    attach(own_store, gemma, GEMMA_HTML.encode(), source="gemma2.html")
    try:
        [best] = body_passages(own_store, [warp.id], "what batch size did WARP use?", k=1)
        assert "batch size of 128" in best.passage.text and best.passage.section == "4 Experimental setup"
        assert best.passage.link == f"https://arxiv.org/pdf/{WARP_ARXIV}#page={best.passage.page}"
        [chips] = body_passages(own_store, [gemma.id], "how many TPUv5p chips for Gemma 2 27B?", k=1)
        assert "6144" in chips.passage.text
        assert chips.passage.link == f"https://arxiv.org/html/{GEMMA_ARXIV}#S3.SS1"
        row = own_store.fulltext.passages(warp.id)[0]
        assert place_link(warp.model_copy(update={"arxiv_id": "2401.00001"}), None, row).startswith(
            "https://arxiv.org/pdf/2401.00001#page="
        )
    finally:
        own_store.fulltext.remove(warp.id)
        own_store.fulltext.remove(gemma.id)


# -- answers and the command line, end to end ---------------------------------------------------


def test_cli_add_list_and_ask_answer_from_the_body(db: Path, tmp_path: Path, warp_pdf: Path) -> None:
    gemma_html = tmp_path / "gemma2.html"
    gemma_html.write_text(GEMMA_HTML, encoding="utf-8")
    with SQLiteStore(db) as store:  # the facts are in no abstract
        service = PaperService(store, embedder=False)
        for ref in ("WARP", "Gemma 2"):
            abstract = service.paper(ref).abstract
            assert "batch size" not in abstract and "6144" not in abstract and "TPUv5p" not in abstract

    added = paperbot("--db", str(db), "fulltext", "add", "WARP", str(warp_pdf), "--json", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    warp = json.loads(added.stdout)
    assert (
        warp["kind"] == "pdf" and warp["title"] == WARP_TITLE and warp["pages"] >= 3 and warp["passages"] > 5
    )
    assert "4 Experimental setup" in warp["sections"] and warp["arxiv_id"] == WARP_ARXIV
    plain = paperbot(
        "--db", str(db), "fulltext", "add", "gemma 2 improving open", str(gemma_html), cwd=tmp_path
    )
    assert plain.returncode == 0 and plain.stdout.startswith("added HTML to Gemma 2"), plain.stderr

    listed = paperbot("--db", str(db), "fulltext", "list", "--json", cwd=tmp_path)
    rows = json.loads(listed.stdout)
    html_rows = [r for r in rows if r["kind"] == "html"]  # listed newest first: both in one second
    assert {r["kind"] for r in rows} == {"pdf", "html"} and len(rows) == 2 == len(html_rows) + 1
    assert {r["id"] for r in rows} == {warp["id"], html_rows[0]["id"]} and "Gemma 2" in html_rows[0]["title"]
    assert all(len(r["sha256"]) == 64 and r["added_at"] for r in rows)

    asked = paperbot("--db", str(db), "ask", "--json", "what batch size did WARP use?", cwd=tmp_path)
    answer = json.loads(asked.stdout)
    assert answer["results"][0]["id"] == warp["id"]
    first = answer["passages"][0]
    assert set(first) == {"text", "paper_id", "section", "page", "link"}
    assert "batch size of 128" in first["text"] and first["paper_id"] == warp["id"]
    assert first["section"] == "4 Experimental setup" and isinstance(first["page"], int)
    assert first["link"] == f"https://arxiv.org/pdf/{WARP_ARXIV}#page={first['page']}"
    assert any(p["section"] == "Abstract" and p["page"] is None for p in answer["passages"])
    assert "batch size of 128" in answer["text"]

    asked = paperbot(
        "--db", str(db), "ask", "--json", "how many TPUv5p chips was Gemma 2 trained on?", cwd=tmp_path
    )
    answer = json.loads(asked.stdout)
    assert answer["results"][0]["title"].startswith("Gemma 2:")
    first = answer["passages"][0]
    assert "6144 chips" in first["text"] and first["section"] == "3.1 Compute infrastructure"
    assert first["page"] is None and first["link"] == f"https://arxiv.org/html/{GEMMA_ARXIV}#S3.SS1"

    shown = paperbot("--db", str(db), "fulltext", "show", "WARP", "--json", cwd=tmp_path)
    assert any("KL regularization is 0.05" in p["text"] for p in json.loads(shown.stdout))


def test_cli_errors_are_one_line(db: Path, tmp_path: Path, warp_pdf: Path) -> None:
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(warp_pdf.read_bytes()[:5000])
    cases = [
        (["fulltext", "add", "WARP", str(truncated)], 1, "truncated"),
        (["fulltext", "add", "WARP", str(tmp_path / "missing.pdf")], 2, "no such file"),
        (["fulltext", "add", "WARP"], 2, "Missing argument"),
        (["fulltext", "add", "zzzz qqqq xxxx", str(warp_pdf)], 2, "No paper titled like"),
        (["fulltext", "show", "WARP"], 2, "has no full text"),
    ]
    for args, code, says in cases:
        result = paperbot("--db", str(db), *args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert says in result.stderr and "Traceback" not in result.stderr
    listed = paperbot("--db", str(db), "fulltext", "list", "--json", cwd=tmp_path)
    assert json.loads(listed.stdout) == []  # nothing stored half-way


def test_answers_without_full_texts_are_unchanged(own_store: SQLiteStore) -> None:
    answer = PaperService(own_store, embedder=False).ask("what batch size did WARP use?")
    assert answer.passages and all(p.section == "Abstract" and p.page is None for p in answer.passages)


def test_a_named_paper_with_the_answer_in_its_body_comes_first(own_store: SQLiteStore) -> None:
    service = PaperService(own_store, embedder=False)
    gemma2 = service.paper("Gemma 2")
    question = "how many TPUv5p chips was Gemma 2 trained on?"
    before = service.ask(question)  # named by its short name, it comes first from its abstract
    assert before.hits[0].paper.id == gemma2.id and before.answered
    assert all(p.section == "Abstract" for p in before.passages) and "full text" in before.text
    attach(own_store, gemma2, GEMMA_HTML.encode())
    answer = service.ask(question)
    assert answer.hits[0].paper.id == gemma2.id and "6144" in answer.passages[0].text
    assert any(p.section == "Abstract" and p.paper_id == gemma2.id for p in answer.passages)
    # A question naming another paper is not answered from this one's body.
    other = service.ask("how many TPUv5p chips was Gemma 3 trained on?")
    assert other.hits[0].paper.id != gemma2.id
    assert all(p.section == "Abstract" for p in other.passages)


def test_renderings_say_where_a_body_passage_is(own_store: SQLiteStore, warp_pdf: Path) -> None:
    from bot.chat.dialogue import AnswerReply
    from bot.console.render import render
    from bot.discord.embeds import answer_pages

    service = PaperService(own_store, embedder=False)
    attach(own_store, service.paper("WARP"), warp_pdf.read_bytes())
    answer = service.ask("what batch size did WARP use?")
    body = answer.passages[0]
    assert body.place == f"§4 Experimental setup, p. {body.page}" and answer.passages[-1].place == ""
    console = "\n".join(text.plain for _, text in render(AnswerReply(answer=answer)))
    assert "batch size of 128" in console and f"(§4 Experimental setup, p. {body.page})" in console
    [embed] = answer_pages(answer)
    assert f"[§4 Experimental setup, p. {body.page}]({body.link})" in (embed.description or "")


# -- downloads from arXiv (recorded answers, never the network) ------------------------------------
def test_fetch_takes_the_html_else_the_pdf(own_store: SQLiteStore, warp_pdf: Path) -> None:
    import httpx
    import respx

    from bot.fulltext.fetch import fetch_fulltext
    from bot.ingest.arxiv import ArxivClient, RateLimiter

    service = PaperService(own_store, embedder=False)
    warp = service.paper("WARP").model_copy(update={"arxiv_id": WARP_ARXIV})
    gemma = service.paper("Gemma 2").model_copy(update={"arxiv_id": GEMMA_ARXIV})
    own_store.put_papers([warp, gemma])
    client = ArxivClient("paperbot-tests", retries=1, limiter=RateLimiter(0, sleep=lambda _: None))
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"https://arxiv.org/html/{GEMMA_ARXIV}").mock(
            return_value=httpx.Response(200, text=GEMMA_HTML)
        )
        mock.get(f"https://arxiv.org/html/{WARP_ARXIV}").mock(return_value=httpx.Response(404))
        pdf = mock.get(f"https://arxiv.org/pdf/{WARP_ARXIV}").mock(
            return_value=httpx.Response(200, content=warp_pdf.read_bytes())
        )
        got = fetch_fulltext(own_store, client, gemma)
        assert (got.status, got.kind, got.source) == (
            "added",
            "html",
            f"https://arxiv.org/html/{GEMMA_ARXIV}",
        )
        got = fetch_fulltext(own_store, client, warp)
        assert (got.status, got.kind) == ("added", "pdf") and got.pages and pdf.called
        assert fetch_fulltext(own_store, client, warp).status == "unchanged"
        doc = own_store.fulltext.get(warp.id)
        assert doc is not None and doc.fetched_at and doc.source == f"https://arxiv.org/pdf/{WARP_ARXIV}"
        # A truncated download is refused and the stored text stays.
        pdf.mock(return_value=httpx.Response(200, content=warp_pdf.read_bytes()[:4000]))
        failed = fetch_fulltext(own_store, client, warp, force=True)
        assert (
            failed.status == "failed"
            and "truncated" in (failed.error or "")
            and "404" in (failed.error or "")
        )
        assert own_store.fulltext.get(warp.id) == doc
    no_id = fetch_fulltext(own_store, client, service.paper("Gemma 3"))
    assert no_id.status == "failed" and "no arXiv id" in (no_id.error or "")
    answer = service.ask("how many TPUv5p chips was Gemma 2 trained on?")
    assert answer.passages[0].link == f"https://arxiv.org/html/{GEMMA_ARXIV}#S3.SS1"


def test_fetch_needs_papers(db: Path, tmp_path: Path) -> None:
    result = paperbot("--db", str(db), "fulltext", "fetch", cwd=tmp_path)
    assert result.returncode == 2 and "--saved" in result.stderr and result.stderr.count("\n") == 1


def test_naming_a_paper_alone_quotes_its_abstract(own_store: SQLiteStore, warp_pdf: Path) -> None:
    service = PaperService(own_store, embedder=False)
    attach(own_store, service.paper("WARP"), warp_pdf.read_bytes())
    for question in ("WARP", "what is WARP?"):
        answer = service.ask(question)
        assert answer.passages and all(p.section == "Abstract" for p in answer.passages), question


async def test_discord_fulltext_lists_the_texts_and_outlines_one(db: Path, warp_pdf: Path) -> None:
    from discord_fakes import fake_interaction, make_bot, sent_embeds

    from bot.discord.cogs.papers import Papers

    bot = make_bot(db)
    cog = Papers(bot)
    empty = fake_interaction(bot)
    await cog.fulltext.callback(cog, empty, title=None)
    assert "No full text yet" in (sent_embeds(empty)[0].description or "")
    warp = bot.service.paper("WARP")
    attach(bot.service.store, warp, warp_pdf.read_bytes())
    listing = fake_interaction(bot)
    await cog.fulltext.callback(cog, listing, title=None)
    [page] = sent_embeds(listing)
    assert (
        page.title == "Full texts (1)"
        and "WARP" in (page.description or "")
        and "pdf" in (page.description or "")
    )
    outline = fake_interaction(bot)
    await cog.fulltext.callback(cog, outline, title="WARP")
    [embed] = sent_embeds(outline)
    assert (
        embed.title and embed.title.startswith("WARP") and "Experimental setup" in (embed.description or "")
    )
    assert "p. 2" in (embed.description or "")


async def test_a_silent_abstract_fetches_the_text_in_the_background_for_the_follow_up(db: Path) -> None:
    import httpx
    import respx
    from discord_fakes import fake_interaction, make_bot, sent_embeds

    from bot.discord.cogs.ask import Ask
    from bot.ingest.arxiv import ArxivClient, RateLimiter

    bot = make_bot(db)
    service = bot.service
    service.arxiv = ArxivClient("paperbot-tests", retries=1, limiter=RateLimiter(0, sleep=lambda _: None))
    gemma = service.paper("Gemma 2").model_copy(update={"arxiv_id": GEMMA_ARXIV})
    service.store.put_papers([gemma])
    service.invalidate()
    question = "how many TPUv5p chips was Gemma 2 trained on?"
    cog = Ask(bot)
    with respx.mock() as mock:
        page = mock.get(f"https://arxiv.org/html/{GEMMA_ARXIV}").mock(
            return_value=httpx.Response(200, text=GEMMA_HTML)
        )
        first = fake_interaction(bot)
        await cog.ask.callback(cog, first, question)
        assert "full text" in (sent_embeds(first)[0].description or "")  # from the abstract, and says so
        await asyncio.gather(*cog._background)
        assert page.called and service.store.fulltext.get(gemma.id) is not None
        assert service.fetch_fulltext(gemma.id) is None  # tried once per process, not at every question
    follow_up = service.ask(question)
    assert follow_up.needs_fulltext is None and "6144" in follow_up.passages[0].text
