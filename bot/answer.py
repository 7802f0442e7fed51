"""Extractive answers: the sentences of the best paper's abstract that answer the question.

No language model is needed; an optional OpenAI-compatible endpoint may rewrite the text
(see ``bot.rewrite``), never required.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz

from bot import links as paper_links
from bot.acronyms import defines
from bot.models import Answer, Paper, Passage, SearchHit
from bot.query import Query
from bot.search.analysis import analyze, raw_tokens
from bot.search.semantic import Embedder
from bot.sentences import split_sentences

MAX_PASSAGES = 3
NEAR_DUPLICATE = 75  # rapidfuzz ratio above which two sentences say the same
OTHERS = 4


# "how many / how long / how large ...": the answer is a number.
_NUMBER_QUESTION = re.compile(
    r"\b(?:how (?:many|much|long|large|big|far|fast|small|wide|deep|often)|what (?:is|was|are) the (?:number|size|length|count|amount)|what size|which size)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?\s*(?:[KMBT]\b|%|k\b|billion|million|thousand|x\b)?")
TITLE_WORD_WEIGHT = 0.3
WANTED_BONUS = 0.6  # what a sentence of the wanted kind (a definition, a number) adds to its score


def wanted(query: Query, definition: tuple[str, str] | None = None) -> Callable[[str], bool] | None:
    """The kind of sentence a question asks for: the one defining an acronym, or one with a
    number the question does not already hold ("Gemma 3" asks for a context length, not a 3)."""
    if definition:
        acronym, meaning = definition
        return lambda sentence: defines(sentence, acronym, meaning)
    if _NUMBER_QUESTION.search(query.original):
        given = {m.group().strip() for m in _NUMBER.finditer(query.original)}
        return lambda sentence: any(m.group().strip() not in given for m in _NUMBER.finditer(sentence))
    return None


def pick_passages(
    paper: Paper,
    question: str,
    idf: Callable[[str], float],
    embedder: Embedder | None = None,
    limit: int = MAX_PASSAGES,
    wanted: Callable[[str], bool] | None = None,
) -> list[str]:
    """1-3 sentences of the abstract that best answer ``question``, in abstract order; sentences
    of the ``wanted`` kind that share the question's words first."""
    sentences = list(
        dict.fromkeys(s for text in [paper.abstract, *paper.other_abstracts] for s in split_sentences(text))
    )
    if not sentences:
        return []
    terms = set(analyze(question))
    if not terms:
        return sentences[:2]
    # The words that name the paper ("Gemma 3") are in most of its sentences and say nothing
    # about which one answers: they count for little.
    named = set(analyze(paper.label))
    weight = {t: idf(t) * (TITLE_WORD_WEIGHT if t in named else 1.0) for t in terms}
    lexical = np.array([sum(weight[t] for t in terms & set(analyze(s))) for s in sentences])
    if lexical.max() > 0:
        lexical = lexical / lexical.max()
    scores = lexical
    if embedder is not None:
        vectors = embedder.embed([question, *sentences])
        scores = lexical + 0.5 * np.clip(vectors[1:] @ vectors[0], 0, None)
    if wanted is not None:
        scores = scores + WANTED_BONUS * np.array(
            [lexical[i] > 0 and wanted(s) for i, s in enumerate(sentences)]
        )
    if scores.max() <= 0:
        return sentences[:2]
    best = float(scores.max())
    order = np.argsort(-scores, kind="stable")
    chosen: list[int] = []
    for i in order:
        if len(chosen) == limit or scores[i] < 0.6 * best:
            break
        # Two versions of an abstract often say the same thing twice: keep one.
        if all(fuzz.ratio(sentences[i], sentences[j]) < NEAR_DUPLICATE for j in chosen):
            chosen.append(int(i))
    return [sentences[i] for i in sorted(chosen)]


def one_line(paper: Paper, width: int = 160) -> str:
    """The first sentence of the abstract, cut to ``width`` characters."""
    first = next(iter(split_sentences(paper.abstract)), paper.abstract)
    return first if len(first) <= width else first[: width - 1].rsplit(" ", 1)[0] + "…"


def byline(paper: Paper, most: int = 3) -> str:
    names = paper.authors[:most]
    more = paper.et_al or len(paper.authors) > most
    return ", ".join(names) + (" et al." if more else "") if names else "unknown authors"


def meta_line(paper: Paper) -> str:
    parts = [paper.date.isoformat() if paper.date else "undated"]
    if paper.categories or paper.category:
        parts.append(paper.categories[0] if paper.categories else str(paper.category))
    if paper.has_code:
        parts.append("code")
    return " · ".join(parts)


def _links_line(paper: Paper) -> str:
    return " | ".join(f"{name}: {url}" for name, url in list(paper.links.items())[:3])


def _listing(hits: Sequence[SearchHit], first: int = 1) -> list[str]:
    return [
        f"{n}. **{h.paper.label}** — {byline(h.paper)} ({meta_line(h.paper)})"
        for n, h in enumerate(hits, first)
    ]


NEAREST = "The nearest papers, in case one is what you meant:"


def source_name(passage: Passage, shown: Paper, others: Sequence[Paper] = ()) -> str:
    """The name of the paper a quoted passage is from, when it is not the shown paper ("")."""
    if passage.paper_id == shown.id:
        return ""
    return next((p.name for p in others if p.id == passage.paper_id), "")


def passage_source(passage: Passage, shown: Paper, others: Sequence[Paper] = ()) -> str:
    """Where a quoted passage is from, when it is not the shown paper's abstract: "WARP, §4
    Experiments, p. 3"; "" for the shown paper's abstract."""
    return ", ".join(filter(None, [source_name(passage, shown, others), passage.place]))


def render_text(answer: Answer) -> str:
    """The answer as plain text with light markdown (CLI, console chat, Discord fallback)."""
    if not answer.hits:
        return answer.empty_reason or "No paper matches that."
    lines: list[str] = []
    if not answer.answered:
        lines.append(answer.empty_reason or "No paper in the library answers that.")
        lines.append(NEAREST)
        return "\n".join(lines + _listing(answer.hits))
    if answer.intent == "compare":
        lines.append(answer.heading or "Comparing")
        for hit in answer.hits:
            p = hit.paper
            lines.append(f"**{p.label}** — {byline(p)} ({meta_line(p)})")
            lines += [f"> {q.text}" for q in answer.passages if q.paper_id == p.id]
            lines.append(_links_line(p))
        return "\n".join(lines + answer.notes)
    if answer.heading:
        return "\n".join([answer.heading, *_listing(answer.hits), *answer.notes])
    best = answer.hits[0].paper
    lines += [f"**{best.label}**", f"{byline(best, 6)} · {meta_line(best)}"]
    lines += answer.notes
    for q in answer.passages:
        where = passage_source(q, best, [h.paper for h in answer.hits])
        lines.append(f"> ({where}) {q.text}" if where else f"> {q.text}")
    lines.append(_links_line(best))
    if len(answer.hits) > 1:
        lines.append("")
        lines.append("Also relevant:")
        for n, hit in enumerate(answer.hits[1:], 2):
            p = hit.paper
            lines.append(f"{n}. **{p.label}** — {byline(p)} ({meta_line(p)}): {one_line(p, 120)}")
    return "\n".join(lines)


def build_answer(
    query: Query,
    hits: Sequence[SearchHit],
    idf: Callable[[str], float],
    embedder: Embedder | None = None,
    author_name: str | None = None,
    reference: Paper | None = None,
    definition: tuple[str, str] | None = None,
) -> Answer:
    """Assemble the answer for a routed query and its ranked hits (``reference``: the paper a
    "similar to" request starts from; ``definition``: an acronym asked about and its meaning)."""
    answer = Answer(intent=query.intent, query=query.original, text="", hits=list(hits))
    if reference is not None:
        answer.heading = f"Papers similar to “{reference.label}” ({len(hits)})"
    elif query.intent == "author" or query.newest_first:
        who = f"by {author_name}" if author_name else ""
        about = f"on {query.topic}" if query.topic else ""
        when = date_span(query.since, query.until)
        said = " ".join(filter(None, [f"Papers {who}".strip(), about, when]))
        answer.heading = (
            f"{said} ({len(hits)}), newest first" if said != "Papers" else f"Newest papers ({len(hits)})"
        )
    else:
        answer.hits = answer.hits[: 1 + OTHERS]
        if answer.hits:
            best = answer.hits[0].paper
            sentences = pick_passages(
                best, query.text or query.original, idf, embedder, wanted=wanted(query, definition)
            )
            answer.passages = [Passage.from_abstract(best, s) for s in sentences]
    if not answer.hits:
        answer.empty_reason = empty_reason(query, author_name)
    answer.text = render_text(answer)
    return answer


# When does the best paper answer a request? Calibrated on tests/fixtures/eval/dialogue_cases.jsonl
# (on- and off-topic requests) and the dev questions, which must all stay answered.
ANSWERED_SHARE = 0.6  # the share of the request's weight (idf) the paper's text holds
ANSWERED_SHARE_WITH_RAREST = 0.35  # ... or this much with the request's most specific word
ANSWERED_COSINE = 0.5  # ... or a meaning this close (a paraphrase in other words)


def coverage(paper: Paper, weights: dict[tuple[str, ...], float]) -> tuple[float, bool]:
    """How much of a request a paper's title and abstract hold: the share of the weight of its
    words (each a group of acceptable spellings) found there, and whether the rarest is."""
    if not weights:
        return 0.0, False
    held = set(analyze(" ".join([paper.label, paper.abstract, *paper.other_abstracts])))
    found = {group: any(t in held for t in group) for group in weights}
    share = sum(w for group, w in weights.items() if found[group]) / sum(weights.values())
    return share, found[max(weights, key=weights.__getitem__)]


def answers(share: float, has_rarest: bool, cosine: float | None = None) -> bool:
    return (
        share >= ANSWERED_SHARE
        or (has_rarest and share >= ANSWERED_SHARE_WITH_RAREST)
        or (cosine is not None and cosine >= ANSWERED_COSINE)
    )


def date_span(since: dt.date | None, until: dt.date | None) -> str:
    """ "in 2021", "since May 2023", "until 2016", "from 2019 to 2020"; "" for no bounds."""

    def show(day: dt.date, end: bool) -> str:
        whole_year = (day.month, day.day) == ((12, 31) if end else (1, 1))
        return (
            str(day.year)
            if whole_year
            else day.strftime("%B %Y")
            if day.day in (1, 28, 29, 30, 31)
            else day.isoformat()
        )

    if since and until:
        if since.year == until.year and (since.month, since.day, until.month, until.day) == (1, 1, 12, 31):
            return f"in {since.year}"
        return f"from {show(since, False)} to {show(until, True)}"
    if since:
        return f"since {show(since, False)}"
    return f"until {show(until, True)}" if until else ""


def empty_reason(query: Query, author_name: str | None) -> str:
    if query.intent == "empty":
        return "Ask me about a paper: a question, a title, an acronym, or 'papers by <name>'."
    if query.intent == "author" and query.topic:
        return f"No paper by {author_name} mentions {query.topic}. Try 'papers by {author_name}'."
    if query.intent == "author":
        return f"No paper by {author_name or query.author_text} in the library."
    if query.topic:
        return (
            f"No paper in the library mentions {query.topic} {date_span(query.since, query.until)}".rstrip()
            + "."
        )
    return "No paper matches that. Try other words, a title, or an author's name."


# -- requests about named papers ---------------------------------------------------------------
_CONTRIBUTION = re.compile(
    r"\b(?:we (?:propose|introduce|present|develop|design|study|show|derive|describe|release)|this (?:paper|work|report)|in this (?:paper|work)|here,? we|our (?:method|approach|algorithm))\b",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|improv\w+|achiev\w+|results?|state[- ]of[- ]the[- ]art|surpass\w*|we find|we show|demonstrat\w+|experiments?)\b",
    re.IGNORECASE,
)


def _sentences(paper: Paper) -> list[str]:
    return split_sentences(paper.abstract)


def contribution(paper: Paper) -> str:
    """The sentence saying what the paper does ("we propose..."), else its first sentence."""
    sentences = _sentences(paper)
    return next((s for s in sentences if _CONTRIBUTION.search(s)), sentences[0] if sentences else paper.label)


def summary_sentences(paper: Paper, most: int = 3) -> list[str]:
    """The gist of an abstract in abstract order: what it is about, what it does, what it finds."""
    sentences = _sentences(paper)
    if len(sentences) <= most:
        return sentences
    chosen = {0, sentences.index(contribution(paper))}
    result = [i for i, s in enumerate(sentences) if i not in chosen and _RESULT.search(s)]
    chosen.update(result[-1:] or [len(sentences) - 1])
    return [sentences[i] for i in sorted(chosen)][:most]


def cite_answer(question: str, paper: Paper) -> Answer:
    """BibTeX and a plain reference for one paper (intent ``cite``)."""
    entry = paper_links.bibtex(paper)
    text = f"**{paper.label}**\n```bibtex\n{entry}\n```\n{paper_links.reference(paper)}"
    return Answer(intent="cite", query=question, text=text, hits=[SearchHit(paper=paper, score=1.0)])


def about_answer(question: str, paper: Paper, detail: str, related: Sequence[SearchHit] = ()) -> Answer:
    """Who wrote a paper, or its summary: the paper first, its passages, then related papers."""
    hits = [SearchHit(paper=paper, score=1.0), *[h for h in related if h.paper.id != paper.id][:OTHERS]]
    answer = Answer(intent="title", query=question, text="", hits=hits)
    if detail == "authors":
        names = ", ".join(paper.authors) + (" et al." if paper.et_al else "")
        answer.notes = [f"Written by {names or 'unknown authors'}"]
        if paper.orgs:
            answer.notes.append(f"Organisations: {', '.join(paper.orgs)}")
        answer.passages = [Passage.from_abstract(paper, contribution(paper))]
    else:
        answer.passages = [Passage.from_abstract(paper, s) for s in summary_sentences(paper)]
    answer.text = render_text(answer)
    return answer


def shared_terms(a: Paper, b: Paper, idf: Callable[[str], float], most: int = 4) -> list[str]:
    """What both papers are about, as the first paper writes it: the specific words both use
    more than in passing (twice, or in a title), the most specific first."""
    surface: dict[str, str] = {}
    counts: list[Counter[str]] = []
    for paper in (a, b):
        count: Counter[str] = Counter()
        for token in raw_tokens(f"{paper.label} {paper.label} {paper.abstract}"):
            for term in analyze(token):
                count[term] += 1
                if paper is a:
                    surface.setdefault(term, token if token.isupper() else token.lower())
        counts.append(count)
    common = [t for t in surface if min(counts[0][t], counts[1][t]) >= 2 and not t.isdigit() and len(t) > 2]
    common.sort(key=lambda t: idf(t) * min(counts[0][t], counts[1][t]), reverse=True)
    return [surface[t] for t in common[:most]]


def compare_answer(question: str, first: Paper, second: Paper, idf: Callable[[str], float]) -> Answer:
    """Both papers, a line each on what it does, and what they share (intent ``compare``)."""
    hits = [SearchHit(paper=first, score=1.0), SearchHit(paper=second, score=1.0)]
    answer = Answer(intent="compare", query=question, text="", hits=hits)
    if first.id == second.id:
        answer.hits = hits[:1]
        answer.notes = [f"Both names point to the same paper: {first.label}."]
        answer.passages = [Passage.from_abstract(first, contribution(first))]
        answer.text = render_text(answer)
        return answer
    answer.passages = [Passage.from_abstract(p, contribution(p)) for p in (first, second)]
    shared = []
    if words_ := shared_terms(first, second, idf):
        shared.append("both work with " + ", ".join(words_))
    if people := [n for n in first.authors if n in set(second.authors)]:
        shared.append("shared authors: " + ", ".join(people[:5]))
    if first.date and second.date:
        newer, older = (first, second) if first.date >= second.date else (second, first)
        shared.append(f"{newer.name} is the newer ({newer.date:%Y-%m} vs {older.date:%Y-%m})")
    answer.heading = f"Comparing {first.name} and {second.name}"
    answer.notes = ["In common: " + "; ".join(shared) + "."] if shared else []
    answer.text = render_text(answer)
    return answer
