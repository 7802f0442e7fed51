"""Semantic matching with static word embeddings (wordllama): offline, CPU, weights in the wheel."""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Embedder(Protocol):
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

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), 256):
            chunk = [t[: self.max_chars] for t in texts[start : start + 256]]
            encoded = self._tokenizer.encode_batch(chunk, add_special_tokens=False)
            lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
            ids = np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
            ids = np.clip(ids, 0, len(self._vectors) - 1)
            present = lengths > 0
            if not present.any():
                continue
            offsets = np.concatenate(([0], np.cumsum(lengths[present])[:-1]))
            sums = np.add.reduceat(self._vectors[ids], offsets, axis=0)
            out[start : start + len(chunk)][present] = sums / lengths[present, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


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
    """A matrix of unit vectors; search is one matrix-vector product."""

    def __init__(self, embedder: Embedder, matrix: np.ndarray) -> None:
        self.embedder = embedder
        self.matrix = matrix

    def scores(self, query: str) -> np.ndarray:
        vector = self.embedder.embed([query])[0]
        return self.matrix @ vector  # type: ignore[no-any-return]

    def scores_for_row(self, row: int) -> np.ndarray:
        return self.matrix @ self.matrix[row]  # type: ignore[no-any-return]
