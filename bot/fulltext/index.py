"""One BM25 index over the body passages of every full text in the library, so that a question
that names no paper ("what batch size of 384 ...?") can be answered from whichever body says it.

Its documents are the stored passages (body sections only: the abstract is quoted from the
paper's record), read in one streaming pass (``store.fulltext.iter_passages``) into a
``LexicalBuilder``; beside the postings, two per-passage arrays (which paper, which passage of
it) and the papers' ids. Saved beside the paper index (``<index folder>.passages``, built in a
temp folder and renamed into place as ``bot.search.build`` does) with a meta naming the database
and the full-text version it was built from (``store.fulltext.version()``); loaded memory-mapped
when both match, rebuilt when full texts were added, replaced or removed since.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.fulltext.passages import _NOT_BODY
from bot.search.lexical import K1, LexicalBuilder, LexicalIndex
from bot.search.segments import LexicalSegments
from bot.store import Store
from bot.store.fulltext import PassageRow

log = logging.getLogger(__name__)
FORMAT = 2  # bump when the saved layout changes
# Full texts added or replaced since the saved index go into a segment of their own; past this
# many texts and this share of the saved ones, the index is rebuilt whole and saved.
MERGE_MIN = 200
MERGE_SHARE = 0.1
BATCH = 2048  # passages analysed at a time
NOT_BODY = sorted(_NOT_BODY)  # the abstract is quoted from the paper's record


@dataclass
class PassageIndex:
    """BM25 over every body passage; row i is passage ``seqs[i]`` of paper ``paper_ids[papers[i]]``."""

    lexical: LexicalIndex
    paper_ids: list[str]
    papers: np.ndarray  # int32 per passage: its paper's place in ``paper_ids``
    seqs: np.ndarray  # int32 per passage: its ordinal in the paper's reading order
    meta: dict[str, object] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # paper id -> the indexed text's identity
    base: PassageIndex | None = None  # the saved index this one extends with a segment

    @property
    def size(self) -> int:
        return int(self.lexical.size)

    def place(self, row: int) -> tuple[str, int]:
        """(paper id, ordinal) of an indexed passage."""
        return self.paper_ids[int(self.papers[row])], int(self.seqs[row])

    def idf(self, term: str) -> float:
        return self.lexical.idf(term)

    def best(
        self, query: list[str], k: int, min_coverage: float, must_hold: Collection[str] = ()
    ) -> list[tuple[int, float, float]]:
        """The ``k`` passages with the best BM25 score for the query terms among those holding at
        least ``min_coverage`` of the query's weight (idf, a term no passage holds weighing as
        the rarest) and, when given, one of the terms ``must_hold``, as (row, score, coverage),
        best first. Scores are on the scale of bot.fulltext.passages (BM25 with the (k1 + 1)
        factor)."""
        if not query or not self.size:
            return []
        weights = [self.idf(t) for t in query]
        wanted = sum(weights)
        if wanted <= 0:
            return []
        held = self.lexical.scores(query, weights=weights) / np.float32(wanted)
        scores = self.lexical.scores(query)
        scores[held < min_coverage] = 0.0
        if must_hold:
            holding = np.zeros(self.size, dtype=bool)
            for term in must_hold:
                holding[self.lexical.docs_with(term)] = True
            scores[~holding] = 0.0
        rows = np.flatnonzero(scores > 0)
        if rows.size > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        ranked = sorted(rows.tolist(), key=lambda r: (-float(scores[r]), r))
        return [(r, float(scores[r]) * (K1 + 1), float(held[r])) for r in ranked]


def passage_folder(index_folder: Path | None) -> Path | None:
    """Where a database's passage index is saved: beside its paper index, not inside it (a
    rebuild of the paper index replaces that folder whole)."""
    return None if index_folder is None else index_folder.with_name(index_folder.name + ".passages")


def identities(store: Store) -> dict[str, str]:
    """Paper id -> what its stored full text is (content hash and when it was added)."""
    return {doc.paper_id: f"{doc.sha256}@{doc.added_at}" for doc in store.fulltext.list()}


def build(store: Store, folder: Path | None = None, only: Mapping[str, str] | None = None) -> PassageIndex:
    """The index of every stored body passage (or of the texts ``only`` names: paper id ->
    identity), in one pass; with ``folder`` (a fresh temp folder) its postings are written there
    and mapped back."""
    texts = identities(store) if only is None else dict(only)
    builder = LexicalBuilder()
    ids: dict[str, int] = {}
    papers: list[int] = []
    seqs: list[int] = []
    if only is None:
        rows: Iterator[PassageRow] = store.fulltext.iter_passages(skip_sections=NOT_BODY, batch=BATCH)
    else:
        rows = (r for pid in sorted(only) for r in store.fulltext.passages(pid) if r.section not in _NOT_BODY)
    while chunk := list(itertools.islice(rows, BATCH)):
        builder.add_texts([r.text for r in chunk])
        for r in chunk:
            papers.append(ids.setdefault(r.paper_id, len(ids)))
            seqs.append(r.ordinal)
    lexical = builder.finish(folder / "lexical" if folder else None)
    return PassageIndex(
        lexical, list(ids), np.array(papers, dtype=np.int32), np.array(seqs, dtype=np.int32), texts=texts
    )


def extended(base: PassageIndex, store: Store, meta: dict[str, object]) -> PassageIndex | None:
    """``base`` with a segment of the full texts added or replaced since it was built, the
    passages of replaced and removed texts masked in it, BM25 across both with the statistics
    of the live passages (bot.search.segments); None when the changes outgrow it (more than
    MERGE_MIN texts and MERGE_SHARE of it): then it is rebuilt."""
    now = identities(store)
    changed = {pid for pid, text in now.items() if base.texts.get(pid) != text}
    gone = {pid for pid in base.texts if pid not in now}
    if len(changed) + len(gone) > max(MERGE_MIN, int(len(base.texts) * MERGE_SHARE)):
        return None
    segment = build(store, only={pid: now[pid] for pid in changed})
    stale = [i for i, pid in enumerate(base.paper_ids) if pid in changed or pid in gone]
    dead = np.concatenate([np.isin(base.papers, stale), np.zeros(segment.size, dtype=bool)])
    return PassageIndex(
        LexicalSegments([base.lexical, segment.lexical], dead if dead.any() else None),
        [*base.paper_ids, *segment.paper_ids],
        np.concatenate([base.papers, segment.papers + len(base.paper_ids)]).astype(np.int32),
        np.concatenate([base.seqs, segment.seqs]).astype(np.int32),
        meta,
        {**{pid: t for pid, t in base.texts.items() if pid not in gone}, **segment.texts},
        base,
    )


def _save(index: PassageIndex, folder: Path, tmp: Path) -> None:
    np.save(tmp / "papers.npy", index.papers)
    np.save(tmp / "seqs.npy", index.seqs)
    (tmp / "paper_ids.json").write_text(json.dumps(index.paper_ids))
    (tmp / "texts.json").write_text(json.dumps(index.texts))
    (tmp / "meta.json").write_text(json.dumps({**index.meta, "format": FORMAT}))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load(folder: Path) -> PassageIndex:
    meta = json.loads((folder / "meta.json").read_text())
    return PassageIndex(
        LexicalIndex.load(folder / "lexical"),
        json.loads((folder / "paper_ids.json").read_text()),
        np.load(folder / "papers.npy", mmap_mode="r"),
        np.load(folder / "seqs.npy", mmap_mode="r"),
        {k: v for k, v in meta.items() if k != "format"},
        json.loads((folder / "texts.json").read_text()),
    )


def saved_meta(folder: Path) -> dict[str, object] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def rebuild(store: Store, folder: Path | None, meta: dict[str, object]) -> PassageIndex:
    """A full build, saved to ``folder`` (atomically: a reader sees the old index or the new)."""
    if folder is None:
        index = build(store)
        index.meta = meta
        return index
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".passages-", dir=folder.parent))
    except OSError:
        log.warning("could not save the passage index beside %s", folder, exc_info=True)
        index = build(store)
        index.meta = meta
        return index
    try:
        index = build(store, tmp)
        index.meta = meta
        _save(index, folder, tmp)
    except OSError:
        log.warning("could not save the passage index to %s", folder, exc_info=True)
        shutil.rmtree(tmp, ignore_errors=True)  # the index maps files there: POSIX keeps them
        index = build(store)
        index.meta = meta
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return index


class PassageIndexes:
    """A process's passage index, kept current: ``current()`` asks the store for its full-text
    version, and returns the index in memory when it was built from that version, else the
    saved one when it was, else a new build (saved for the next process)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: PassageIndex | None = None
        self._lock = threading.Lock()
        self.builds = 0  # how many times this process built it (tests: reused, not rebuilt)

    def current(self) -> PassageIndex | None:
        """The index of the library's body passages now; None when there are no full texts."""
        meta: dict[str, object] = {
            "store_id": self.store.store_id(),
            "fulltext_version": self.store.fulltext.version(),
        }
        if str(meta["fulltext_version"]).endswith(":0"):
            return None
        index = self._index
        if index is not None and index.meta == meta:
            return index
        with self._lock:
            if self._index is not None and self._index.meta == meta:
                return self._index
            folder = passage_folder(self.store.index_folder())
            base = self._index.base or self._index if self._index is not None else self._saved(folder)
            if base is not None and base.meta == meta:
                self._index = base
            elif base is not None and base.meta.get("store_id") == meta["store_id"]:
                self._index = extended(base, self.store, meta)
            else:
                self._index = None
            if self._index is None:
                self._index = rebuild(self.store, folder, meta)
                self.builds += 1
            return self._index

    @staticmethod
    def _saved(folder: Path | None) -> PassageIndex | None:
        if folder is None or saved_meta(folder) is None:
            return None
        try:
            return load(folder)
        except (OSError, ValueError, KeyError):
            log.warning("passage index at %s is unreadable: rebuilding it", folder)
            return None
