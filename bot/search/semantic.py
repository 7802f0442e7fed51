"""Semantic matching with static word embeddings (wordllama): offline, CPU, weights in the wheel."""

from __future__ import annotations

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
    """wordllama's bundled 256-d model. Loading reads the wheel's files: no download, ever."""

    name = "wordllama-l2-256"
    dim = 256

    def __init__(self) -> None:
        import wordllama
        from wordllama import WordLlama

        package_dir = Path(wordllama.__file__).resolve().parent
        self._model = WordLlama.load(dim=self.dim, cache_dir=package_dir, disable_download=True)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


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
