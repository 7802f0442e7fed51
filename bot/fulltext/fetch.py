"""Full texts downloaded from arXiv: the HTML version (arxiv.org/html/ID, sections with anchors)
when arXiv has one, else the PDF; through the arXiv client's rules (one request every 3 s, a
User-Agent, retries with backoff). Nothing is stored for a paper whose download or parse failed.
The licence is the one the HTML page states; ``unknown`` for a PDF (it does not say)."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

from bot.fulltext import attach
from bot.fulltext.licence import UNKNOWN
from bot.fulltext.text import FulltextError
from bot.ingest.arxiv import ArxivClient, FetchError
from bot.models import Paper
from bot.store import Store
from bot.store.base import now

HTML_URL = "https://arxiv.org/html/{arxiv_id}"
PDF_URL = "https://arxiv.org/pdf/{arxiv_id}"


class Fetched(BaseModel):
    """What became of one paper: ``added``, ``unchanged`` (the same bytes as stored), ``failed``."""

    paper: Paper
    status: str
    kind: str | None = None
    pages: int | None = None
    passages: int = 0
    source: str | None = None
    licence: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.paper.id,
            "arxiv_id": self.paper.arxiv_id,
            "title": self.paper.label,
            "status": self.status,
            "kind": self.kind,
            "pages": self.pages,
            "passages": self.passages,
            "source": self.source,
            "licence": self.licence,
            "error": self.error,
        }


def fetch_fulltext(store: Store, client: ArxivClient, paper: Paper, force: bool = False) -> Fetched:
    """Download and attach a paper's full text: HTML first, the PDF when there is no usable HTML."""
    if not paper.arxiv_id:
        return Fetched(paper=paper, status="failed", error="no arXiv id: attach a file with 'fulltext add'")
    problems = []
    stored = store.fulltext.get(paper.id)
    for template in (HTML_URL, PDF_URL):
        url = template.format(arxiv_id=paper.arxiv_id)
        try:
            data = client.get(url)
        except FetchError as exc:
            problems.append(str(exc))
            continue
        if stored and not force and stored.sha256 == hashlib.sha256(data).hexdigest():
            return Fetched(
                paper=paper,
                status="unchanged",
                kind=stored.kind,
                pages=stored.pages,
                passages=stored.passages,
                source=stored.source,
                licence=stored.licence,
            )
        try:
            doc = attach(store, paper, data, source=url, fetched_at=now(), unstated_licence=UNKNOWN)
        except FulltextError as exc:
            problems.append(f"{url}: {exc}")
            continue
        return Fetched(
            paper=paper,
            status="added",
            kind=doc.kind,
            pages=doc.pages,
            passages=doc.passages,
            source=url,
            licence=doc.licence,
        )
    return Fetched(paper=paper, status="failed", error="; ".join(problems))
