"""The bot as a whole: built without connecting, minimal intents, every cog, no name clashes,
discord imported only by bot/discord, and ``paperbot run``/``sync`` without a token."""

from __future__ import annotations

import ast
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest.mock import AsyncMock

import discord
import pytest
from discord import app_commands
from discord_fakes import make_bot

from bot.credentials import REDACTED, RedactFilter
from bot.discord import PaperBot, run_bot, sync_commands
from bot.discord.client import extension_names
from bot.errors import PaperbotError, UsageError

ROOT = Path(__file__).resolve().parent.parent
COGS = ROOT / "bot" / "discord" / "cogs"


def test_intents_are_minimal(seeded_db: Path) -> None:
    intents = make_bot(seeded_db).intents
    assert intents.guilds and intents.guild_messages and intents.dm_messages
    assert not intents.message_content and not intents.members and not intents.presences
    assert make_bot(seeded_db, free_text_channels=True).intents.message_content


def test_every_module_in_the_cogs_folder_is_an_extension() -> None:
    modules = {p.stem for p in COGS.glob("*.py") if not p.stem.startswith("_")}
    assert {name.rsplit(".", 1)[1] for name in extension_names()} == modules
    assert {"ask", "papers", "admin"} <= modules


async def test_setup_hook_loads_every_cog_without_network_or_sync(seeded_db: Path) -> None:
    bot = make_bot(seeded_db)
    bot.http.request = AsyncMock(side_effect=AssertionError("setup_hook must not touch the network"))
    bot.tree.sync = AsyncMock(side_effect=AssertionError("setup_hook must not sync"))
    await bot._async_setup_hook()
    await bot.setup_hook()
    assert set(bot.extensions) == set(extension_names())
    names = [c.name for c in bot.tree.get_commands()]
    assert len(names) == len(set(names)), "two cogs define the same command"
    assert {"ask", "search", "paper", "author", "recent", "similar", "cite", "stats", "help"} <= set(names)
    assert {"ingest", "freetext"} <= set(names)
    assert "sync" not in names  # syncing is a CLI step, never a slash command
    for command in bot.tree.walk_commands():
        assert command.description and len(command.description) <= 100
    await bot.close()


def test_only_bot_discord_imports_discord() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        if (ROOT / "bot" / "discord") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(n == "discord" or n.startswith("discord.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_core_and_the_chat_load_without_discord() -> None:
    code = "import sys, bot.cli, bot.console.chat, bot.chat.dialogue, bot.service;print('discord' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "False"


def _paperbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(cwd / "x.db"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,  # no .env here
        timeout=60,
    )


@pytest.mark.parametrize("command", [["run"], ["sync", "--guild", "1"]])
def test_without_a_token_run_and_sync_exit_2_with_one_line(tmp_path: Path, command: list[str]) -> None:
    result = _paperbot(*command, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "paperbot chat" in lines[0]


def test_the_token_is_redacted_from_logs_and_tracebacks() -> None:
    token = "MTIzNDU2Nzg5.secret.token"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter([token]))
    logger = logging.getLogger("paperbot.test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s", token)
        try:
            raise RuntimeError(f"bad token {token}")
        except RuntimeError:
            logger.exception("login failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert token not in output and output.count(REDACTED) == 2, output


def test_run_turns_discord_refusals_into_usage_errors(
    seeded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: PaperBot, token: str, **kwargs: object) -> None:
        assert token == "t0ken" and kwargs["log_handler"] is None  # the CLI's logging (and filter) stay
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(PaperBot, "run", refuse)
    bot = make_bot(seeded_db, discord_token="t0ken")
    with pytest.raises(UsageError, match="rejected the token"):
        run_bot(bot.settings, bot.service)


def test_run_without_network_is_one_line_not_a_traceback(
    seeded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(self: PaperBot, token: str, **kwargs: object) -> None:
        raise OSError("Name or service not known")  # what aiohttp's connector errors are

    monkeypatch.setattr(PaperBot, "run", offline)
    bot = make_bot(seeded_db, discord_token="t0ken")
    with pytest.raises(PaperbotError, match="could not reach Discord"):
        run_bot(bot.settings, bot.service)


async def test_sync_pushes_the_tree_to_one_guild(seeded_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[object] = []

    async def fake_login(self: PaperBot, token: str) -> None:
        await self._async_setup_hook()
        await self.setup_hook()

    async def fake_sync(
        self: app_commands.CommandTree, *, guild: discord.abc.Snowflake | None = None
    ) -> list:
        synced.append(guild)
        return self.get_commands(guild=guild)

    monkeypatch.setattr(PaperBot, "login", fake_login)
    monkeypatch.setattr(app_commands.CommandTree, "sync", fake_sync)
    bot = make_bot(seeded_db, discord_token="t0ken")
    names = await sync_commands(bot.settings, bot.service, guild_id=1234)
    assert [getattr(g, "id", None) for g in synced] == [1234]
    assert {"ask", "search", "ingest", "freetext"} <= set(names)
