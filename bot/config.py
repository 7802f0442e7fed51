"""Settings from the environment and ``.env`` (pydantic-settings). Built in ``main``, never at import."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from platformdirs import user_data_dir, user_log_path
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The bundled demo corpus, package data of ``bot`` (bot/seeds links to the repository's seeds/,
# the source of truth), so that wheels and non-editable installs find it too.
BUNDLED_SEEDS = Path(str(resources.files("bot").joinpath("seeds"))).resolve()


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
    answer_threads: int = Field(
        0, ge=0, description="questions answered at once, the others wait their turn (0: one per core)"
    )
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="DEBUG, INFO, WARNING or ERROR (stderr; the log file gets INFO and up)"
    )
    log_file: Path = Field(
        default_factory=lambda: user_log_path("paperbot", appauthor=False) / "paperbot.log",
        description="where unexpected errors are logged with their traceback",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.db}"


# Variables with the prefix that are not settings: the test suite's PostgreSQL binaries.
NOT_SETTINGS = frozenset({"PAPERBOT_PG_BINDIR"})


def unknown_settings(env_file: str | Path = ".env") -> list[str]:
    """``PAPERBOT_*`` names in the environment or ``.env`` that no setting has: a typo there
    would otherwise silently mean the default. Other names in ``.env`` belong to other tools."""
    names = set(os.environ)
    if Path(env_file).is_file():
        names |= {name for name in dotenv_values(env_file) if name}
    known = {f"PAPERBOT_{field}".upper() for field in Settings.model_fields} | NOT_SETTINGS
    return sorted(n for n in names if n.upper().startswith("PAPERBOT_") and n.upper() not in known)
