"""The seed parser: golden checks on the bundled files and properties on arbitrary text."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.reader import read_lines
from bot.ingest.seeds import ParsedPaper, parse_seed_lines, render_record, split_title_authors
from bot.models import Paper, Skipped, paper_id
from tests.conftest import SEEDS


def parse_text(text: str | bytes, source: str = "t.txt") -> list[ParsedPaper | Skipped]:
    data = text.encode() if isinstance(text, str) else text
    return list(parse_seed_lines(read_lines(io.BytesIO(data)), source))


def papers_of(items: list[ParsedPaper | Skipped]) -> list[Paper]:
    return [i.paper for i in items if isinstance(i, ParsedPaper)]


def all_seed_records() -> list[Paper]:
    out: list[Paper] = []
    for f in sorted(SEEDS.glob("*.txt")):
        out += papers_of(parse_text(f.read_bytes(), f.name))
    return out


def test_seed_record_counts() -> None:
    records = all_seed_records()
    titled = [p for p in records if p.title]
    untitled = [p for p in records if p.title is None]
    assert len(titled) == 64
    assert len({p.title for p in titled}) == 50
    assert len(untitled) == 8


@pytest.mark.parametrize(
    ("line", "title", "authors", "et_al", "orgs"),
    [
        (
            "Gemini 2.5: Pushing the Frontier with Advanced Reasoning, Multimodality, Long Context, and Next "
            "Generation Agentic CapabilitiesGheorghe Comanici, Eric Bieber, Mike Schaekermann et al. · amazon-science, baidu",
            "Gemini 2.5: Pushing the Frontier with Advanced Reasoning, Multimodality, Long Context, and Next "
            "Generation Agentic Capabilities",
            ["Gheorghe Comanici", "Eric Bieber", "Mike Schaekermann"],
            True,
            ["amazon-science", "baidu"],
        ),
        (
            "Leverage the Average: an Analysis of KL Regularization in RLNino Vieillard, Tadashi Kozuno, Bruno Scherrer et al.",
            "Leverage the Average: an Analysis of KL Regularization in RL",
            ["Nino Vieillard", "Tadashi Kozuno", "Bruno Scherrer"],
            True,
            [],
        ),
        (
            "RecurrentGemma: Moving Past Transformers for Efficient Open Language ModelsAleksandar Botev, Soham De, "
            "Samuel L Smith et al. · deepmind",
            "RecurrentGemma: Moving Past Transformers for Efficient Open Language Models",
            ["Aleksandar Botev", "Soham De", "Samuel L Smith"],
            True,
            ["deepmind"],
        ),
        (
            "Munchausen Reinforcement LearningNino Vieillard, Olivier Pietquin, Matthieu Geist",
            "Munchausen Reinforcement Learning",
            ["Nino Vieillard", "Olivier Pietquin", "Matthieu Geist"],
            False,
            [],
        ),
        (
            "MedGemma Technical ReportAndrew Sellergren, Sahar Kazemzadeh, Tiam Jaroensri et al.",
            "MedGemma Technical Report",
            ["Andrew Sellergren", "Sahar Kazemzadeh", "Tiam Jaroensri"],
            True,
            [],
        ),
        (
            "VaultGemma: A Differentially Private Gemma ModelAmer Sinha, Thomas Mesnard, Ryan McKenna et al.",
            "VaultGemma: A Differentially Private Gemma Model",
            ["Amer Sinha", "Thomas Mesnard", "Ryan McKenna"],
            True,
            [],
        ),
        (
            "Gemma 3 Technical ReportGemma Team, Aishwarya Kamath, Johan Ferret et al. · deepmind, mit",
            "Gemma 3 Technical Report",
            ["Gemma Team", "Aishwarya Kamath", "Johan Ferret"],
            True,
            ["deepmind", "mit"],
        ),
        (
            "Towards Biologically Plausible Deep LearningYoshua Bengio, Dong-Hyun Lee, Jorg Bornschein et al.",
            "Towards Biologically Plausible Deep Learning",
            ["Yoshua Bengio", "Dong-Hyun Lee", "Jorg Bornschein"],
            True,
            [],
        ),
        (
            "Machine Learning Optimization Algorithms & Portfolio AllocationSarah Perrin, Thierry Roncalli",
            "Machine Learning Optimization Algorithms & Portfolio Allocation",
            ["Sarah Perrin", "Thierry Roncalli"],
            False,
            [],
        ),
    ],
)
def test_split_title_authors(line: str, title: str, authors: list[str], et_al: bool, orgs: list[str]) -> None:
    parts = split_title_authors(line)
    assert parts is not None
    assert parts.title == title
    assert parts.authors == authors
    assert parts.et_al is et_al
    assert parts.orgs == orgs


def test_header_fields_and_code_marker() -> None:
    records = {p.title: p for p in all_seed_records() if p.title}
    warp = records["WARP: On the Benefits of Weight Averaged Rewarded Policies"]
    assert warp.has_code and warp.category == "LG" and warp.date == date(2024, 6, 24)
    warm = records["WARM: On the Benefits of Weight Averaged Reward Models"]
    assert not warm.has_code and warm.authors[0] == "Alexandre Ramé"
    ghost = records["Ghost Units Yield Biologically Plausible Backprop in Deep Neural Networks"]
    assert ghost.category == "NC" and ghost.categories == ["q-bio.NC"]


def test_untitled_records_and_labels() -> None:
    untitled = [p for p in all_seed_records() if p.title is None]
    labels = [p.label for p in untitled]
    assert any(label.startswith("RLDS") for label in labels)
    assert any(label.startswith("Reverb") for label in labels)
    assert all(p.sources == ["002_40f23afc402a7976.txt"] for p in untitled)


def test_crlf_blank_lines_and_no_trailing_newline() -> None:
    text = "\r\n\r\nLGJul 28, 2020\r\nMunchausen Reinforcement LearningNino Vieillard, Olivier Pietquin\r\n\r\nAn abstract."
    (paper,) = papers_of(parse_text(text))
    assert paper.title == "Munchausen Reinforcement Learning"
    assert paper.abstract == "An abstract."


def test_truncated_and_garbage_records_are_reported_with_lines() -> None:
    text = (
        "garbage line\n"
        "LGJul 28, 2020\nMunchausen Reinforcement LearningNino Vieillard, Olivier Pietquin\nAbstract one.\n"
        "LGJul 29, 2020\nno capital letters here at all\nabstract lost\n"
        "LGJul 30, 2020\nA Second PaperAnna Smith, Bob Jones\nAbstract two.\n"
        "CLJan 1, 2021\n"
    )
    items = parse_text(text)
    assert [p.title for p in papers_of(items)] == ["Munchausen Reinforcement Learning", "A Second Paper"]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [(s.line, s.reason.split(":")[0]) for s in skipped] == [
        (1, "line outside any record (expected a subject+date line)"),
        (6, "cannot tell the title from the authors"),
        (11, "truncated record"),
    ]


def test_latin1_and_binary_lines() -> None:
    data = b"LGJul 28, 2020\nA PaperJ\xe9r\xf4me Dupont, Anna Smith\nAbstract.\n\x00\x01\x02binary\n"
    items = parse_text(data)
    (paper,) = papers_of(items)
    assert paper.authors[0] == "Jérôme Dupont"
    assert any(isinstance(i, Skipped) and "binary" in i.reason for i in items)


# -- properties ---------------------------------------------------------------------------


@given(st.text(max_size=2000))
@settings(max_examples=300)
def test_parser_never_raises(text: str) -> None:
    parse_text(text)


@given(st.binary(max_size=2000))
@settings(max_examples=200)
def test_parser_never_raises_on_bytes(data: bytes) -> None:
    parse_text(data)


FIRST = ["Anna", "Bob", "Léonard", "Julien", "Sarah", "Zhaohan", "Matthew", "Yoshua", "Dong-Hyun", "Ryan"]
LAST = ["Smith", "Pérolat", "Hussenot", "McKenna", "Perrin", "Guo", "Vieillard", "Lee", "O'Neil", "De"]
TITLE_WORDS = [
    "Learning",
    "deep",
    "RL",
    "Gemma",
    "with",
    "of",
    "Mean",
    "Field",
    "Games:",
    "A",
    "Survey",
    "2",
    "LLMs",
    "Q-Values",
]

names = st.builds(
    lambda first, middle, last: " ".join([first, *middle, last]),
    st.sampled_from(FIRST),
    st.lists(st.sampled_from(["W.", "L", "Daniel"]), max_size=1),
    st.sampled_from(LAST),
)
titles = st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=12).map(" ".join)
abstracts = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=300)
    .map(lambda s: s.strip())
    .filter(lambda s: bool(s) and not s.startswith("Abstract:"))
)


@st.composite
def seed_papers(draw: st.DrawFn) -> Paper:
    title = draw(titles)
    abstract = draw(abstracts)
    return Paper(
        id=paper_id(title, abstract),
        title=title,
        authors=draw(st.lists(names, min_size=1, max_size=6)),
        et_al=draw(st.booleans()),
        orgs=draw(
            st.lists(
                st.sampled_from(["deepmind", "google", "mit", "amazon-science"]), max_size=2, unique=True
            )
        ),
        category=draw(st.sampled_from(["LG", "CL", "AI"])),
        categories=[],
        date=draw(st.dates(date(1990, 1, 1), date(2030, 12, 31))),
        has_code=draw(st.booleans()),
        abstract=abstract,
        sources=["t.txt"],
    )


@given(seed_papers())
@settings(max_examples=300)
def test_parse_render_roundtrip(paper: Paper) -> None:
    (parsed,) = papers_of(parse_text(render_record(paper)))
    assert parsed.model_dump(exclude={"categories"}) == paper.model_dump(exclude={"categories"})


@given(
    seed_papers(),
    st.lists(st.text(max_size=80).filter(lambda s: "\r" not in s), max_size=5),
    st.lists(st.text(max_size=80).filter(lambda s: "\r" not in s), max_size=5),
)
@settings(max_examples=200)
def test_record_among_garbage_is_recovered(paper: Paper, before: list[str], after: list[str]) -> None:
    text = "\n".join([*before, render_record(paper).rstrip("\n"), *after])
    titles_found = [p.title for p in papers_of(parse_text(text))]
    assert paper.title in titles_found
