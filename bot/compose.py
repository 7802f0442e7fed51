"""The composition root: settings -> store, arXiv client, rewriter, service, for every adapter
(the CLI, the console chat and the Discord bot build the same service here)."""

from __future__ import annotations

from bot.config import Settings
from bot.ingest.arxiv import ArxivClient
from bot.rewrite import AnswerRewriter
from bot.service import PaperService
from bot.store import Store, open_store

# A link pasted in chat is looked up while someone waits: one try, not fetch's four.
LOOKUP_RETRIES = 1


def arxiv_client(settings: Settings, retries: int = 4) -> ArxivClient:
    """A polite client: one request every ``arxiv_delay_seconds``, the same as first backoff."""
    delay = settings.arxiv_delay_seconds
    return ArxivClient(
        settings.arxiv_user_agent,
        delay=delay,
        backoff=delay,
        retries=retries,
        api_url=settings.arxiv_api_url,
        rss_url=settings.arxiv_rss_url,
    )


def rewriter(settings: Settings) -> AnswerRewriter | None:
    """The optional LLM rewriter, when an endpoint is configured."""
    if not settings.llm_base_url:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return AnswerRewriter(settings.llm_base_url, key, settings.llm_model)


def build_service(settings: Settings, store: Store | None = None, long_running: bool = False) -> PaperService:
    """The service; a long-running process (bot, chat, batch search) refreshes its index in the
    background after other processes' ingests instead of making a question wait."""
    return PaperService(
        store or open_store(settings.store_url()),
        embedder=settings.semantic,
        rewriter=rewriter(settings),
        arxiv=arxiv_client(settings, retries=LOOKUP_RETRIES),
        background_refresh=long_running,
    )
