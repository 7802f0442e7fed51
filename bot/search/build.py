"""Build a search engine from a store, reusing stored embeddings and adding missing ones."""

from __future__ import annotations

import logging

import numpy as np

from bot.models import Paper
from bot.search.engine import SearchEngine, embedding_text
from bot.search.fuzzy import AuthorIndex
from bot.search.semantic import Embedder, SemanticIndex, text_hash
from bot.store import Store

log = logging.getLogger(__name__)
EMBED_BATCH = 1024


def build_engine(store: Store, embedder: Embedder | None = None) -> SearchEngine:
    papers = list(store.iter_papers())
    semantic = SemanticIndex(embedder, embedding_matrix(store, embedder, papers)) if embedder else None
    return SearchEngine(papers, AuthorIndex(store.author_names()), semantic)


def embedding_matrix(store: Store, embedder: Embedder, papers: list[Paper]) -> np.ndarray:
    """Row i embeds papers[i]. Only papers whose text changed since last time are embedded."""
    cached = store.embeddings(embedder.name)
    matrix = np.zeros((len(papers), embedder.dim), dtype=np.float32)
    missing: list[tuple[int, str, str, str]] = []
    for i, paper in enumerate(papers):
        text = embedding_text(paper)
        digest = text_hash(text)
        hit = cached.get(paper.id)
        if hit and hit[0] == digest:
            matrix[i] = np.frombuffer(hit[1], dtype=np.float32)
        else:
            missing.append((i, paper.id, digest, text))
    if missing:
        log.info("embedding %d papers", len(missing))
    for start in range(0, len(missing), EMBED_BATCH):
        chunk = missing[start : start + EMBED_BATCH]
        vectors = embedder.embed([text for *_, text in chunk])
        for (i, *_), vector in zip(chunk, vectors, strict=True):
            matrix[i] = vector
        store.put_embeddings(
            embedder.name,
            [(pid, digest, vec.tobytes()) for (_, pid, digest, _), vec in zip(chunk, vectors, strict=True)],
        )
    return matrix
