"""The command line as scripts and cron meet it: the installed ``paperbot`` console script, run
as a subprocess (not typer's test runner), its exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.app import hoist_global_options
from bot.config import BUNDLED_SEEDS
from bot.digest.book import DigestBook
from bot.store import SQLiteStore
from tests.conftest import SEEDS

SCRIPT = Path(sys.executable).with_name("paperbot")


def paperbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    clean |= {"PAPERBOT_SEMANTIC": "false", "PAPERBOT_LOG_FILE": str(cwd / "paperbot.log"), "COLUMNS": "60"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=clean | env
    )


@pytest.fixture
def db(tmp_path: Path, seeded_db: Path) -> Path:
    copy = tmp_path / "seeded.db"
    copy.write_bytes(seeded_db.read_bytes())
    return copy


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ask"], "Missing argument"),
        (["search", "x", "--bogus"], "--bogus"),
        (["search", "x", "-k", "0"], "-k"),
        (["digest", "preview"], "--profile"),
        (["digest", "subscribe", "--channel", "abc"], "--channel"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str, db: Path, tmp_path: Path) -> None:
    result = paperbot("--db", str(db), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_long_errors_are_never_wrapped(tmp_path: Path) -> None:
    missing = tmp_path / ("a-long-folder-name-" * 8) / "profile.json"
    result = paperbot(
        "--db", str(tmp_path / "x.db"), "digest", "preview", "--profile", str(missing), cwd=tmp_path
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and str(missing) in result.stderr


def test_db_is_accepted_before_or_after_the_subcommand(db: Path, tmp_path: Path) -> None:
    before = paperbot("--db", str(db), "list", "--json", cwd=tmp_path)
    after = paperbot("list", "--db", str(db), "--json", cwd=tmp_path)
    equals = paperbot("list", "--json", f"--db={db}", cwd=tmp_path)
    assert before.returncode == after.returncode == equals.returncode == 0, after.stderr
    assert before.stdout == after.stdout == equals.stdout and len(json.loads(before.stdout)) == 53


def test_hoisting_leaves_arguments_alone() -> None:
    assert hoist_global_options(["ask", "q", "--db", "x.db"]) == ["--db", "x.db", "ask", "q"]
    assert hoist_global_options(["--db=x.db", "list"]) == ["--db=x.db", "list"]
    assert hoist_global_options(["ask", "--", "--db"]) == ["ask", "--", "--db"]
    assert hoist_global_options(["ask", "--dbx"]) == ["ask", "--dbx"]


def test_unknown_keys_are_refused_by_name(db: Path, tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"keywordz": ["reward models"]}))
    for command in (
        ["digest", "preview", "--profile", str(profile)],
        ["digest", "subscribe", "--channel", "4", "--profile", str(profile)],
    ):
        result = paperbot("--db", str(db), *command, cwd=tmp_path)
        assert result.returncode == 2 and "'keywordz'" in result.stderr and result.stderr.count("\n") == 1
    typo = paperbot("--db", str(db), "list", cwd=tmp_path, PAPERBOT_SEMANTICC="false")
    assert typo.returncode == 2 and "PAPERBOT_SEMANTICC" in typo.stderr
    (tmp_path / ".env").write_text("PAPERBOT_COOLDOWN_SECOND=3\nPOSTGRES_PASSWORD=other-tools-key\n")
    in_file = paperbot("--db", str(db), "list", cwd=tmp_path)
    assert in_file.returncode == 2 and "PAPERBOT_COOLDOWN_SECOND" in in_file.stderr
    bad_value = paperbot("--db", str(db), "list", cwd=tmp_path.parent, PAPERBOT_LOG_LEVEL="loud")
    assert bad_value.returncode == 2 and "PAPERBOT_LOG_LEVEL" in bad_value.stderr


def test_unexpected_errors_are_one_line_with_the_log(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()  # a folder where the database file should be
    result = paperbot("--db", str(folder), "list", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert (
        result.stderr.startswith("error: unexpected error")
        and str(tmp_path / "paperbot.log") in result.stderr
    )
    assert "Traceback" in (tmp_path / "paperbot.log").read_text()
    debug = paperbot("--db", str(folder), "list", cwd=tmp_path, PAPERBOT_LOG_LEVEL="DEBUG")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_an_empty_database_says_it_loaded_the_demo_corpus(tmp_path: Path) -> None:
    for command in (["list"], ["search", "gkd"]):
        db = tmp_path / f"{command[0]}.db"
        result = paperbot("--db", str(db), *command, cwd=tmp_path)
        assert result.returncode == 0 and "loaded the bundled demo corpus (53 papers" in result.stderr
        assert result.stdout.strip()


def test_batch_search_reports_bad_lines_and_exits_1(db: Path, tmp_path: Path) -> None:
    lines = '{"q": "gkd"}\nnot json\n{"q": "warm", "kk": 2}\n{"q": "munchausen", "k": 1}\n'
    result = subprocess.run(
        [str(SCRIPT), "--db", str(db), "search", "--batch", "-", "--json"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PAPERBOT_SEMANTIC": "false"},
    )
    answered = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and [a["q"] for a in answered] == ["gkd", "munchausen"]
    assert len(answered[1]["results"]) == 1
    assert "stdin:2: not a JSON line" in result.stderr and "stdin:3: unknown key 'kk'" in result.stderr


def test_help_and_plain_answers_read_well_in_a_terminal(db: Path, tmp_path: Path) -> None:
    for command in ([], ["search"], ["export"], ["digest", "run"]):
        shown = paperbot(*command, "--help", cwd=tmp_path).stdout
        assert "<bool>" not in shown and "``" not in shown and "Usage: paperbot" in shown
    plain = paperbot("--db", str(db), "ask", "what is GKD?", cwd=tmp_path)
    assert (
        plain.returncode == 0
        and "**" not in plain.stdout
        and "Generalized Knowledge Distillation" in plain.stdout
    )
    markdown = paperbot("--db", str(db), "ask", "what is GKD?", "--markdown", cwd=tmp_path)
    assert markdown.stdout.startswith("**")


def test_doctor(db: Path, tmp_path: Path) -> None:
    assert paperbot("--db", str(db), "search", "gkd", cwd=tmp_path).returncode == 0  # the index is saved
    token = "fake.token-value-never-printed"
    healthy = paperbot("--db", str(db), "doctor", "--offline", cwd=tmp_path, DISCORD_TOKEN=token)
    assert healthy.returncode == 0, healthy.stdout
    assert token not in healthy.stdout + healthy.stderr
    names = {line.split()[1] for line in healthy.stdout.splitlines()}
    assert {"database", "index", "token", "intents", "arxiv", "digest"} <= names
    assert not any(line.startswith("fail") for line in healthy.stdout.splitlines())

    with SQLiteStore(db) as store:
        from bot.digest.models import Subscription

        book = DigestBook(store)
        book.subscribe(Subscription(channel_id=9))
        book.pause(9, "Missing Access")
    sick = paperbot("--db", str(db), "doctor", "--offline", "--json", cwd=tmp_path)
    checks = json.loads(sick.stdout)
    assert sick.returncode == 1
    assert {"name": "token", "status": "fail"}.items() <= next(
        c for c in checks if c["name"] == "token"
    ).items()
    assert any(
        c["status"] == "fail" and "Missing Access" in c["detail"] for c in checks if c["name"] == "digest"
    )


def test_bundled_seeds_are_package_data_equal_to_the_top_level_seeds() -> None:
    assert BUNDLED_SEEDS.is_dir()
    shipped = {p.name: p.read_bytes() for p in BUNDLED_SEEDS.glob("*.txt")}
    assert shipped and shipped == {p.name: p.read_bytes() for p in SEEDS.glob("*.txt")}
