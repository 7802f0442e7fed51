"""Ingest files into a store: detect each file's format, parse, merge, link, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

from rapidfuzz import fuzz

from bot.errors import UsageError
from bot.ingest import formats
from bot.ingest.merge import best_versions, merge
from bot.ingest.reader import open_binary, read_lines
from bot.ingest.seeds import ParsedPaper, looks_like_seed, parse_seed_lines
from bot.models import IngestReport, Paper, Skipped, author_key
from bot.search.filters import category_matches
from bot.store import Store
from bot.text import key
from bot.workers import streamed

Parser = Callable[[Path], Iterator[ParsedPaper | Skipped]]
BATCH = 500  # papers looked up and inserted together
# An ingest that has added this many papers, and at least as many as the library held, is a bulk
# load: the store may defer its indexes to the end (50k papers: 13.5 -> 11.6 s to ingest).
BULK_LOAD = 10_000
ENRICH_MIN = 90.0  # fuzzy title score for an arXiv paper to enrich a seed paper
INPUT_SUFFIXES = (".txt", ".xml", ".atom", ".rss", ".json", ".jsonl", ".gz")
# A file this large is parsed in a worker process while this one merges and stores (50k
# papers: parsing was a third of an ingest); a smaller one is not worth starting a process.
PARSE_ELSEWHERE_BYTES = 16 << 20


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the input files inside folders named, sorted; a missing path is an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(INPUT_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files


def parse_seed_file(path: Path) -> Iterator[ParsedPaper | Skipped]:
    with open_binary(path) as stream:
        yield from parse_seed_lines(read_lines(stream), path.name)


def detect_parser(path: Path) -> Parser | None:
    """Pick the parser from the file's first bytes, not its name."""
    with open_binary(path) as stream:
        head = stream.read(4096).decode("utf-8", errors="replace")
    for sniff, parser in formats.FORMATS:  # structured formats first: an RSS line may read "Abstract:"
        if sniff(head):
            return parser
    if looks_like_seed(head):
        return parse_seed_file
    # Plain text is the seed format: its parser reports each line it cannot use.
    return parse_seed_file if path.suffix == ".txt" else None


class Ingest:
    """One ingest run: merges parsed papers into the store and counts what changed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.report = IngestReport()
        self._status: dict[str, str] = {}  # paper id -> added | updated | unchanged
        self._unlinked: dict[str, list[tuple[str, str]]] | None = None  # first author -> (id, title key)

    def add(self, paper: Paper) -> str:
        """Store one titled paper (merged with what is known of it); returns its id."""
        existing = self._find_existing(paper)
        if existing is None:
            self.store.put_paper(paper)
            self._status[paper.id] = "added"
            self.report.new_ids.append(paper.id)
            return paper.id
        self._merge_into(existing, paper)
        return existing.id

    def _merge_into(self, existing: Paper, paper: Paper) -> None:
        """Store ``existing`` merged with ``paper`` if that changes it, and count what happened."""
        merged = merge(existing, paper)
        if merged != existing:
            self.store.put_paper(merged)
            if self._status.get(existing.id) != "added":
                self._status[existing.id] = "updated"
        else:
            self._status.setdefault(existing.id, "unchanged")

    def add_many(self, papers: list[Paper]) -> None:
        """Store a batch of titled papers: one look-up for the whole batch, the papers nobody
        knows inserted together, the others merged one by one as ``add`` does."""
        known_ids = {p.id for p in self.store.get_papers(p.id for p in papers)}
        arxiv_ids = [p.arxiv_id for p in papers if p.arxiv_id]
        known_arxiv = set(self.store.known_arxiv_ids(arxiv_ids)) if arxiv_ids else set()
        fresh: list[Paper] = []
        for paper in papers:
            seen = paper.id in known_ids or paper.id in self._status or paper.arxiv_id in known_arxiv
            if seen or self._enriches_known(paper):
                self.store.put_papers(fresh)  # so that the merge below sees them
                fresh = []
                self.add(paper)
                continue
            fresh.append(paper)
            known_ids.add(paper.id)
            if paper.arxiv_id:
                known_arxiv.add(paper.arxiv_id)
            self._status[paper.id] = "added"
            self.report.new_ids.append(paper.id)
        self.store.put_papers(fresh)

    def _find_existing(self, paper: Paper) -> Paper | None:
        if paper.arxiv_id and (found := self.store.find_by_arxiv_id(paper.arxiv_id)):
            return found
        return self.store.get_paper(paper.id) or self._enriches(paper)

    def _enriches_known(self, paper: Paper) -> bool:
        """Cheap test for add_many: could this arXiv paper enrich a paper without an arXiv id?"""
        if not paper.arxiv_id or not paper.authors:
            return False
        return author_key(paper.authors[0]) in self._unlinked_index()

    def _unlinked_index(self) -> dict[str, list[tuple[str, str]]]:
        """Titled papers without an arXiv id, by first author: few, so indexed once per ingest."""
        if self._unlinked is None:
            self._unlinked = {}
            for pid, title_key, first in self.store.unlinked_titles():
                self._unlinked.setdefault(first, []).append((pid, title_key))
        return self._unlinked

    def _enriches(self, paper: Paper) -> Paper | None:
        """The paper without an arXiv id (a seed) that this arXiv paper is: a title that matches
        (folded, fuzzy >= 90) and the same first author. It gets the arXiv id and links."""
        if not paper.arxiv_id or not paper.title or not paper.authors:
            return None
        unlinked = self._unlinked_index()
        candidates = unlinked.get(author_key(paper.authors[0]), [])
        wanted = key(paper.title)
        scored = [(fuzz.ratio(wanted, title_key), pid) for pid, title_key in candidates]
        score, pid = max(scored, default=(0.0, ""))
        if score < ENRICH_MIN:
            return None
        unlinked[author_key(paper.authors[0])] = [c for c in candidates if c[0] != pid]
        return self.store.get_paper(pid)

    def link(self, papers: list[Paper], candidates: Iterable[tuple[str, Sequence[str]]]) -> list[Paper]:
        """Merge untitled papers into the titled papers they are versions of; returns the others.

        The candidates stream past once for all the papers (and are not read at all when there
        are none), so a library of millions is never held at once nor read once per paper.
        """
        if not papers:
            return []
        alone = []
        for paper, (match, _) in zip(
            papers, best_versions([p.abstract for p in papers], candidates), strict=True
        ):
            fresh = self.store.get_paper(match) if match is not None else None
            if fresh is None:
                alone.append(paper)
                continue
            self._merge_into(fresh, paper.model_copy(update={"id": fresh.id}))
            if self.store.get_paper(paper.id) is not None:
                self.store.delete_paper(paper.id)  # an orphan from an earlier ingest, now linked
        return alone

    def status_items(self) -> list[tuple[str, str]]:
        return list(self._status.items())

    def finish(self) -> IngestReport:
        for status in self._status.values():
            setattr(self.report, status, getattr(self.report, status) + 1)
        return self.report


def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    progress: Callable[[int], None] | None = None,
    categories: list[str] | None = None,
) -> IngestReport:
    """Ingest files and folders in one transaction: a failure leaves the store as it was.

    Untitled records are linked after every titled one is in, so file order does not matter;
    untitled papers stored by earlier ingests are linked again too. With ``categories``
    ("cs.LG", "LG"), only papers in one of them are kept (a field out of a bulk dump).
    """
    files = expand_paths(paths)
    return ingest_items(
        store, _file_items(files), [f.name for f in files], progress=progress, categories=categories
    )


def _file_items(files: list[Path]) -> Iterator[ParsedPaper | Skipped]:
    for path in files:
        size = path.stat().st_size
        if size == 0:
            yield Skipped(file=path.name, line=1, reason="empty file")
            continue
        parser = detect_parser(path)
        if parser is None:
            yield Skipped(file=path.name, line=1, reason="unrecognised file format")
        elif size >= PARSE_ELSEWHERE_BYTES:
            for item in streamed(_parsed_as_json, path):  # parsing beside the merging and storing
                yield (
                    item
                    if isinstance(item, Skipped)
                    else ParsedPaper(Paper.model_validate_json(item[0]), item[1])
                )
        else:
            yield from parser(path)


def _parsed_as_json(path: Path) -> Iterator[tuple[str, int] | Skipped]:
    """A worker's parse of one file: each paper as JSON and its line (a string pickles and
    validates back several times faster than the model pickles). The parser is found again
    here: some are closures, which do not pickle."""
    parser = detect_parser(path)
    assert parser is not None
    for item in parser(path):
        yield (
            item if isinstance(item, Skipped) else (item.paper.model_dump_json(exclude={"label"}), item.line)
        )


def ingest_items(
    store: Store,
    items: Iterable[ParsedPaper | Skipped],
    sources: list[str],
    *,
    progress: Callable[[int], None] | None = None,
    categories: list[str] | None = None,
) -> IngestReport:
    """Ingest parsed papers (from files, or fetched from arXiv) in one transaction."""
    run = Ingest(store)
    run.report.files = list(sources)
    untitled: list[Paper] = []
    batch: list[Paper] = []
    # Concurrent ingests take turns (PostgreSQL: an advisory lock); a bulk load may defer indexes.
    with store.atomic(lock="ingest"), ExitStack() as bulk:
        held, deferred = store.count_papers(), False
        for item in items:
            if isinstance(item, Skipped):
                run.report.skipped.append(item)
            elif categories and not any(
                category_matches(c, item.paper.category, item.paper.categories) for c in categories
            ):
                continue
            elif item.paper.title is None:
                untitled.append(item.paper)
            else:
                batch.append(item.paper)
                if len(batch) >= BATCH:
                    run.add_many(batch)
                    batch = []
                    if not deferred and len(run.report.new_ids) >= max(BULK_LOAD, held):
                        bulk.enter_context(store.indexes_deferred())
                        deferred = True
            if progress:
                progress(1)
        run.add_many(batch)
        pending = {p.id for p in untitled}
        orphans = [p for p in store.untitled_papers() if p.id not in pending] if run.report.new_ids else []
        for paper in run.link(untitled, store.titled_abstracts()):
            run.add(paper)  # a version of no known paper: kept on its own
        if orphans:  # stored before the paper they belong to arrived: only this ingest's papers can match
            changed = [pid for pid, status in run.status_items() if status != "unchanged"]
            run.link(
                orphans,
                (
                    (p.id, [p.abstract, *p.other_abstracts])
                    for i in range(0, len(changed), BATCH)
                    for p in store.get_papers(changed[i : i + BATCH])
                    if p.title
                ),
            )
        report = run.finish()
        store.record_ingest(report)
    return report
