"""A month of arXiv, made up from a seed: papers announced in daily cs.LG and cs.CL listings (new,
cross-lists, replacements), a daily saved API response of stat.ML papers, and a local stand-in on
127.0.0.1 that serves the listing of the fake clock's day (and a 503 now and then).

Used by tests/test_month.py.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

LISTED = ("cs.LG", "cs.CL")  # the categories `paperbot fetch --rss` reads
FOLLOWED = "Sarah Perrin"  # an author one channel follows whatever the category
# Each weekday's listing is announced at 00:00 in New York, about 04:00 UTC.
ANNOUNCED_UTC = 4

_ADJECTIVES = (
    "Sparse Robust Scalable Adaptive Efficient Hierarchical Contrastive Causal Bayesian Federated Stochastic "
    "Latent Modular Implicit Equivariant Recurrent Multilingual Offline Continual Provable Structured Calibrated "
    "Differentiable Decentralized Compositional Generative Conformal Quantized Streaming Neural Symbolic"
).split()
_METHODS = (
    "Attention Distillation Transformers Diffusion Tokenizers Retrieval Pruning Regularization Planning "
    "Embeddings Adapters Ensembles Kernels Priors Routing Curricula Rewards Critics Memories Probes Sketches "
    "Optimizers Autoencoders Flows Graphs Mixtures Prompts Decoders Samplers Verifiers"
).split()
_TASKS = (
    "Translation Summarization Forecasting Segmentation Parsing Alignment Exploration Control Reasoning "
    "Ranking Tagging Captioning Imputation Clustering Recommendation Navigation Dialogue Compression "
    "Detection Localization Grounding Calibration Attribution Tabulation Transcription Chemistry Proteins Weather"
).split()
_SETTINGS = (
    "Long Documents|Small Devices|Noisy Labels|Few Examples|Low Resource Languages|Streaming Data|"
    "Many Agents|Sparse Rewards|Medical Records|Code Repositories|Satellite Images|Legal Texts|"
    "Open Vocabularies|Shifting Distributions|Limited Memory|Private Data|Spoken Queries|Scientific Tables"
).split("|")
_FIRST = "Ada Bo Chen Dana Emil Fatima Goran Hana Ivo Jun Kemal Lena Mira Noor Omar Pia Quentin Rosa Sven Tariq".split()
_LAST = "Okafor Lindqvist Moreau Tanaka Haddad Novak Ferreira Kowalski Mensah Ivanova Costa Brandt Sato Rahman Vidal".split()


@dataclass
class Version:
    number: int
    abstract: str
    day: dt.date  # the day it was announced


@dataclass
class Paper:
    arxiv_id: str
    title: str
    authors: list[str]
    categories: list[str]  # the primary first
    day: dt.date  # the day it was first announced
    versions: list[Version] = field(default_factory=list)

    @property
    def primary(self) -> str:
        return self.categories[0]

    @property
    def newest(self) -> Version:
        return self.versions[-1]


@dataclass
class Listing:
    """One announcement of one category: (paper, version, announce type)."""

    items: list[tuple[Paper, Version, str]] = field(default_factory=list)


class Month:
    """Every paper of the month and what was announced when, drawn from ``seed``."""

    def __init__(self, start: dt.date, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.start, self.days = start, days
        self.papers: dict[str, Paper] = {}
        self.listings: dict[tuple[dt.date, str], Listing] = {}
        self.api_files: dict[dt.date, list[tuple[Paper, Version]]] = {}
        self.replacements = 0
        self._titles: set[frozenset[str]] = set()
        self._serial: dict[str, int] = {}
        for n in range(days):
            day = start + dt.timedelta(days=n)
            if day.weekday() < 5:
                self._announce(day)

    # -- drawing the month ---------------------------------------------------------------
    def _title(self, survey: bool = False) -> str:
        while True:
            r = self.rng
            title = f"{r.choice(_ADJECTIVES)} {r.choice(_METHODS)} for {r.choice(_TASKS)} with {r.choice(_SETTINGS)}"
            if survey:
                title = "A Survey of " + title
            words = frozenset(title.lower().split()) - {"for", "with", "a", "of"}
            if words not in self._titles:
                self._titles.add(words)
                return title

    def _abstract(self, title: str, version: int) -> str:
        r = self.rng
        return (
            f"We study {title.lower()}. Our method combines {r.choice(_METHODS).lower()} with "
            f"{r.choice(_ADJECTIVES).lower()} {r.choice(_TASKS).lower()} and improves on strong baselines "
            f"by {r.randint(2, 30)} points. Version {version} reports {r.randint(3, 90)} experiments "
            f"(revision {r.randrange(10**6):06d})."
        )

    def _paper(self, day: dt.date, categories: list[str], survey: bool = False) -> Paper:
        prefix = day.strftime("%y%m")
        self._serial[prefix] = self._serial.get(prefix, 0) + 1
        r = self.rng
        authors = [f"{r.choice(_FIRST)} {r.choice(_LAST)}" for _ in range(r.randint(1, 4))]
        if r.random() < 0.12:
            authors.insert(r.randrange(len(authors) + 1), FOLLOWED)
        title = self._title(survey)
        paper = Paper(
            f"{prefix}.{self._serial[prefix]:05d}", title, list(dict.fromkeys(authors)), categories, day
        )
        paper.versions.append(Version(1, self._abstract(title, 1), day))
        self.papers[paper.arxiv_id] = paper
        return paper

    def _listing(self, day: dt.date, category: str) -> Listing:
        return self.listings.setdefault((day, category), Listing())

    def _announce(self, day: dt.date) -> None:
        r = self.rng
        earlier = [p for p in self.papers.values() if p.day < day]
        fresh: list[Paper] = []
        for _ in range(r.randint(7, 11)):
            cross = ["cs.CL"] if r.random() < 0.15 else []
            fresh.append(
                self._paper(day, ["cs.LG", *cross, "stat.ML"][: 1 + len(cross) + (r.random() < 0.2)])
            )
        for _ in range(r.randint(4, 7)):
            cross = ["cs.LG"] if r.random() < 0.3 else []
            fresh.append(self._paper(day, ["cs.CL", *cross], survey=r.random() < 0.1))
        for paper in fresh:
            for category in paper.categories:
                if category in LISTED:
                    kind = "new" if category == paper.primary else "cross"
                    self._listing(day, category).items.append((paper, paper.versions[0], kind))
        # stat.ML papers come from a saved API response (`paperbot ingest`), some cross-listed
        api = [
            self._paper(day, ["stat.ML", *(["cs.LG"] if r.random() < 0.4 else [])])
            for _ in range(r.randint(2, 4))
        ]
        self.api_files[day] = [(p, p.versions[0]) for p in api]
        for paper in api:
            if "cs.LG" in paper.categories:
                self._listing(day, "cs.LG").items.append((paper, paper.versions[0], "cross"))
        # replacements: a new version (a changed abstract) of papers announced on earlier days
        for paper in r.sample(earlier, min(len(earlier), r.randint(2, 5))):
            version = Version(
                paper.newest.number + 1, self._abstract(paper.title, paper.newest.number + 1), day
            )
            paper.versions.append(version)
            self.replacements += 1
            if paper.primary == "stat.ML":
                self.api_files[day].append((paper, version))
            for category in paper.categories:
                if category in LISTED:
                    kind = "replace" if category == paper.primary else "replace-cross"
                    self._listing(day, category).items.append((paper, version, kind))
        for key in [(day, c) for c in LISTED]:
            r.shuffle(self._listing(*key).items)

    # -- what the month looks like on a given day ----------------------------------------
    def new_on(self, day: dt.date) -> list[Paper]:
        return [p for p in self.papers.values() if p.day == day]

    def listing_day(self, now: dt.datetime) -> dt.date | None:
        """The day whose listing the RSS feed shows at ``now`` (None on weekends: an empty feed)."""
        day = (now - dt.timedelta(hours=ANNOUNCED_UTC)).date()
        return day if day.weekday() < 5 and (day, LISTED[0]) in self.listings else None

    def rss(self, category: str, now: dt.datetime) -> bytes:
        day = self.listing_day(now)
        items = self.listings[(day, category)].items if day else []
        stamp = (day or now.date()).strftime("%a, %d %b %Y 00:00:00 -0500")
        body = "".join(_rss_item(paper, version, kind, stamp) for paper, version, kind in items)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
            f"<title>{category} updates on arXiv.org</title><pubDate>{stamp}</pubDate>\n{body}</channel></rss>\n"
        ).encode()

    def atom(self, day: dt.date) -> bytes:
        entries = "".join(_atom_entry(paper, version) for paper, version in self.api_files[day])
        return (
            f'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n{entries}</feed>\n'.encode()
        )


def _rss_item(paper: Paper, version: Version, kind: str, stamp: str) -> str:
    categories = "".join(f"<category>{c}</category>" for c in paper.categories)
    authors = ", ".join(paper.authors[:-1]) + (" and " if len(paper.authors) > 1 else "") + paper.authors[-1]
    return (
        f"<item><title>{escape(paper.title)}</title><link>https://arxiv.org/abs/{paper.arxiv_id}</link>\n"
        f"<description>arXiv:{paper.arxiv_id}v{version.number} Announce Type: {kind} \n"
        f"Abstract: {escape(version.abstract)}</description>\n"
        f'<guid isPermaLink="false">oai:arXiv.org:{paper.arxiv_id}v{version.number}</guid>{categories}'
        f"<pubDate>{stamp}</pubDate><arxiv:announce_type>{kind}</arxiv:announce_type>"
        f"<dc:creator>{escape(authors)}</dc:creator></item>\n"
    )


def _atom_entry(paper: Paper, version: Version) -> str:
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in paper.authors)
    categories = "".join(f'<category term="{c}"/>' for c in paper.categories)
    return (
        f"<entry><id>http://arxiv.org/abs/{paper.arxiv_id}v{version.number}</id>"
        f"<published>{paper.day.isoformat()}T18:00:00Z</published><updated>{version.day.isoformat()}T18:00:00Z</updated>\n"
        f"<title>{escape(paper.title)}</title><summary>{escape(version.abstract)}</summary>{authors}"
        f'<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{paper.primary}"/>'
        f"{categories}</entry>\n"
    )


# -- the stand-in ---------------------------------------------------------------------------
class StandIn:
    """arXiv's RSS listings on 127.0.0.1 at the fake clock's time; ``error_rate`` of the requests
    (and every request while ``down``) answer 503."""

    def __init__(self, month: Month, seed: int, error_rate: float = 0.08) -> None:
        self.month, self.now = month, dt.datetime.combine(month.start, dt.time(), dt.UTC)
        self.rng, self.error_rate, self.down = random.Random(seed), error_rate, False
        self.lock = threading.Lock()
        self.served = self.refused = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                category = self.path.rstrip("/").rsplit("/", 1)[-1]
                with stand_in.lock:
                    refuse = stand_in.down or stand_in.rng.random() < stand_in.error_rate
                    stand_in.refused += refuse
                    stand_in.served += not refuse
                    body = b"busy" if refuse else stand_in.month.rss(category, stand_in.now)
                time.sleep(0.03)  # a little latency, so that kills land mid-fetch too
                try:
                    self.send_response(503 if refuse else 200)
                    self.send_header("Content-Type", "text/plain" if refuse else "application/rss+xml")
                    if refuse:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except ConnectionError:
                    pass  # the fetch was killed while it read

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rss/{{category}}"

    def __enter__(self) -> StandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def hours(start: dt.datetime, days: int) -> Iterator[dt.datetime]:
    for n in range(days * 24):
        yield start + dt.timedelta(hours=n)
