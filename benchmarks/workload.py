"""Benchmark inputs: the corpus as an arXiv metadata snapshot file, and a mixed query set."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from benchmarks.corpus import synthetic_papers
from bot.models import Paper

SEED_VOCABULARY_FILE = Path(__file__).resolve().parent.parent / "seeds"


def seed_vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted(SEED_VOCABULARY_FILE.glob("*.txt")):
        words += re.findall(r"[a-z]+", path.read_text(encoding="utf-8").lower())
    return words


def snapshot_line(paper: Paper) -> str:
    """One line of arXiv's bulk metadata snapshot (the Kaggle ``arxiv-metadata-oai-snapshot``)."""
    assert paper.date is not None
    created = format_datetime(
        datetime(paper.date.year, paper.date.month, paper.date.day, 12, tzinfo=UTC), usegmt=True
    )
    parsed = [[name.split(" ", 1)[-1], name.split(" ", 1)[0], ""] for name in paper.authors]
    return json.dumps(
        {
            "id": paper.arxiv_id,
            "submitter": paper.authors[0],
            "authors": ", ".join(paper.authors),
            "title": paper.title,
            "comments": "10 pages",
            "journal-ref": None,
            "doi": None,
            "categories": " ".join(paper.categories),
            "license": None,
            "abstract": "  " + paper.abstract + "\n",
            "versions": [{"version": "v1", "created": created}],
            "update_date": paper.date.isoformat(),
            "authors_parsed": parsed,
        }
    )


def write_snapshot(path: Path, n: int, seed: int = 7) -> list[Paper]:
    """Write ``n`` synthetic papers as a snapshot file; return a sample of them for queries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sample: list[Paper] = []
    rng = random.Random(seed)
    partial = path.with_name(path.name + ".partial")  # renamed when whole: an interrupted run is not reused
    with partial.open("w", encoding="utf-8") as out:
        for i, paper in enumerate(synthetic_papers(n, seed=seed, vocabulary=seed_vocabulary())):
            out.write(snapshot_line(paper) + "\n")
            if len(sample) < 400:
                sample.append(paper)
            elif rng.random() < 400 / (i + 1):  # reservoir sampling over the whole corpus
                sample[rng.randrange(400)] = paper
    partial.replace(path)
    return sample


def typo(text: str, rng: random.Random) -> str:
    """Delete one letter of a longer word: how titles are half remembered."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 5]
    if not long:
        return text
    i = rng.choice(long)
    j = rng.randrange(1, len(words[i]) - 1)
    words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def query_mix(sample: list[Paper], dev_questions: list[str], n: int = 200, seed: int = 3) -> list[str]:
    """Titles, typo'd titles, topics, authors and the dev questions, shuffled."""
    rng = random.Random(seed)
    queries = list(dev_questions)
    while len(queries) < n:
        paper = rng.choice(sample)
        title = (paper.title or "").split(": ", 1)[-1]
        kind = len(queries) % 5
        if kind == 0:
            queries.append(title)
        elif kind == 1:
            queries.append(typo(title.lower(), rng))
        elif kind == 2:
            queries.append(" ".join(rng.sample(paper.abstract.split()[3:40], 3)))
        elif kind == 3:
            queries.append(f"papers by {rng.choice(paper.authors)}")
        else:
            queries.append(f"what is known about {title.lower()}?")
    rng.shuffle(queries)
    return queries


def prefixes(sample: list[Paper], n: int = 200, seed: int = 5) -> list[str]:
    """What people type in an autocomplete box: the start of a title, sometimes with a typo."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        title = rng.choice(sample).title or ""
        cut = title[: rng.randint(3, 24)]
        out.append(typo(cut, rng) if rng.random() < 0.3 else cut)
    return out


def author_prefixes(sample: list[Paper], n: int = 200, seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(rng.choice(sample).authors)[: rng.randint(3, 10)] for _ in range(n)]
