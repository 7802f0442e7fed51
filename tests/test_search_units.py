"""Unit tests of the retrieval components: analysis, sentences, fusion, authors, routing."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from bot.query import parse_query
from bot.search.analysis import acronyms, analyze
from bot.search.filters import category_matches
from bot.search.fusion import fuse
from bot.search.fuzzy import AuthorIndex
from bot.search.lexical import LexicalIndex
from bot.sentences import split_sentences
from bot.text import fold, key


def test_fold_and_key() -> None:
    assert fold("Léonard Pérolat") == "leonard perolat"
    assert key("  Gemma 2: Improving—Open ") == "gemma 2 improving open"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EmbeddingGemma", {"embeddinggemma", "embed", "gemma"}),
        ("VLMs", {"vlm"}),
        ("gemma3", {"gemma3", "gemma", "3"}),
        ("averaging averaged", {"averag"}),
        ("Pérolat", {"perolat"}),
        ("the of and", set()),
    ],
)
def test_analyze(text: str, expected: set[str]) -> None:
    assert set(analyze(text)) == expected


def test_acronyms() -> None:
    assert acronyms("BOND: Aligning LLMs with Best-of-N Distillation") >= {"bond", "llm"}
    assert "gkd" in acronyms("we propose Generalized Knowledge Distillation (GKD)")
    assert "gemma" not in acronyms("Gemma models")


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "We follow Geist et al. (2019) closely. It works.",
            ["We follow Geist et al. (2019) closely.", "It works."],
        ),
        ("Tasks, e.g. Atari, are hard. We win.", ["Tasks, e.g. Atari, are hard.", "We win."]),
        ("Gemini 2.5 Pro improves 3.5 points. Next.", ["Gemini 2.5 Pro improves 3.5 points.", "Next."]),
        (
            r"An $\varepsilon$-optimal policy when $\varepsilon$ is small. This is new.",
            [r"An $\varepsilon$-optimal policy when $\varepsilon$ is small.", "This is new."],
        ),
        ("Math $a. B$ stays whole. Done!", ["Math $a. B$ stays whole.", "Done!"]),
        ("By Samuel L. Smith and others. Fine.", ["By Samuel L. Smith and others.", "Fine."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_fuse() -> None:
    combined = fuse({"bm25": {1: 10.0, 2: 1.0}, "title": {2: 0.5, 3: 0.0}}, {"bm25": 1, "title": 0.5})
    # BM25 is scaled by its best score; the title signal is already absolute (0-1).
    assert combined[1] == pytest.approx(1.0) and combined[2] == pytest.approx(0.1 + 0.25)
    assert 3 not in combined  # a zero adds nothing


@pytest.mark.parametrize(
    ("wanted", "category", "categories", "ok"),
    [
        ("LG", "LG", ["cs.LG"], True),
        ("cs.LG", "LG", ["cs.LG"], True),
        ("lg", None, ["cs.LG"], True),
        ("cs.CL", "LG", ["cs.LG"], False),
        ("stat.ML", None, ["cs.LG", "stat.ML"], True),
        ("math.LG", None, ["cs.LG"], False),
    ],
)
def test_category_matches(wanted: str, category: str | None, categories: list[str], ok: bool) -> None:
    assert category_matches(wanted, category, categories) is ok


@pytest.fixture
def authors() -> AuthorIndex:
    return AuthorIndex(
        {
            "julien perolat": ("Julien Pérolat", 6),
            "leonard hussenot": ("Léonard Hussenot", 3),
            "olivier pietquin": ("Olivier Pietquin", 4),
            "mathieu lauriere": ("Mathieu Laurière", 6),
            "matthieu geist": ("Matthieu Geist", 5),
            "gemma team": ("Gemma Team", 3),
        }
    )


@pytest.mark.parametrize(
    ("typed", "resolved"),
    [
        ("perolat", ["julien perolat"]),
        ("Pérolat", ["julien perolat"]),
        ("L. Hussenot", ["leonard hussenot"]),
        ("mathieu lauriere", ["mathieu lauriere"]),
        ("Olivier Pietqin", ["olivier pietquin"]),
        ("pietqin", ["olivier pietquin"]),
        ("reinforcement", []),
        ("gemma", []),
    ],
)
def test_author_resolution(authors: AuthorIndex, typed: str, resolved: list[str]) -> None:
    assert authors.resolve(typed) == resolved


def test_author_completion_is_accent_insensitive(authors: AuthorIndex) -> None:
    assert authors.complete("laur")[0] == "Mathieu Laurière"
    assert authors.complete("perol")[0] == "Julien Pérolat"
    assert len(authors.complete("")) <= 25


@pytest.mark.parametrize(
    ("text", "intent", "extra"),
    [
        ("papers by Léonard Hussenot", "author", {"author_keys": ["leonard hussenot"]}),
        ("what has Olivier Pietquin written on momentum?", "author", {"topic": "momentum"}),
        ("Perolat's papers on mean field games", "author", {"topic": "mean field games"}),
        ("pietquin", "author", {}),
        ("latest on mean field games", "latest", {"topic": "mean field games", "newest_first": True}),
        ("recent papers about reward models", "latest", {"topic": "reward models"}),
        ("papers since 2023 about language model distillation", "topic", {"since": dt.date(2023, 1, 1)}),
        ("papers by Mathieu Laurière since 2022", "author", {"since": dt.date(2022, 1, 1)}),
        ("similar to Hindsight Credit Assignment", "similar", {"similar_to": "Hindsight Credit Assignment"}),
        ("GKD", "acronym", {"text": "GKD"}),
        ("what is RLAIF?", "acronym", {"text": "RLAIF"}),
        ("which paper averages reward models?", "question", {}),
        ("", "empty", {}),
        ("?!*", "empty", {}),
    ],
)
def test_routing(authors: AuthorIndex, text: str, intent: str, extra: dict) -> None:  # type: ignore[type-arg]
    query = parse_query(text, authors)
    assert query.intent == intent
    for name, value in extra.items():
        assert getattr(query, name) == value


def test_title_like_text_routes_to_title(authors: AuthorIndex) -> None:
    assert parse_query("munchausen reinforcment learning", authors, title_score=97).intent == "title"


def test_lexical_corrects_typos_and_completes() -> None:
    index = LexicalIndex.build(
        [analyze("Munchausen Reinforcement Learning"), analyze("technical report on gemma")]
    )
    assert index.correct(analyze("reinforcment")[0]) == ["reinforc"]
    assert "technic" in index.correct("tech")
    assert index.correct("zzzzqqq") == ["zzzzqqq"]


def test_bm25_scores_match_the_formula_and_survive_writing_and_loading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    docs = [["a", "b", "a"], ["b", "c"], ["c", "c", "c", "d"], []]
    index = LexicalIndex.build(docs)
    n, avgdl = 4, sum(map(len, docs)) / 4

    def expected(term: str, doc: list[str]) -> float:
        df = sum(term in d for d in docs)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        tf = doc.count(term)
        return idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avgdl))

    for query in (["a"], ["b", "c"], ["c", "c"], ["zzz"]):
        want = [sum(expected(t, d) for t in query) for d in docs]
        assert index.scores(query).tolist() == pytest.approx(want, rel=1e-5)
    assert index.docs_with("c").tolist() == [1, 2] and index.doc_freq("b") == 2
    from bot.search.lexical import LexicalBuilder

    builder = LexicalBuilder()
    for terms in docs:
        builder.add(terms)
    builder.finish(tmp_path / "idx")  # written to files, as a saved index is
    loaded = LexicalIndex.load(tmp_path / "idx")
    assert loaded.scores(["b", "c"]).tolist() == pytest.approx(index.scores(["b", "c"]).tolist())
    mask = np.array([True, False, True, True])
    assert loaded.scores(["b"], mask).tolist()[1] == 0.0


def test_lexical_index_written_in_passes_is_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built in memory at once, in several passes, or straight into files: the same matrix."""
    from bot.search.lexical import LexicalBuilder

    rng = np.random.default_rng(5)
    docs = [[f"w{int(i)}" for i in rng.zipf(1.5, size=rng.integers(0, 40)) if i < 500] for _ in range(300)]

    def built(folder: Path | None = None) -> LexicalIndex:
        builder = LexicalBuilder()
        monkeypatch.setattr(builder, "CHUNK", 64)
        for terms in docs:
            builder.add(terms)
        return builder.finish(folder)

    whole = built()
    monkeypatch.setattr(LexicalBuilder, "PASS_POSTINGS", 97)
    for index in (built(), built(tmp_path / "idx")):
        assert index.vocab == whole.vocab and index.size == whole.size == 300
        assert np.array_equal(index.indptr, whole.indptr)
        assert np.array_equal(index.indices, whole.indices)
        assert np.allclose(index.data, whole.data)
    assert isinstance(LexicalIndex.load(tmp_path / "idx").indices, np.memmap)


def test_dense_rows_of_common_terms_give_the_scattered_scores_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large index's commonest terms are added as dense rows: the same scores as scattering
    their postings, in memory and saved, with and without a scale; rare terms still scatter."""
    from bot.search import lexical
    from bot.search.lexical import LexicalBuilder

    monkeypatch.setattr(lexical, "DENSE_FROM", 100)
    rng = np.random.default_rng(11)
    docs = [[f"w{int(i)}" for i in rng.zipf(1.3, size=rng.integers(1, 60)) if i < 300] for _ in range(400)]

    def built(folder: Path | None = None) -> LexicalIndex:
        builder = LexicalBuilder()
        for terms in docs:
            builder.add(terms)
        return builder.finish(folder)

    for index in (built(), built(tmp_path / "idx"), LexicalIndex.load(tmp_path / "idx")):
        assert index.dense is not None
        common = {t for t in index.vocab if index.doc_freq(t) >= lexical.DENSE_SHARE * index.size}
        assert common and {index.vocab[t] for t in common} == set(index.dense.row_of)
        query = [*sorted(common)[:3], "w40", "w7", "w1", "unknown"]
        scatter = LexicalIndex(
            index.vocab, index.indptr, index.indices, index.data, index.size, index.tf, index.lengths
        )
        for scale in (None, [0.5, 1.0, 2.0, 1.0, 0.3, 0.7, 1.0]):
            assert np.array_equal(index.scores(query, scale=scale), scatter.scores(query, scale=scale))
        assert np.array_equal(
            index.scores(query, weights=[1.0] * 7), scatter.scores(query, weights=[1.0] * 7)
        )
    small = LexicalIndex.build(docs[:50])
    assert small.dense is None  # below DENSE_FROM documents: no rows


def test_top_equals_a_full_sort() -> None:
    """``top`` finds the best scores without sorting them all (a sampled cut): the same as a
    full sort, with BM25 weights, with coverage weights, under a mask, with few matches."""

    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(300)]
    zipf = 1 / np.arange(1, 301)
    docs = [list(rng.choice(vocab, size=rng.integers(5, 60), p=zipf / zipf.sum())) for _ in range(4000)]
    index = LexicalIndex.build(docs)

    def full_sort(scores: np.ndarray, depth: int) -> dict[int, float]:
        order = np.argsort(-scores, kind="stable")[:depth]
        return {int(i): float(scores[i]) for i in order if scores[i] > 0}

    mask = rng.random(4000) < 0.5
    for _ in range(60):
        query = list(rng.choice(vocab[:40], size=rng.integers(0, 3)))
        query += list(rng.choice(vocab[40:], size=rng.integers(1, 4)))
        weights = list(rng.random(len(query)))
        for m in (None, mask):
            want = full_sort(index.scores(query, m), 10)
            got = index.top(query, 10, m)
            assert sorted(got.values()) == pytest.approx(sorted(want.values()), rel=1e-5)
            full = index.scores(query, m)
            assert all(full[d] == pytest.approx(s, rel=1e-5) for d, s in got.items())
            coverage = np.zeros(4000, dtype=np.float32)
            for term, w in zip(query, weights, strict=True):
                coverage[index.docs_with(term)] += w
            if m is not None:
                coverage[~m] = 0
            got = index.top(query, 10, m, weights)
            want = full_sort(coverage, 10)
            assert sorted(got.values()) == pytest.approx(sorted(want.values()), rel=1e-5)


def test_inverted_file_finds_what_the_exact_scan_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The IVF layout (vectors stored cell by cell) answers like an exact scan for a paper's own
    vector, keeps paper rows (not storage rows) in its answers, honours masks, and loads back."""
    from bot.search.semantic import SemanticIndex

    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((3000, 32)).astype(np.float16)
    vectors /= np.linalg.norm(vectors.astype(np.float32), axis=1, keepdims=True).astype(np.float16)
    monkeypatch.setattr(SemanticIndex, "IVF_FROM", 1000)
    embedder = None  # nearest() and vector() never embed text
    ivf = SemanticIndex.build(embedder, vectors)  # type: ignore[arg-type]
    exact = SemanticIndex(embedder, vectors)  # type: ignore[arg-type]
    assert ivf.ivf is not None and exact.ivf is None
    for row in (0, 17, 2999):
        assert np.allclose(ivf.vector(row), exact.vector(row))
        assert max(ivf.nearest(ivf.vector(row), 5).items(), key=lambda kv: kv[1])[0] == row
    query = exact.vector(5).astype(np.float32)
    wanted = {r: float(exact.vector(r).astype(np.float32) @ query) for r in (3, 17, 2999)}
    assert ivf.similarities(query, [3, 17, 2999]) == pytest.approx(wanted, rel=1e-3)
    mask = np.zeros(3000, dtype=bool)
    mask[::2] = True
    assert all(r % 2 == 0 for r in ivf.nearest(ivf.vector(4), 50, mask))
    written = SemanticIndex.build(embedder, vectors, tmp_path / "written")  # type: ignore[arg-type]
    loaded = SemanticIndex.load(tmp_path / "written", embedder)  # type: ignore[arg-type]
    assert loaded.nearest(loaded.vector(17), 10) == ivf.nearest(ivf.vector(17), 10)
    assert not written.matrix.flags.owndata  # a view of the file, not a copy in memory
    assert written.nearest(written.vector(17), 10) == ivf.nearest(ivf.vector(17), 10)


def _index_of(texts: list[str]) -> LexicalIndex:
    from bot.search.lexical import LexicalBuilder

    builder = LexicalBuilder()
    builder.add_texts(texts)
    return builder.finish()


@pytest.mark.parametrize(("common", "guessed"), [(150, True), (60, False)])
def test_a_typo_that_lands_on_a_rare_word_also_searches_the_far_commoner_one(
    common: int, guessed: bool
) -> None:
    """ "recurent" stems to "recur", which one paper's made-up name holds; "recurrent" is "recurr"."""
    texts = ["Recure: a benchmark of odd names"] + [f"recurrent networks, part {i}" for i in range(common)]
    index = _index_of(texts)
    (typed,) = analyze("recurent")
    assert typed == "recur" and index.doc_freq("recur") == 1
    assert index.correct(typed) == (["recur", "recurr"] if guessed else ["recur"])


def test_the_commonest_of_several_close_spellings_is_the_guess() -> None:
    texts = (
        ["Recure: odd names"] + [f"Recura {i}" for i in range(120)] + [f"recurrent {i}" for i in range(300)]
    )
    assert _index_of(texts).correct("recur") == ["recur", "recurr"]


def test_a_word_several_papers_hold_is_taken_as_typed() -> None:
    texts = [f"Recure {i}" for i in range(3)] + [f"recurrent networks, part {i}" for i in range(500)]
    assert _index_of(texts).correct("recur") == ["recur"]


def test_one_slip_covers_a_character_left_out_added_replaced_or_swapped() -> None:
    from bot.search.lexical import one_slip

    slips = one_slip("recur")
    assert {"recurr", "recu", "recor", "rceur"} <= slips
    assert "recur" not in slips and "recurrent" not in slips
