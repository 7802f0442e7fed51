"""BM25 over analysed terms: a term-major sparse matrix built in a streaming pass.

Why not bm25s: its ``index()`` holds every token list and several dense copies at once
(about 10 GB peak for a million abstracts on this machine). This index is the same
matrix (CSC: one posting list per term, the BM25 weight precomputed per posting),
built from per-chunk arrays with a counting sort, saved as ``.npy`` files and loaded
memory-mapped. Scoring a query is a scatter-add of its terms' posting lists; the commonest
terms of a large index also have their weights as dense rows (``DenseRows``), added whole.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bot.search.analysis import analyze_token, raw_tokens
from bot.search.npy import npy_writer
from bot.text import STOPWORDS

K1, B = 1.2, 0.75
# Query terms this short are not corrected: too many near neighbours to guess right.
MIN_CORRECTABLE = 4
# A known query term held by at most this many papers may still be a typo of a term held by
# this many times more (see LexicalIndex._commoner).
RARE_KNOWN = 2
MUCH_COMMONER = 100
# A term in at least this share of a large index's documents also gets a dense row of weights:
# adding a row of a million floats takes 0.3 ms where scattering half a million postings into
# it took 2 ms (and three-quarters of a million 3 ms). Same sums, bit for bit.
DENSE_SHARE = 0.25
DENSE_FROM = 20_000  # documents: below, scattering is fast and the rows are not worth keeping


SLIP_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def one_slip(term: str) -> set[str]:
    """Every spelling one slip from ``term``: a character left out, added, replaced, or two
    swapped (a few hundred strings, looked up in the vocabulary: no scan of it)."""
    cuts = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    spellings = {head + tail[1:] for head, tail in cuts if tail}
    spellings |= {head + tail[1] + tail[0] + tail[2:] for head, tail in cuts if len(tail) > 1}
    spellings |= {head + c + tail[1:] for head, tail in cuts if tail for c in SLIP_CHARACTERS}
    spellings |= {head + c + tail for head, tail in cuts for c in SLIP_CHARACTERS}
    spellings.discard(term)
    return spellings


class LexicalBuilder:
    """Accumulate documents chunk by chunk; ``finish()`` makes the index.

    Each distinct raw token is analysed once: the memo numbers it, and its term ids are kept
    in arrays (``_Sequences``), so a batch of documents becomes term ids by one dict look-up
    per token and numpy gathers; (document, term) counts are then taken for a whole chunk at
    once with one ``np.unique``.
    """

    CHUNK = 4096
    PASS_POSTINGS = 16_000_000

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._memo: dict[str, int] = {}  # raw token -> its number in _sequences
        self._sequences = _Sequences()
        self._terms: list[np.ndarray] = []  # per chunk: term id of each posting
        self._counts: list[np.ndarray] = []  # per chunk: term frequency of each posting
        self._postings_per_doc: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []
        self._pending: list[list[int]] = []
        self._blocks: list[tuple[np.ndarray, np.ndarray]] = []  # (term ids, lengths) of documents
        self._block_docs = 0

    def _learn(self, raws: Iterable[str]) -> None:
        """Analyse the raw tokens the memo does not hold yet, in order of first appearance (term
        ids are numbered as terms first appear)."""
        memo, vocab, sequences = self._memo, self.vocab, self._sequences
        for raw in raws:
            if raw not in memo:
                memo[raw] = sequences.add([vocab.setdefault(t, len(vocab)) for t in analyze_token(raw)])

    def add_text(self, text: str) -> None:
        raws = raw_tokens(text)
        self._learn(raws)
        memo, terms_of = self._memo, self._sequences.terms
        self._pending.append([i for raw in raws for i in terms_of[memo[raw]]])
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def add_texts(self, texts: Sequence[str]) -> None:
        """``add_text`` for many documents at once: the same index, the per-token work done by
        C loops over the whole batch (map, chain, numpy) instead of a comprehension per document."""
        if not texts:
            return
        per_doc = [raw_tokens(text) for text in texts]
        raws = list(itertools.chain.from_iterable(per_doc))
        memo = self._memo
        numbers = np.fromiter(map(memo.get, raws, itertools.repeat(-1)), dtype=np.int64, count=len(raws))
        new = np.flatnonzero(numbers < 0).tolist()
        if new:  # a few new tokens: analysed once each, not a pass over every token
            self._learn(raws[i] for i in new)
            numbers[new] = [memo[raws[i]] for i in new]
        flat, per_raw = self._sequences.gather(numbers)
        ends = np.concatenate(([0], np.cumsum(per_raw)))
        raw_ends = np.concatenate(([0], np.cumsum(np.fromiter(map(len, per_doc), dtype=np.int64))))
        self._seal()
        self._blocks.append((flat, ends[raw_ends[1:]] - ends[raw_ends[:-1]]))
        self._block_docs += len(texts)
        if self._block_docs >= self.CHUNK:
            self._flush()

    def add(self, terms: Sequence[str]) -> None:
        vocab = self.vocab
        self._pending.append([vocab.setdefault(t, len(vocab)) for t in terms])
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _seal(self) -> None:
        """The documents added one by one so far, as a block (documents stay in order)."""
        if not self._pending:
            return
        docs, self._pending = self._pending, []
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        flat = np.fromiter(itertools.chain.from_iterable(docs), dtype=np.int64, count=int(lengths.sum()))
        self._blocks.append((flat, lengths))
        self._block_docs += len(docs)

    def _flush(self) -> None:
        self._seal()
        if not self._blocks:
            return
        blocks, self._blocks, self._block_docs = self._blocks, [], 0
        flat = np.concatenate([b[0] for b in blocks]).astype(np.int64, copy=False)
        lengths = np.concatenate([b[1] for b in blocks]).astype(np.int64, copy=False)
        docs = len(lengths)
        width = max(len(self.vocab), 1)
        keys = np.repeat(np.arange(docs, dtype=np.int64), lengths) * width + flat
        unique, counts = np.unique(keys, return_counts=True)  # sorted by document, then term
        self._terms.append((unique % width).astype(np.int32))
        self._counts.append(np.minimum(counts, 255).astype(np.uint8))  # BM25 saturates long before
        self._postings_per_doc.append(np.bincount(unique // width, minlength=docs).astype(np.int32))
        self._lengths.append(lengths.astype(np.int32))

    def finish(self, folder: Path | None = None) -> LexicalIndex:
        """The index; with ``folder``, written there as it is made and loaded memory-mapped.

        Postings are placed a range of terms at a time (``PASS_POSTINGS`` per pass), so with a
        folder the index is never in memory at all, only the chunks it is made from.
        """
        self._flush()
        terms = self._number_terms_in_order()
        n = sum(len(x) for x in self._lengths)
        v = len(terms)
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int32)
        df = np.zeros(v, dtype=np.int64)
        for chunk in self._terms:
            df += np.bincount(chunk, minlength=v)
        indptr = np.zeros(v + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        weigh = _BM25(bm25_idf(n, df), lengths.astype(np.float32), float(lengths.mean()) if n else 1.0)
        total = int(indptr[-1])
        if folder is None:
            indices, data = np.empty(total, dtype=np.int32), np.empty(total, dtype=np.float32)
            tf = np.empty(total, dtype=np.uint8)
            for first, docs, weights, counts in self._passes(indptr, weigh):
                end = first + len(docs)
                indices[first:end], data[first:end], tf[first:end] = docs, weights, counts
            self._clear()
            dense = DenseRows.make(indptr, indices, data, n)
            return LexicalIndex(SortedTerms(terms), indptr, indices, data, n, tf, lengths, dense)
        folder.mkdir(parents=True, exist_ok=True)
        with (
            npy_writer(folder / "indices.npy", np.int32, (total,)) as fi,
            npy_writer(folder / "data.npy", np.float32, (total,)) as fd,
            npy_writer(folder / "tf.npy", np.uint8, (total,)) as ft,
        ):
            for _, docs, weights, counts in self._passes(indptr, weigh):  # in term order: the files in order
                docs.tofile(fi)
                weights.tofile(fd)
                counts.tofile(ft)
        self._clear()
        np.save(folder / "indptr.npy", indptr)
        np.save(folder / "lengths.npy", lengths)
        (folder / "vocab.json").write_text(json.dumps({"size": n, "terms": terms, "sorted": True}))
        DenseRows.write(folder, indptr, n)
        return LexicalIndex.load(folder)

    def _number_terms_in_order(self) -> list[str]:
        """Renumber the terms in sorted order (the chunks' term ids mapped to the new ones), so
        that a loaded index has its vocabulary sorted already: spelling correction and
        completion then start without sorting it (a second at 1M papers). Returns the terms,
        term i at place i: the index's vocabulary (``SortedTerms``), no dict of it made again."""
        order = sorted(self.vocab)
        new_id = np.empty(len(order), dtype=np.int32)
        new_id[np.fromiter(map(self.vocab.__getitem__, order), dtype=np.int64, count=len(order))] = np.arange(
            len(order), dtype=np.int32
        )
        self._terms = [new_id[chunk] for chunk in self._terms]
        return order

    def _passes(
        self, indptr: np.ndarray, weigh: _BM25
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """(first slot, documents, weights, term frequencies) of the postings of one range of
        terms after another."""
        total = int(indptr[-1])
        starts = np.searchsorted(indptr, np.arange(0, total, self.PASS_POSTINGS), side="right") - 1
        bounds = [*np.unique(starts).tolist(), len(indptr) - 1] if total else []
        for lo, hi in itertools.pairwise(bounds):
            base, size = int(indptr[lo]), int(indptr[hi] - indptr[lo])
            docs, weights = np.empty(size, dtype=np.int32), np.empty(size, dtype=np.float32)
            tf = np.empty(size, dtype=np.uint8)
            cursor = indptr[lo:hi] - base
            first_doc = 0
            for terms, counts, per_doc in zip(self._terms, self._counts, self._postings_per_doc, strict=True):
                chunk_docs = np.repeat(
                    np.arange(first_doc, first_doc + len(per_doc), dtype=np.int32), per_doc
                )
                first_doc += len(per_doc)
                inside = (terms >= lo) & (terms < hi)
                t, d, c = terms[inside] - lo, chunk_docs[inside], counts[inside]
                # Counting sort: postings go to their term's slot, in document order.
                order = np.argsort(t, kind="stable")
                t, d, c = t[order], d[order], c[order]
                slots = cursor[t] + (np.arange(len(t)) - np.searchsorted(t, t, side="left"))
                docs[slots] = d
                weights[slots] = weigh(t + lo, d, c)
                tf[slots] = c
                cursor += np.bincount(t, minlength=hi - lo)
            yield base, docs, weights, tf

    def _clear(self) -> None:
        self._terms, self._counts, self._postings_per_doc, self._lengths = [], [], [], []
        self.vocab, self._memo, self._sequences = {}, {}, _Sequences()  # its numbering is the old one


class _Sequences:
    """The term ids of each analysed raw token (most have one, "EmbeddingGemma" three), as a
    list for one token at a time and as arrays for gathering a batch's at once."""

    def __init__(self) -> None:
        self.terms: list[tuple[int, ...]] = []
        self._starts = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._flat = np.zeros(0, dtype=np.int64)

    def add(self, terms: list[int]) -> int:
        self.terms.append(tuple(terms))
        return len(self.terms) - 1

    def gather(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the term ids of these sequences one after another, each sequence's length)."""
        self._catch_up()
        lengths = self._lengths[numbers]
        total = int(lengths.sum())
        # The i-th id out is flat[start of its sequence + its place within the sequence].
        firsts = np.cumsum(lengths) - lengths
        places = np.arange(total, dtype=np.int64) - np.repeat(firsts, lengths)
        return self._flat[np.repeat(self._starts[numbers], lengths) + places], lengths

    def _catch_up(self) -> None:
        """Extend the arrays with the sequences added since the last gather."""
        new = self.terms[len(self._lengths) :]
        if not new:
            return
        lengths = np.fromiter(map(len, new), dtype=np.int64, count=len(new))
        start = len(self._flat)
        self._starts = np.concatenate([self._starts, start + np.cumsum(lengths) - lengths])
        self._lengths = np.concatenate([self._lengths, lengths])
        flat = np.fromiter(itertools.chain.from_iterable(new), dtype=np.int64, count=int(lengths.sum()))
        self._flat = np.concatenate([self._flat, flat])


class _BM25:
    """A posting's weight: idf x saturated, length-normalised term frequency (as Lucene)."""

    def __init__(self, idf: np.ndarray, lengths: np.ndarray, avgdl: float) -> None:
        self.idf, self.lengths, self.avgdl = idf, lengths, avgdl

    def __call__(self, terms: np.ndarray, docs: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return bm25_weights(self.idf[terms], counts, self.lengths[docs], self.avgdl)


def bm25_weights(
    idf: np.ndarray | np.float32, counts: np.ndarray, lengths: np.ndarray, avgdl: float
) -> np.ndarray:
    """BM25 weights of postings from their term's idf, term frequency and document length: the
    one formula the build and the segmented search (bot.search.segments) share, so a score is
    the same whichever computed it."""
    tf = counts.astype(np.float32)
    return idf * tf / (tf + K1 * (1 - B + B * lengths.astype(np.float32, copy=False) / avgdl))


def bm25_idf(size: int, df: np.ndarray | int) -> np.ndarray:
    return np.log1p((size - np.asarray(df) + 0.5) / (np.asarray(df) + 0.5)).astype(np.float32)


class SortedTerms(Mapping[str, int]):
    """A sorted vocabulary as the mapping from term to id (its place), looked up by bisection:
    a loaded index makes no dict of its terms (2.7M terms: 2.3 s and a few hundred MB)."""

    __slots__ = ("terms",)

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms

    def get(self, term: str, default: int | None = None) -> int | None:  # type: ignore[override]
        terms = self.terms
        at = bisect.bisect_left(terms, term)
        return at if at < len(terms) and terms[at] == term else default

    def __getitem__(self, term: str) -> int:
        at = self.get(term)
        if at is None:
            raise KeyError(term)
        return at

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)


class DenseRows:
    """The BM25 weights of a large index's commonest terms (in ``DENSE_SHARE`` of its documents)
    as one row of every document each, 0 where the term is absent: a query adds the row instead
    of scattering the term's postings. A row costs 4 bytes a document, its postings 9 bytes a
    posting: a term in half the documents takes about as much either way."""

    def __init__(self, terms: np.ndarray, rows: np.ndarray) -> None:
        self.row_of = dict(zip(terms.tolist(), range(len(terms)), strict=True))
        self.rows = rows

    @staticmethod
    def chosen(indptr: np.ndarray, size: int) -> np.ndarray:
        """The term ids that get a row (none below ``DENSE_FROM`` documents)."""
        if size < DENSE_FROM:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.diff(indptr) >= DENSE_SHARE * size)

    @classmethod
    def make(cls, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, size: int) -> DenseRows | None:
        terms = cls.chosen(indptr, size)
        if not len(terms):
            return None
        rows = np.zeros((len(terms), size), dtype=np.float32)
        for row, tid in zip(rows, terms.tolist(), strict=True):
            row[indices[indptr[tid] : indptr[tid + 1]]] = data[indptr[tid] : indptr[tid + 1]]
        return cls(terms, rows)

    @classmethod
    def write(cls, folder: Path, indptr: np.ndarray, size: int) -> None:
        """Write the rows of an index saved in ``folder`` (row by row: never all in memory)."""
        terms = cls.chosen(indptr, size)
        if not len(terms):
            return
        indices = np.load(folder / "indices.npy", mmap_mode="r")
        data = np.load(folder / "data.npy", mmap_mode="r")
        np.save(folder / "dense_terms.npy", terms)
        row = np.zeros(size, dtype=np.float32)
        with npy_writer(folder / "dense.npy", np.float32, (len(terms), size)) as out:
            for tid in terms.tolist():
                row[:] = 0.0
                row[indices[indptr[tid] : indptr[tid + 1]]] = data[indptr[tid] : indptr[tid + 1]]
                row.tofile(out)

    @classmethod
    def load(cls, folder: Path) -> DenseRows | None:
        """The rows saved in ``folder``; None when there are none (a small index, or one saved
        before rows were made: it scatters every term, with the same scores)."""
        if not (folder / "dense.npy").exists():
            return None
        return cls(np.load(folder / "dense_terms.npy"), np.load(folder / "dense.npy", mmap_mode="r"))


class LexicalIndex:
    def __init__(
        self,
        vocab: Mapping[str, int],
        indptr: np.ndarray,
        indices: np.ndarray,
        data: np.ndarray,
        size: int,
        tf: np.ndarray,
        lengths: np.ndarray,
        dense: DenseRows | None = None,
    ) -> None:
        self.vocab = vocab
        self.indptr, self.indices, self.data = indptr, indices, data
        self.dense = dense
        self.size = size
        self.documents = size  # what idf counts (a segmented index: its live documents)
        # Term frequencies and document lengths: what BM25 weights are made of, kept so that
        # segments can weigh their postings with corpus-wide statistics (bot.search.segments).
        self.tf, self.lengths = tf, lengths

    # Spelling correction and completion need the vocabulary sorted and bucketed: made when
    # asked, so indexes that never correct (titles, authors: 2M terms at 1M papers) never pay.
    def prepare_corrections(self) -> None:
        """Sort the vocabulary now (when it was not saved sorted), not on the first misspelt query."""
        self._sorted_vocab  # noqa: B018

    @functools.cached_property
    def _sorted_vocab(self) -> list[str]:
        return self.vocab.terms if isinstance(self.vocab, SortedTerms) else sorted(self.vocab)

    def _bucket(self, first: str, length: int) -> list[str]:
        """The vocabulary's terms with this first letter and length, in order: typo candidates
        without scanning it all. A letter's terms are one run of the sorted vocabulary, cut
        into lengths the first time a query needs that letter."""
        by_length = self._by_letter.get(first)
        if by_length is None:
            terms = self._sorted_vocab
            run = terms[bisect.bisect_left(terms, first) : bisect.bisect_left(terms, chr(ord(first) + 1))]
            by_length = self._by_letter[first] = {}
            for term in run:
                by_length.setdefault(len(term), []).append(term)
        return by_length.get(length, [])

    @functools.cached_property
    def _by_letter(self) -> dict[str, dict[int, list[str]]]:
        return {}

    @classmethod
    def build(cls, corpus_terms: Iterable[Sequence[str]]) -> LexicalIndex:
        builder = LexicalBuilder()
        for terms in corpus_terms:
            builder.add(terms)
        return builder.finish()

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        meta = json.loads((folder / "vocab.json").read_text())
        # Saved sorted: looked up in place, no dict of millions of terms to make (indexes saved
        # before that: a dict, sorted when a correction first asks).
        terms = meta["terms"]
        vocab: Mapping[str, int] = (
            SortedTerms(terms) if meta.get("sorted") else {t: i for i, t in enumerate(terms)}
        )
        postings = (np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("indices", "data", "tf"))
        indices, data, tf = postings
        indptr, lengths = np.load(folder / "indptr.npy"), np.load(folder / "lengths.npy")
        return cls(vocab, indptr, indices, data, meta["size"], tf, lengths, DenseRows.load(folder))

    def scores(
        self,
        terms: Sequence[str],
        mask: np.ndarray | None = None,
        weights: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ) -> np.ndarray:
        """BM25 score of every document for the query terms (repeated terms count again). With
        ``weights``, term i adds ``weights[i]`` to each document that has it instead of its BM25
        weight (a coverage score); with ``scale``, term i's BM25 weight is multiplied by ``scale[i]``."""
        scores = np.zeros(self.size, dtype=np.float32)
        dense = self.dense if weights is None else None
        for i, term in enumerate(terms):
            tid = self.vocab.get(term)
            if tid is None:
                continue
            if dense is not None and (row := dense.row_of.get(tid)) is not None:
                values = dense.rows[row]
                scores += values if scale is None or scale[i] == 1.0 else values * np.float32(scale[i])
                continue
            start, end = self.indptr[tid], self.indptr[tid + 1]
            weight = self.data[start:end] if weights is None else np.float32(weights[i])
            if scale is not None and scale[i] != 1.0:
                weight = weight * np.float32(scale[i])
            scores[self.indices[start:end]] += weight
        if mask is not None:
            scores[~mask] = 0.0
        return scores

    def top(
        self,
        terms: Sequence[str],
        depth: int,
        mask: np.ndarray | None = None,
        weights: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ) -> dict[int, float]:
        """The ``depth`` best of ``scores(terms, mask, weights, scale)``, as {document: score}.

        (MaxScore, skipping the common words' postings once the top is out of their reach, was
        tried at 1M papers: deciding when to skip cost more than the adding it saved.)
        """
        return top_scores(self.scores(terms, mask, weights, scale), depth)

    def docs_with(self, term: str) -> np.ndarray:
        """Indexes of the documents that contain ``term``."""
        tid = self.vocab.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.indices[self.indptr[tid] : self.indptr[tid + 1]])

    def doc_freq(self, term: str) -> int:
        tid = self.vocab.get(term)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])

    def idf(self, term: str) -> float:
        df = self.doc_freq(term)
        return math.log1p((self.documents - df + 0.5) / (df + 0.5))

    def correct(self, term: str) -> list[str]:
        """Vocabulary terms for a query term: itself when known (and a far commoner spelling when
        it is known from a paper or two only), else close spellings, else completions."""
        if len(term) < MIN_CORRECTABLE or term.isdigit():
            return [term]
        if term in self.vocab:
            return [term, *self._commoner(term)]
        if parts := self.split(term):  # "overoptimization": what "over-optimization" indexed
            return parts
        vocab = self.vocab  # a segmented index's buckets keep terms only replaced papers had: not these
        close = process.extract(term, self._nearby(term), scorer=fuzz.ratio, score_cutoff=80, limit=None)
        if known := [c[0] for c in close if c[0] in vocab]:
            return known[:2]
        return self.completions(term, limit=3) or [term]

    def _nearby(self, term: str) -> list[str]:
        """Terms that may be ``term`` misspelt: the same first letter, a similar length. Scored as
        they are and filtered after: checking each of them first took 25 ms a word at 1M papers."""
        lengths = range(len(term) - 2, len(term) + 3)
        return list(itertools.chain.from_iterable(self._bucket(term[0], n) for n in lengths))

    def _commoner(self, term: str) -> list[str]:
        """A far commoner spelling of a term only a paper or two hold: a typo in the query may
        land on a rare word ("recurent" stems to "recur", which one paper's made-up name has;
        "recurrent" is "recurr", in thousands), and the larger the library the likelier. The
        term itself still counts fully; the other is searched as a guess beside it."""
        df = self.doc_freq(term)
        if df > RARE_KNOWN:
            return []
        vocab = self.vocab
        freq, commoner = max(((self.doc_freq(t), t) for t in one_slip(term) if t in vocab), default=(0, ""))
        return [commoner] if freq >= MUCH_COMMONER * df else []

    def split(self, term: str) -> list[str]:
        """Two known terms a word joins ("overoptim" -> over, optim; "meanfield" -> mean, field),
        the longest known head first; [] when it is no such compound."""
        for cut in range(len(term) - 3, 2, -1):
            head, tail = term[:cut], term[cut:]
            # The tail as typed, or the one vocabulary term it begins (a stem: "optimization").
            start = bisect.bisect_left(self._sorted_vocab, tail)
            nearest = self._sorted_vocab[start : start + 1]
            tails = [tail, *(t for t in nearest if t.startswith(tail) and len(t) - len(tail) <= 2)]
            known = next((t for t in tails if t in self.vocab), None)
            if known and head in self.vocab:
                return [head, known]
            if known and head in STOPWORDS:  # "overoptimization": over is not indexed
                return [known]
        return []

    def completions(self, prefix: str, limit: int = 5) -> list[str]:
        """Vocabulary terms starting with ``prefix``, most frequent first."""
        start = bisect.bisect_left(self._sorted_vocab, prefix)
        found = []
        for term in self._sorted_vocab[start : start + 200]:
            if not term.startswith(prefix):
                break
            if term in self.vocab:
                found.append(term)
        return sorted(found, key=self.doc_freq, reverse=True)[:limit]


def top_scores(scores: np.ndarray, depth: int) -> dict[int, float]:
    """The ``depth`` highest positive scores of a non-negative array, as {index: score}."""
    rows = _top_candidates(scores, depth)
    if rows.size > depth:
        rows = rows[np.argpartition(-scores[rows], depth - 1)[:depth]]
    return {int(i): float(scores[i]) for i in rows}


def _top_candidates(scores: np.ndarray, k: int, stride: int = 64) -> np.ndarray:
    """Indexes holding the ``k`` largest positive values, found without partitioning the whole
    array (that took 8 ms at 1M documents): the ``2k``-th largest of every ``stride``-th value
    is a cut that about ``2k * stride`` values pass, so the ``k`` largest pass it."""
    sample = scores[::stride]
    cut = (
        float(np.partition(sample, sample.size - 2 * k)[sample.size - 2 * k]) if sample.size > 2 * k else 0.0
    )
    return np.flatnonzero(scores >= cut) if cut > 0 else np.flatnonzero(scores > 0)
