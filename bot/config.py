"""Settings from the environment and ``.env`` (pydantic-settings). Built in ``main``, never at import."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The bundled demo corpus: seeds/ at the root of the source tree.
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def default_db_path() -> Path:
    return Path(user_data_dir("paperbot", appauthor=False)) / "paperbot.db"


class Settings(BaseSettings):
    """Every setting; ``.env.example`` documents each one."""

    # env_ignore_empty: a copied .env.example leaves settings empty ("PAPERBOT_DB="): that means unset.
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    db: Path = Field(default_factory=default_db_path, description="SQLite database file")
    database_url: str | None = Field(None, description="sqlite:///PATH (overrides db)")
    seeds_dir: Path = Field(BUNDLED_SEEDS, description="folder of scraped seed files")
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "PAPERBOT_DISCORD_TOKEN")
    )
    dev_guild_id: int | None = Field(None, description="guild to sync slash commands to in development")
    free_text_channels: bool = Field(
        False,
        description="answer plain messages in channels an admin enabled (needs the message content intent)",
    )
    cooldown_seconds: float = Field(5.0, description="per-user cooldown on expensive commands")
    semantic: bool = Field(True, description="use static embeddings (wordllama) in search")
    llm_base_url: str | None = Field(
        None, description="optional OpenAI-compatible endpoint to rewrite answers"
    )
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    arxiv_user_agent: str = "paperbot/0.1 (team research bot; mailto:paperbot@example.org)"
    shard_id: int | None = Field(None, description="this process's Discord shard (with shard_count)")
    shard_count: int | None = Field(None, description="how many shards the bot runs as")
    arxiv_delay_seconds: float = 3.0
    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv API endpoint")
    arxiv_rss_url: str = Field(
        "https://rss.arxiv.org/rss/{category}", description="arXiv RSS listing, per category"
    )
    log_level: str = Field("WARNING", description="DEBUG, INFO, WARNING or ERROR")

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.db}"
