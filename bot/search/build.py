"""Build a search engine from a store in one streaming pass, and keep it on disk.

The same build serves both backends: it reads the store only through the ``Store`` protocol
(papers in id order, stored embeddings, author names, the corpus version). Papers are read in
chunks; each chunk is analysed for the lexical indexes and embedded (only papers whose text
changed since their stored embedding). Nothing holds the whole corpus as Paper objects, so a
million papers fit in a few GB. ``build_engine`` takes the stream of papers to index, so a
later change feed ("papers changed since version V", the version saved in the index's meta)
can build a small segment from the changed papers alone.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np

from bot.models import Paper, author_key
from bot.search.analysis import Analyzer
from bot.search.engine import Columns, SearchEngine, document_text, embedding_text, title_terms
from bot.search.fuzzy import AuthorIndex
from bot.search.lexical import LexicalBuilder, LexicalIndex
from bot.search.segments import combine, segments
from bot.search.semantic import Embedder, SemanticIndex, text_hash
from bot.store import Store
from bot.store.base import display_names
from bot.store.changes import Changes
from bot.text import key
from bot.workers import spawn_pool

log = logging.getLogger(__name__)
CHUNK = 2048
FORMAT = 6  # bump when the saved layout changes


def _chunks(papers: Iterable[Paper], size: int) -> Iterator[list[Paper]]:
    stream = iter(papers)
    while chunk := list(itertools.islice(stream, size)):
        yield chunk


def build_engine(
    store: Store,
    embedder: Embedder | None = None,
    spill: Path | None = None,
    papers: Iterable[Paper] | None = None,
) -> SearchEngine:
    """Build the engine in one pass over ``papers`` (default: every paper of the store, in id
    order; given, a segment of changed papers, whose author directory holds their authors only).
    With ``spill`` (the folder being saved), each large part is written there as soon as
    it is complete and mapped back from the file, so a build holds one large part in memory at a
    time, not all of them (1M papers: the postings are about 1 GB, the vectors 1 GB)."""
    analyzer = Analyzer()
    titles_field, author_papers = LexicalBuilder(), LexicalBuilder()
    ids: list[str] = []
    titles: list[str] = []
    ordinals: list[int] = []
    has_code: list[bool] = []
    names: dict[str, int] = {}
    offsets, category_ids = [0], []
    spellings: Counter[tuple[str, str]] = Counter()  # (author key, spelling) -> papers
    waiting: deque[Future[np.ndarray]] = deque()
    vectors = _Vectors(embedder.dim if embedder else 0, spill)
    embedding = _Embedding(embedder) if embedder is not None else None
    body = _BodyBuilder(spill / "body" if spill else None)
    with ThreadPoolExecutor(1) as pool, embedding or contextlib.nullcontext(), body:
        for chunk in _chunks(store.iter_papers() if papers is None else papers, CHUNK):
            for paper in chunk:
                ids.append(paper.id)
                titles.append(key(paper.label))
                ordinals.append(paper.date.toordinal() if paper.date else 0)
                has_code.append(paper.has_code)
                for name in dict.fromkeys(c for c in [paper.category, *paper.categories] if c):
                    category_ids.append(names.setdefault(name, len(names)))
                offsets.append(len(category_ids))
                titles_field.add(title_terms(paper, analyzer))
                named = {name: author_key(name) for name in paper.authors}
                spellings.update(zip(named.values(), named, strict=True))
                author_papers.add(list(dict.fromkeys(named.values())))
            body.add_texts([document_text(paper) for paper in chunk])
            if embedding is not None:  # in a thread (or a process) beside the analysis
                waiting.append(pool.submit(_embed_chunk, store, embedding, chunk))
                if len(waiting) > 2:  # at most two chunks waiting: analysis must not run ahead of
                    vectors.add(waiting.popleft().result())  # the embedder and hold the corpus
        columns = Columns(
            ids=np.array(ids, dtype=str),
            titles=titles,
            ordinals=np.array(ordinals, dtype=np.int32),
            has_code=np.array(has_code, dtype=bool),
            category_names=list(names),
            category_offsets=np.array(offsets, dtype=np.int64),
            category_ids=np.array(category_ids, dtype=np.int32),
        )
        lexical = body.finish()
        title_lexical = titles_field.finish(spill / "title" if spill else None)
        papers_of = author_papers.finish(spill / "author_papers" if spill else None)
        semantic = None
        if embedder is not None:
            while waiting:
                vectors.add(waiting.popleft().result())
            semantic = SemanticIndex.build(embedder, vectors.matrix(), spill / "semantic" if spill else None)
            vectors.discard()
    directory = display_names((k, name, count) for (k, name), count in spellings.items())
    return SearchEngine(columns, lexical, title_lexical, AuthorIndex(directory), papers_of, semantic)


class _Vectors:
    """The papers' float16 vectors, chunk by chunk: kept in memory, or with ``spill`` appended
    to a file there and mapped back, so a large library's vectors (512 MB at 1M papers) are not
    held while the lexical indexes are made."""

    def __init__(self, dim: int, spill: Path | None) -> None:
        self.dim, self.rows = dim, 0
        self._path = spill / "vectors.float16" if spill else None
        self._file: BinaryIO | None = None
        self._chunks: list[np.ndarray] = []

    def add(self, chunk: np.ndarray) -> None:
        self.rows += len(chunk)
        if self._path is None:
            self._chunks.append(chunk)
            return
        if self._file is None:
            self._file = self._path.open("wb")
        chunk.tofile(self._file)

    def matrix(self) -> np.ndarray:
        if self._file is not None:
            self._file.close()
            if self.rows:
                return np.memmap(self._file.name, dtype=np.float16, mode="r", shape=(self.rows, self.dim))
        if not self._chunks:
            return np.zeros((0, self.dim), dtype=np.float16)
        return np.concatenate(self._chunks)

    def discard(self) -> None:
        self._chunks = []
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class _WithWorker:
    """A part of a build that may start a worker process: the build's with-block ends it."""

    _worker: ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._worker is not None:
            self._worker.shutdown(cancel_futures=True)


class _Embedding(_WithWorker):
    """``embedder.embed`` for a build. Many texts at once go to a worker process of their own
    when the embedder can be made again there: wordllama's tokenizing and pooling hold the GIL most of
    the time, so in a thread they took turns with the analysis instead of using the second
    core. A segment's few papers are embedded here (a process costs a second to start); once the
    worker runs, every call goes to it, the last short chunk too (here it would first set up this
    process's tokenizer: a second of the main thread's time)."""

    PROCESS_FROM = 1024  # texts in one call

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self._remake: Callable[[], Embedder] | None = getattr(embedder, "remake", None)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._remake is None or (self._worker is None and len(texts) < self.PROCESS_FROM):
            return self.embedder.embed(texts)
        if self._worker is None:
            self._worker = spawn_pool(_start_embedder, self._remake)
        return self._worker.submit(_worker_embed, texts).result()


class _BodyBuilder(_WithWorker):
    """The body's BM25 index (``LexicalBuilder``) for a build. A large build written to a folder
    analyses the bodies in a worker process: the largest share of a build's analysis, which
    holds the GIL, so the second core does it while this one reads the papers and makes the
    other fields; the index files the worker writes are the hand-over. Otherwise, here."""

    WORKER_FROM = CHUNK  # texts in the first batch: a full chunk means a large build
    IN_FLIGHT = 2  # batches sent and not yet analysed: the texts are not held twice over

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._here: LexicalBuilder | None = None
        self._sent: deque[Future[None]] = deque()

    def add_texts(self, texts: list[str]) -> None:
        if self._here is None and self._worker is None:
            if self.folder is not None and len(texts) >= self.WORKER_FROM:
                self._worker = spawn_pool(_start_body)
            else:
                self._here = LexicalBuilder()
        if self._here is not None:
            self._here.add_texts(texts)
            return
        assert self._worker is not None
        self._sent.append(self._worker.submit(_worker_add_texts, texts))
        while len(self._sent) > self.IN_FLIGHT:
            self._sent.popleft().result()  # and a failure there is raised here

    def finish(self) -> LexicalIndex:
        if self._worker is None:
            return (self._here or LexicalBuilder()).finish(self.folder)
        assert self.folder is not None
        while self._sent:
            self._sent.popleft().result()
        self._worker.submit(_worker_finish, self.folder).result()
        return LexicalIndex.load(self.folder)


# A worker process's state: made by its initializer, used by the calls sent to it in order.
_worker_embedder: Embedder | None = None
_worker_body: LexicalBuilder | None = None


def _start_embedder(remake: Callable[[], Embedder]) -> None:
    global _worker_embedder
    _worker_embedder = remake()


def _worker_embed(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None
    return _worker_embedder.embed(texts).astype(np.float16)  # half the bytes sent back


def _start_body() -> None:
    global _worker_body
    _worker_body = LexicalBuilder()


def _worker_add_texts(texts: list[str]) -> None:
    assert _worker_body is not None
    _worker_body.add_texts(texts)


def _worker_finish(folder: Path) -> None:
    assert _worker_body is not None
    _worker_body.finish(folder)


def _embed_chunk(store: Store, embedder: _Embedding, chunk: list[Paper]) -> np.ndarray:
    """Vectors for a chunk: stored ones where the text is unchanged, new ones stored."""
    cached = store.embeddings_for(embedder.name, [p.id for p in chunk])
    matrix = np.zeros((len(chunk), embedder.dim), dtype=np.float16)
    missing = []
    for i, paper in enumerate(chunk):
        text = embedding_text(paper)
        digest = text_hash(text)
        hit = cached.get(paper.id)
        if hit and hit[0] == digest:
            matrix[i] = np.frombuffer(hit[1], dtype=np.float16)
        else:
            missing.append((i, paper.id, digest, text))
    if missing:
        fresh = embedder.embed([text for *_, text in missing]).astype(np.float16)
        for (i, *_), vector in zip(missing, fresh, strict=True):
            matrix[i] = vector
        store.put_embeddings(
            embedder.name, [(pid, d, v.tobytes()) for (_, pid, d, _), v in zip(missing, fresh, strict=True)]
        )
    return matrix


# -- on disk ------------------------------------------------------------------------------
# A build folder untouched this long is a build killed mid-way (a 1M-paper build takes minutes).
STALE_BUILD_SECONDS = 6 * 3600


def new_index_folder(folder: Path) -> Path:
    """A temp folder beside ``folder`` to build into; ``save_engine`` renames it into place.
    Folders that killed builds left there are removed first (gigabytes at 1M papers)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    for left in folder.parent.glob(".index-*"):
        try:
            if time.time() - left.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:
            continue  # another process's cleanup got there first
    return Path(tempfile.mkdtemp(prefix=".index-", dir=folder.parent))


def save_engine(engine: SearchEngine, folder: Path, meta: Mapping[str, object], tmp: Path) -> None:
    """Complete ``tmp``, where ``build_engine`` wrote the large parts (indexes, vectors), with
    the per-document columns and the meta, and rename it to ``folder`` (atomically)."""
    c = engine.columns
    np.save(tmp / "ids.npy", c.ids)
    np.save(tmp / "ordinals.npy", c.ordinals)
    np.save(tmp / "has_code.npy", c.has_code)
    np.save(tmp / "category_offsets.npy", c.category_offsets)
    np.save(tmp / "category_ids.npy", c.category_ids)
    np.save(tmp / "title_order.npy", engine.title_order)
    (tmp / "titles.txt").write_text("\n".join(c.titles), encoding="utf-8")
    (tmp / "category_names.json").write_text(json.dumps(c.category_names))
    (tmp / "authors.json").write_text(json.dumps(engine.authors.names, ensure_ascii=False))
    (tmp / "meta.json").write_text(json.dumps({**meta, "format": FORMAT}))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load_engine(folder: Path, embedder: Embedder | None) -> SearchEngine:
    titles = (folder / "titles.txt").read_text(encoding="utf-8").split("\n")
    columns = Columns(
        ids=np.load(folder / "ids.npy"),
        titles=titles if titles != [""] else [],
        ordinals=np.load(folder / "ordinals.npy"),
        has_code=np.load(folder / "has_code.npy"),
        category_names=json.loads((folder / "category_names.json").read_text()),
        category_offsets=np.load(folder / "category_offsets.npy"),
        category_ids=np.load(folder / "category_ids.npy"),
    )
    names = {k: tuple(v) for k, v in json.loads((folder / "authors.json").read_text()).items()}
    semantic = None
    if embedder is not None and (folder / "semantic").is_dir():
        semantic = SemanticIndex.load(folder / "semantic", embedder)
    return SearchEngine(
        columns,
        LexicalIndex.load(folder / "body"),
        LexicalIndex.load(folder / "title"),
        AuthorIndex(names),  # type: ignore[arg-type]
        LexicalIndex.load(folder / "author_papers"),
        semantic,
        title_order=np.load(folder / "title_order.npy"),
    )


def saved_meta(folder: Path) -> dict[str, object] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if meta.get("format") == FORMAT else None


# A long-running process adds a segment of the papers changed since its last refresh; past
# MAX_SEGMENTS they are folded into one segment of every change since the base. A new process
# indexes every change since the saved base as one segment (a second or two per 5,000 papers).
# Past MERGE_MIN changed papers and MERGE_SHARE of the base, the index is rebuilt whole and saved
# as the next base (in the background in long-running processes).
MAX_SEGMENTS = 8
MERGE_MIN = 5_000
MERGE_SHARE = 0.1


def load_or_build(
    store: Store,
    embedder: Embedder | None,
    folder: Path | None,
    current: SearchEngine | None = None,
    merge: bool = True,
) -> SearchEngine:
    """An engine up to date with the store: ``current`` with a segment of the papers changed
    since it was made, or the base saved in ``folder`` (when it is of this database and
    embedder) with a segment of the papers changed since it was built; a full build, saved, when
    there is no base or (``merge``) when the changes outgrow it (``folder`` None: built in
    memory, not saved)."""
    meta = index_meta(store, embedder)
    base = _base(store, embedder, folder, meta, current)
    if base is not None:
        built_at = int(base.meta["corpus_version"])  # type: ignore[call-overload]
        if built_at == meta["corpus_version"]:
            return base
        if current is not None and current.base is base:
            engine = _brought_forward(current, store, embedder)
        else:
            changes = store.changes_since(built_at)
            if merge and len(changes) > merge_limit(base):
                return rebuild(store, embedder, folder, meta)
            engine = updated(base, store, embedder, changes)
        if not (merge and needs_merge(engine)):
            return engine
    return rebuild(store, embedder, folder, meta)


def index_meta(store: Store, embedder: Embedder | None) -> dict[str, object]:
    """What an index is built from: the database, its corpus version (read before the papers),
    the embedder."""
    return {
        "store_id": store.store_id(),
        "corpus_version": store.corpus_version(),
        "embedder": embedder.name if embedder else None,
    }


def _brought_forward(current: SearchEngine, store: Store, embedder: Embedder | None) -> SearchEngine:
    """``current`` with a segment of the papers changed since it was made; with too many
    segments, its base with one segment of every change since the base."""
    changes = store.changes_since(int(current.meta["corpus_version"]))  # type: ignore[call-overload]
    if not len(changes):
        current.meta = {**current.meta, "corpus_version": changes.version}
        return current
    if segments(current) >= MAX_SEGMENTS:
        base = current.base
        return updated(base, store, embedder, store.changes_since(int(base.meta["corpus_version"])))  # type: ignore[call-overload]
    return updated(current, store, embedder, changes)


def merge_limit(base: SearchEngine) -> int:
    return max(MERGE_MIN, int(base.rows * MERGE_SHARE))


def needs_merge(engine: SearchEngine) -> bool:
    """Whether the changes since ``engine``'s base outgrew it (``load_or_build`` would rebuild)."""
    return engine.base is not engine and engine.rows - engine.base.rows > merge_limit(engine.base)


def updated(engine: SearchEngine, store: Store, embedder: Embedder | None, changes: Changes) -> SearchEngine:
    """``engine`` with a segment of the papers changed since it was made (their embeddings
    reused where their text is unchanged), replaced and removed papers masked in it."""
    ids = changes.changed
    papers = (p for start in range(0, len(ids), CHUNK) for p in store.get_papers(ids[start : start + CHUNK]))
    combined = combine(engine, build_engine(store, embedder, papers=papers), [*ids, *changes.removed])
    combined.meta = {**engine.meta, "corpus_version": changes.version}
    return combined


def _base(
    store: Store,
    embedder: Embedder | None,
    folder: Path | None,
    meta: dict[str, object],
    current: SearchEngine | None,
) -> SearchEngine | None:
    """The base segment to bring up to date: ``current``'s if it is of this database and
    embedder, else the saved one if it is; None when neither is (or is newer than the store)."""

    def fits(built: Mapping[str, object]) -> bool:
        version = built.get("corpus_version")
        return (
            built.get("store_id") == meta["store_id"]
            and built.get("embedder") == meta["embedder"]
            and isinstance(version, int)
            and version <= int(meta["corpus_version"])  # type: ignore[call-overload]
        )

    if current is not None and fits(current.base.meta):
        return current.base
    saved = saved_meta(folder) if folder is not None else None
    if folder is None or saved is None or not fits(saved):
        return None
    try:
        engine = load_engine(folder, embedder)
    except (OSError, ValueError, KeyError):
        log.warning("search index at %s is unreadable: rebuilding it", folder)
        return None
    engine.meta = {k: v for k, v in saved.items() if k != "format"}
    return engine


def rebuild(
    store: Store, embedder: Embedder | None, folder: Path | None, meta: dict[str, object] | None = None
) -> SearchEngine:
    """A full build from every paper, saved to ``folder`` (the next base segment)."""
    meta = meta or index_meta(store, embedder)
    engine = _rebuild(store, embedder, folder, meta)
    engine.meta = meta
    return engine


def _rebuild(
    store: Store, embedder: Embedder | None, folder: Path | None, meta: dict[str, object]
) -> SearchEngine:
    if folder is None:
        return build_engine(store, embedder)
    try:
        tmp = new_index_folder(folder)
    except OSError:
        log.warning("could not save the search index beside %s", folder, exc_info=True)
        return build_engine(store, embedder)
    try:
        engine = build_engine(store, embedder, spill=tmp)
        save_engine(engine, folder, meta, tmp)
    except OSError:
        log.warning("could not save the search index to %s", folder, exc_info=True)
        shutil.rmtree(tmp, ignore_errors=True)  # the engine maps files there: POSIX keeps them
        return build_engine(store, embedder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return engine
