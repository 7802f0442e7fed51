"""Semantic matching with static word embeddings (wordllama): offline, CPU, weights in the wheel."""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.search.npy import npy_writer

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Texts to vectors. An embedder that can be made again in another process (a worker
    beside an index build) also has ``remake``: a picklable callable that makes it."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class WordLlamaEmbedder:
    """wordllama's bundled 256-d model. Loading reads the wheel's files: no download, ever.

    A static model embeds a text as the mean of its tokens' vectors, so we pool ourselves:
    no padding to the longest text of a batch, texts cut to ``max_chars`` (the title and
    the start of the abstract carry the topic), pooled in small chunks. Same vectors as
    ``WordLlama.embed(norm=True)`` on the cut text, several times faster.
    """

    name = "wordllama-l2-256-t400"
    dim = 256
    max_chars = 400

    def __init__(self) -> None:
        import wordllama
        from wordllama import WordLlama

        package_dir = Path(wordllama.__file__).resolve().parent
        model = WordLlama.load(dim=self.dim, cache_dir=package_dir, disable_download=True)
        self._tokenizer = copy.deepcopy(model.tokenizer)
        self._tokenizer.no_padding()
        self._vectors = np.asarray(model.embedding, dtype=np.float32)
        self._words = _WordTokens(self._tokenizer)

    @classmethod
    def remake(cls) -> WordLlamaEmbedder:
        return cls()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), 256):
            chunk = [t[: self.max_chars] for t in texts[start : start + 256]]
            encoded = self._words.encode(chunk)
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            ids = np.fromiter(
                itertools.chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum())
            )
            ids = np.clip(ids, 0, len(self._vectors) - 1)
            # One slice sum per text: np.add.reduceat over the rows was four times slower.
            end = 0
            for row, length in enumerate(lengths.tolist(), start):
                if length:
                    out[row] = self._vectors[ids[end : end + length]].sum(axis=0) / length
                    end += length
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


class _WordTokens:
    """The tokenizer's ids for texts, from a memo of each word's ids: the same ids as
    ``encode_batch(texts, add_special_tokens=False)``, five to ten times faster.

    The model is Llama's SentencePiece BPE with no pre-tokenizer: a text becomes "▁" + the
    text with spaces as "▁", and BPE merges run over the whole string, which is what made
    embedding the slowest step of an index build. No token of the vocabulary holds "▁" after
    another character (checked when loading), so no merge crosses the start of a word: the
    BPE of a text is the BPE of its words (each with the "▁"s before it) one after the other,
    and each distinct word is run through BPE once. Texts holding a special token ("<s>"),
    whose splitting happens before BPE, go through the tokenizer itself.
    """

    WORD = re.compile("\u2581*[^\u2581]+|\u2581+")
    MEMO = 1_000_000  # distinct words kept (a million papers hold a few hundred thousand)

    BATCH = 32  # fewer texts (a query) go through the tokenizer: no setup at start-up

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._bare: Any = None
        self._checked = False
        self._specials: list[str] = []
        self._memo: dict[str, list[int]] = {}

    def _setup(self) -> None:
        """Check the layout described above and make the tokenizer without the normalizer
        (0.5 s: done on the first batch, not when a process starts)."""
        self._checked = True
        tokenizer = self._tokenizer
        vocab = tokenizer.get_vocab(with_added_tokens=False)
        self._specials = [t for t in tokenizer.get_vocab(with_added_tokens=True) if t not in vocab]
        self._specials += [t.content for t in tokenizer.get_added_tokens_decoder().values()]
        normalizer = json.loads(tokenizer.to_str()).get("normalizer") or {}
        crossing = any(re.search("[^\u2581]\u2581", token) for token in vocab)
        if crossing or normalizer != _LLAMA_NORMALIZER or tokenizer.pre_tokenizer is not None:
            return  # not the layout described above: always use the tokenizer
        self._bare = copy.deepcopy(tokenizer)
        self._bare.normalizer = None

    def encode(self, texts: list[str]) -> list[list[int]]:
        if not self._checked and len(texts) >= self.BATCH:
            self._setup()
        if self._bare is None or len(texts) < self.BATCH:
            return [e.ids for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
        specials = self._specials
        split = self.WORD.findall
        texts_words = [
            None if any(s in t for s in specials) else split("\u2581" + t.replace(" ", "\u2581")) if t else []
            for t in texts
        ]
        memo = self._memo
        new = list({w for words in texts_words if words for w in words if w not in memo})
        if new:
            if len(memo) + len(new) > self.MEMO:  # a new memo (another thread may read the old)
                memo = self._memo = {}
                new = list({w for words in texts_words if words for w in words})
            for word, e in zip(new, self._bare.encode_batch(new, add_special_tokens=False), strict=True):
                memo[word] = e.ids
        out: list[list[int]] = []
        for text, words in zip(texts, texts_words, strict=True):
            if words is None:
                out.append(self._tokenizer.encode(text, add_special_tokens=False).ids)
            else:
                out.append([i for w in words for i in memo[w]])
        return out


_LLAMA_NORMALIZER = {
    "type": "Sequence",
    "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
    ],
}


def load_embedder() -> Embedder | None:
    """The default embedder, or None (with a log line) when wordllama cannot load."""
    try:
        return WordLlamaEmbedder()
    except Exception:  # a missing or broken optional model must not stop search
        log.warning("semantic search disabled: wordllama could not be loaded", exc_info=True)
        return None


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class SemanticIndex:
    """Unit vectors, searched exactly below ``IVF_FROM`` papers and through an inverted file above.

    The inverted file clusters the vectors (k-means on their first 64 dimensions: the
    model is Matryoshka-trained, so a prefix is a coarser embedding) and a query scans the
    ``probes`` nearest clusters only: a few thousand vectors instead of a million. The vectors
    are stored cell by cell, as float32, so a probe reads contiguous rows straight into BLAS
    (1M papers: gathering float16 rows and converting them took 60 ms a query, this 12 ms).
    """

    IVF_FROM = 50_000

    def __init__(self, embedder: Embedder, matrix: np.ndarray, ivf: InvertedFile | None = None) -> None:
        """``matrix``: one row per paper, or, with ``ivf``, the rows in ``ivf.order``."""
        self.embedder = embedder
        self.matrix = np.asarray(matrix, dtype=np.float32)  # no copy when already float32 (a memmap)
        self.ivf = ivf

    @classmethod
    def build(cls, embedder: Embedder, matrix: np.ndarray, folder: Path | None = None) -> SemanticIndex:
        """The index of ``matrix`` (float16 rows, one per paper). With ``folder``, it is written
        there as it is made and loaded back memory-mapped: the float32 copy (1 GB at 1M papers)
        is never in memory whole."""
        ivf = InvertedFile.train(matrix) if len(matrix) >= cls.IVF_FROM else None
        order = ivf.order if ivf is not None else np.arange(len(matrix))
        pieces = (
            np.asarray(matrix[order[start : start + 65536]], dtype=np.float32)
            for start in range(0, len(matrix), 65536)
        )
        if folder is None:
            ordered = np.concatenate(list(pieces)) if len(matrix) else np.asarray(matrix, dtype=np.float32)
            return cls(embedder, ordered, ivf)
        folder.mkdir(parents=True, exist_ok=True)
        with npy_writer(folder / "vectors.npy", np.float32, matrix.shape) as f:
            for piece in pieces:
                piece.tofile(f)
        if ivf is not None:
            ivf.save(folder)
        return cls.load(folder, embedder)

    @functools.cached_property
    def _slot(self) -> np.ndarray | None:
        """Paper row -> row of ``matrix`` (the inverse of ``ivf.order``), made on first use:
        only "similar to" needs it, not every process start."""
        if self.ivf is None:
            return None
        slot = np.empty(len(self.ivf.order), dtype=np.int64)
        slot[self.ivf.order] = np.arange(len(slot))
        return slot

    def vector(self, row: int) -> np.ndarray:
        """The vector of the paper at ``row``."""
        return np.asarray(self.matrix[row if self._slot is None else self._slot[row]])

    def nearest(
        self, vector: np.ndarray, depth: int = 100, mask: np.ndarray | None = None
    ) -> dict[int, float]:
        vector = vector.astype(np.float32)
        if self.ivf is None:
            sims = self.matrix @ vector
            if mask is not None:
                sims = np.where(mask, sims, -1.0)
            rows = np.arange(len(sims))
        else:
            spans = self.ivf.spans(vector)
            rows = np.concatenate([self.ivf.order[a:b] for a, b in spans])
            sims = np.concatenate([self.matrix[a:b] @ vector for a, b in spans])
            if mask is not None:
                keep = mask[rows]
                rows, sims = rows[keep], sims[keep]
        if sims.size == 0:
            return {}
        depth = min(depth, sims.size)
        top = np.argpartition(-sims, depth - 1)[:depth]
        return {int(rows[i]): float(sims[i]) for i in top if sims[i] > 0}

    def similarities(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Exact cosine of the papers at ``rows`` to ``vector`` (candidates found by other means)."""
        if not rows:
            return {}
        at = np.asarray(rows) if self._slot is None else self._slot[rows]
        sims = np.asarray(self.matrix[at]) @ vector.astype(np.float32)
        return {row: float(s) for row, s in zip(rows, sims, strict=True)}

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> SemanticIndex:
        matrix = np.load(folder / "vectors.npy", mmap_mode="r")
        ivf = InvertedFile.load(folder) if (folder / "ivf_centroids.npy").exists() else None
        return cls(embedder, matrix, ivf)


class InvertedFile:
    """k-means cells over vector prefixes; rows grouped by cell for fast scans."""

    PREFIX = 64

    def __init__(self, centroids: np.ndarray, order: np.ndarray, offsets: np.ndarray, probes: int) -> None:
        self.centroids = centroids
        self.order = order  # row ids sorted by cell
        self.offsets = offsets  # cell c holds order[offsets[c]:offsets[c+1]]
        self.probes = probes

    @classmethod
    def train(cls, matrix: np.ndarray, seed: int = 0) -> InvertedFile:
        """Cells for ``matrix`` (float16, possibly memory-mapped: it is read a block at a time)."""
        n = len(matrix)
        cells = max(16, int(2 * np.sqrt(n)))
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(n, size=min(n, cells * 40), replace=False))
        sample = np.asarray(matrix[picked, : cls.PREFIX], dtype=np.float32)
        centroids = sample[rng.choice(len(sample), size=cells, replace=False)].copy()
        for _ in range(8):  # Lloyd's iterations on the sample
            assign = cls._nearest_cells(sample, centroids)
            sums = np.zeros_like(centroids)
            np.add.at(sums, assign, sample)
            counts = np.bincount(assign, minlength=cells)
            centroids[counts > 0] = sums[counts > 0] / counts[counts > 0, None]
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-9
        assign = cls._nearest_cells(matrix, centroids)
        order = np.argsort(assign, kind="stable")
        offsets = np.searchsorted(assign[order], np.arange(cells + 1))
        return cls(centroids, order, offsets, probes=max(8, cells // 32))

    @classmethod
    def _nearest_cells(cls, rows: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
        """The nearest centroid of each row's prefix, a block of rows at a time: 8192 rows x 2000
        cells of scores is 64 MB (the whole sample at once made 640 MB at 1M papers)."""
        return np.concatenate(
            [
                np.argmax(
                    np.asarray(rows[i : i + block, : cls.PREFIX], dtype=np.float32) @ centroids.T, axis=1
                )
                for i in range(0, len(rows), block)
            ]
        )

    def spans(self, vector: np.ndarray) -> list[tuple[int, int]]:
        """The (start, end) slices of ``order`` held by the cells nearest to ``vector``."""
        q = vector[: self.PREFIX]
        cells = np.argpartition(-(self.centroids @ q), self.probes - 1)[: self.probes]
        return [(int(self.offsets[c]), int(self.offsets[c + 1])) for c in sorted(cells)]

    def save(self, folder: Path) -> None:
        np.save(folder / "ivf_centroids.npy", self.centroids)
        np.save(folder / "ivf_order.npy", self.order)
        np.save(folder / "ivf_offsets.npy", self.offsets)
        (folder / "ivf_probes.txt").write_text(str(self.probes))

    @classmethod
    def load(cls, folder: Path) -> InvertedFile:
        return cls(
            np.load(folder / "ivf_centroids.npy"),
            np.load(folder / "ivf_order.npy", mmap_mode="r"),
            np.load(folder / "ivf_offsets.npy"),
            int((folder / "ivf_probes.txt").read_text()),
        )
