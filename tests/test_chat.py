"""The console chat: in process over the seeds, and as ``paperbot chat`` reading stdin."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from seeded import seeded_service

from bot.chat.dialogue import Dialogue
from bot.console.chat import ConsoleChat


@pytest.fixture
def dialogue(seeded_db: Path) -> Dialogue:
    return Dialogue(seeded_service(seeded_db))


def chat(dialogue: Dialogue, *lines: str, styled: bool = False, interactive: bool = False) -> str:
    out = io.StringIO()
    code = ConsoleChat(dialogue, out=out, interactive=interactive, styled=styled).run(lines)
    assert code == 0
    return out.getvalue()


def test_a_question_gets_the_passage_authors_and_a_link(dialogue: Dialogue) -> None:
    text = chat(dialogue, "what is GKD?")
    assert text.startswith("On-Policy Distillation of Language Models")
    assert "Rishabh Agarwal" in text and "GKD" in text
    assert "https://arxiv.org/search/" in text
    assert "\x1b[" not in text and "**" not in text  # plain: no colour codes, no markdown


def test_follow_ups_and_commands_in_one_session(dialogue: Dialogue) -> None:
    text = chat(dialogue, "papers by Sarah Perrin", "the second one", "/cite #1", "/similar #1", "/stats")
    replies = text.split("\n\n")
    assert replies[0].startswith("Papers by Sarah Perrin")
    second_title = replies[0].splitlines()[3].split(". ", 1)[1]  # entry 2: number, title
    assert second_title in text.split("Papers by Sarah Perrin")[1].split("@misc")[0]
    assert "@misc{" in text and "papers · " in text and "Papers similar to" in text


def test_help_lists_every_command(dialogue: Dialogue) -> None:
    text = chat(dialogue, "/help")
    for name in ("/search", "/paper", "/author", "/recent", "/similar", "/cite", "/stats"):
        assert name in text


def test_errors_are_one_friendly_line_and_the_chat_goes_on(dialogue: Dialogue) -> None:
    text = chat(dialogue, "/frobnicate", "#9", "/search x --since someday", "what is WARM?")
    assert "Unknown command /frobnicate" in text
    assert "no earlier results" in text
    assert "YYYY" in text
    assert "WARM: On the Benefits of Weight Averaged Reward Models" in text


def test_quit_stops_reading(dialogue: Dialogue) -> None:
    assert "WARM" not in chat(dialogue, "/quit", "what is WARM?")


def test_unexpected_failures_do_not_end_the_chat(dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(question: str) -> None:
        raise RuntimeError("index on fire")

    broken = Dialogue(dialogue.service)
    monkeypatch.setattr(broken, "ask", lambda key, question: boom(question))
    text = chat(broken, "what is GKD?", "/stats")
    assert "Sorry, that failed (RuntimeError)" in text and "Traceback" not in text
    assert "papers · " in text


def test_styled_interactive_session_shows_the_banner_and_a_hint(dialogue: Dialogue) -> None:
    text = chat(dialogue, "/search mean field games", styled=True, interactive=True)
    assert "53 papers" in text
    assert "Follow up with" in text
    assert "Mean Field Games" in text


def _run_chat(db: Path, stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {"PAPERBOT_SEMANTIC": "false", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), "chat"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_piped_question_prints_the_answer_and_exits_0(seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(seeded_db, db)
    result = _run_chat(db, "what is GKD?\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("On-Policy Distillation of Language Models")
    assert "paperbot>" not in result.stdout  # no prompt when piped
    assert result.stderr == ""


def test_an_empty_database_gets_the_bundled_seeds_first(tmp_path: Path) -> None:
    result = _run_chat(tmp_path / "new.db", "/stats\nthe first one\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "53 papers" in result.stdout
    assert "no earlier results" in result.stdout


def test_a_env_file_copied_from_the_example_works(seeded_db: Path, tmp_path: Path) -> None:
    """The README says to copy .env.example to .env: its empty values must mean "unset"."""
    shutil.copy(Path(__file__).resolve().parent.parent / ".env.example", tmp_path / ".env")
    db = tmp_path / "copy.db"
    shutil.copy(seeded_db, db)
    result = _run_chat(db, "what is WARM?\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("WARM: On the Benefits of Weight Averaged Reward Models")
