"""arXiv links in messages: every id form, hostile URLs, papers looked up once, offline in a line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import respx
from hypothesis import given
from hypothesis import strategies as st

from bot.arxiv_refs import arxiv_refs
from bot.ingest.arxiv import ArxivClient, RateLimiter
from bot.service import PaperService
from bot.store import SQLiteStore
from tests.conftest import FIXTURES

API_URL = "http://arxiv.test/api/query"
ATOM = (FIXTURES / "arxiv" / "api_response.xml").read_bytes()

new_ids = st.builds(
    lambda yymm, n, digits: f"{yymm:04d}.{n:0{digits}d}",
    st.integers(701, 2912),
    st.integers(0, 9999),
    st.sampled_from([4, 5]),
)
old_ids = st.builds(
    lambda archive, n: f"{archive}/{n:07d}",
    st.sampled_from(["hep-th", "math.GT", "cond-mat", "quant-ph", "cs"]),
    st.integers(0, 9999999),
)
forms = st.sampled_from(
    [
        "https://arxiv.org/abs/{}",
        "http://arxiv.org/abs/{}{v}",
        "https://www.arxiv.org/pdf/{}{v}",
        "https://arxiv.org/pdf/{}{v}.pdf",
        "arxiv.org/html/{}{v}",
        "https://export.arxiv.org/abs/{}",
        "<https://arxiv.org/abs/{}{v}>",
        "(arXiv:{}{v})",
        "arXiv: {}",
    ]
)


@given(st.one_of(new_ids, old_ids), forms, st.sampled_from(["", "v1", "v12"]), st.text(max_size=30))
def test_every_id_form_is_found(ref: str, form: str, version: str, noise: str) -> None:
    text = f"{noise} look: {form.format(ref, v=version)}, thoughts? {noise}"
    assert ref in arxiv_refs(text)


@given(st.text(max_size=300))
def test_any_text_is_safe(text: str) -> None:
    refs = arxiv_refs(text)
    assert len(refs) <= 10 and len(refs) == len(set(refs))


def test_hostile_and_lookalike_urls_name_no_paper() -> None:
    for text in (
        "https://evilarxiv.org/abs/2401.12187",
        "https://arxiv.org.evil.example/abs/2401.12187",
        "https://arxiv.org/abs/2401.12187.evil",
        "https://arxiv.org/list/cs.LG/recent",
        "https://arxiv.org/abs/../../etc/passwd",
        "javascript:alert('arxiv.org/abs/')",
        "version 2401.12187 of something",
    ):
        assert arxiv_refs(text) == [], text


def test_several_links_first_mention_first_once_each() -> None:
    text = "compare arxiv.org/abs/2401.12187v2 with https://arxiv.org/pdf/hep-th/9901001 and arxiv.org/abs/2401.12187"
    assert arxiv_refs(text) == ["2401.12187", "hep-th/9901001"]
    assert arxiv_refs("Read arxiv.org/abs/2401.12187. Then arXiv:2402.00001v2.") == [
        "2401.12187",
        "2402.00001",
    ]


def client() -> ArxivClient:
    return ArxivClient("paperbot-test", retries=1, limiter=RateLimiter(0.0), api_url=API_URL)


@respx.mock
def test_a_linked_paper_is_answered_first_and_fetched_once(seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    db.write_bytes(seeded_db.read_bytes())
    route = respx.get(API_URL).mock(return_value=httpx.Response(200, content=ATOM))
    service = PaperService(SQLiteStore(db), embedder=False, arxiv=client())
    answer = service.ask("has anyone read https://arxiv.org/abs/2401.12187v1 ?")
    assert answer.intent == "link" and answer.hits[0].paper.arxiv_id == "2401.12187"
    assert route.calls[0].request.url.params["id_list"] == "2401.12187"
    again = service.ask("again: arxiv.org/pdf/2401.12187")
    assert again.hits[0].paper.arxiv_id == "2401.12187" and route.call_count == 1  # from the corpus now


@respx.mock
def test_arxiv_unreachable_is_one_line(seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    db.write_bytes(seeded_db.read_bytes())
    respx.get(API_URL).mock(side_effect=httpx.ConnectError("no route"))
    answer = PaperService(SQLiteStore(db), embedder=False, arxiv=client()).ask("arxiv.org/abs/2402.00001")
    assert answer.intent == "link" and not answer.hits
    assert answer.text.startswith("Could not reach arXiv to look up 2402.00001") and "\n" not in answer.text


def test_cli_offline_link_is_one_clear_line(seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    db.write_bytes(seeded_db.read_bytes())
    with socket.socket() as closed:  # a port nobody listens on: arXiv "offline"
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {
        **os.environ,
        "PAPERBOT_SEMANTIC": "false",
        "PAPERBOT_ARXIV_API_URL": f"http://127.0.0.1:{port}/api/query",
        "PAPERBOT_ARXIV_DELAY_SECONDS": "0",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--db",
            str(db),
            "ask",
            "see https://arxiv.org/abs/2402.00001v3",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    answer = json.loads(result.stdout)
    assert result.returncode == 0 and answer["intent"] == "link" and answer["results"] == []
    assert "Could not reach arXiv" in answer["text"] and "\n" not in answer["text"]
    assert "Traceback" not in result.stderr
