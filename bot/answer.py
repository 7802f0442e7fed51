"""Extractive answers: the sentences of the best paper's abstract that answer the question.

No language model is needed; an optional OpenAI-compatible endpoint may rewrite the text
(see ``bot.rewrite``), never required.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz

from bot.models import Answer, Paper, Passage, SearchHit
from bot.query import Query
from bot.search.analysis import analyze
from bot.search.semantic import Embedder
from bot.sentences import split_sentences

MAX_PASSAGES = 3
NEAR_DUPLICATE = 75  # rapidfuzz ratio above which two sentences say the same
OTHERS = 4


def pick_passages(
    paper: Paper,
    question: str,
    idf: Callable[[str], float],
    embedder: Embedder | None = None,
    limit: int = MAX_PASSAGES,
) -> list[str]:
    """1-3 sentences of the abstract that best answer ``question``, in abstract order."""
    sentences = list(
        dict.fromkeys(s for text in [paper.abstract, *paper.other_abstracts] for s in split_sentences(text))
    )
    if not sentences:
        return []
    terms = set(analyze(question))
    if not terms:
        return sentences[:2]
    lexical = np.array([sum(idf(t) for t in terms & set(analyze(s))) for s in sentences])
    if lexical.max() > 0:
        lexical = lexical / lexical.max()
    scores = lexical
    if embedder is not None:
        vectors = embedder.embed([question, *sentences])
        scores = lexical + 0.5 * np.clip(vectors[1:] @ vectors[0], 0, None)
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


def render_text(answer: Answer) -> str:
    """The answer as plain text with light markdown (CLI, console chat, Discord fallback)."""
    if not answer.hits:
        return answer.empty_reason or "No paper matches that."
    lines: list[str] = []
    if answer.heading:
        lines.append(answer.heading)
        for n, hit in enumerate(answer.hits, 1):
            p = hit.paper
            lines.append(f"{n}. **{p.label}** — {byline(p)} ({meta_line(p)})")
        return "\n".join(lines)
    best = answer.hits[0].paper
    lines += [f"**{best.label}**", f"{byline(best, 6)} · {meta_line(best)}"]
    lines += [f"> {p.text}" for p in answer.passages]
    lines.append(" | ".join(f"{name}: {url}" for name, url in list(best.links.items())[:3]))
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
) -> Answer:
    """Assemble the answer for a routed query and its ranked hits."""
    answer = Answer(intent=query.intent, query=query.original, text="", hits=list(hits))
    if query.intent == "author" or query.newest_first:
        who = f"by {author_name}" if author_name else ""
        about = f"on {query.topic}" if query.topic else ""
        when = f"since {query.since.year}" if query.since else ""
        answer.heading = (
            " ".join(filter(None, [f"Papers {who}".strip(), about, when])) + f" ({len(hits)}), newest first"
        )
    else:
        answer.hits = answer.hits[: 1 + OTHERS]
        if answer.hits:
            best = answer.hits[0].paper
            sentences = pick_passages(best, query.text or query.original, idf, embedder)
            answer.passages = [Passage.from_abstract(best, s) for s in sentences]
    if not answer.hits:
        answer.empty_reason = empty_reason(query, author_name)
    answer.text = render_text(answer)
    return answer


def empty_reason(query: Query, author_name: str | None) -> str:
    if query.intent == "empty":
        return "Ask me about a paper: a question, a title, an acronym, or 'papers by <name>'."
    if query.intent == "author" and query.topic:
        return f"No paper by {author_name} mentions {query.topic}. Try 'papers by {author_name}'."
    if query.intent == "author":
        return f"No paper by {author_name or query.author_text} in the library."
    if query.topic:
        return f"No paper in the library mentions {query.topic}" + (
            f" since {query.since.year}." if query.since else "."
        )
    return "No paper matches that. Try other words, a title, or an author's name."
