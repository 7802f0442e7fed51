"""Layers (../shared/DESIGN.md): bot/store/ owns every SQL statement and its connections.

Fails when a module of the bot outside bot/store/ holds an SQL statement, or reaches into a
store's private members (``store._execute``, ``store._conn``, ``store.db`` ...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
STORE = BOT / "store"

# Statement shapes, upper case as SQL is written here (prose says "select" and "update" too).
SQL = re.compile(
    r"""\bSELECT\b[^;"']{0,400}?\bFROM\b
      | \bINSERT\s+(?:OR\s+\w+\s+)?INTO\b
      | \bUPDATE\s+\w+\s+SET\b
      | \bDELETE\s+FROM\b
      | \b(?:CREATE|DROP|ALTER)\s+(?:TABLE|INDEX|EXTENSION)\b""",
    re.VERBOSE,
)
# A store's private members or connection, reached from outside the store.
PRIVATE = re.compile(
    r"""\b(?:store|self\.store|service\.store|st\.store)\s*\.\s*(?:_\w+|db|pool)\b
      | \.\s*_(?:execute|conn|rows|local|memory|connect)\b""",
    re.VERBOSE,
)


def modules_outside_the_store() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if STORE not in p.parents)


def offences(pattern: re.Pattern[str], text: str) -> list[str]:
    return [
        f"line {text.count(chr(10), 0, m.start()) + 1}: {' '.join(m.group(0).split())[:80]}"
        for m in pattern.finditer(text)
    ]


@pytest.mark.parametrize("path", modules_outside_the_store(), ids=lambda p: str(p.relative_to(BOT)))
def test_no_sql_or_store_internals_outside_the_store(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not offences(SQL, text), f"SQL outside bot/store/: {offences(SQL, text)}"
    assert not offences(PRIVATE, text), f"a store's private members: {offences(PRIVATE, text)}"


@pytest.mark.parametrize(
    "text",
    [
        'rows = store._execute("SELECT 1")',
        "self.store.db.execute(sql)",
        '_run(self.store, "DELETE FROM posted WHERE channel_id = ?", (1,))',
        '"""INSERT INTO papers (id) VALUES (?)"""',
        "sql = 'INSERT OR REPLACE INTO embeddings VALUES (?)'",
        '"UPDATE subscriptions SET paused = 1 WHERE channel_id = ?"',
        """f'''SELECT id, {score} AS r
              FROM papers WHERE id IN ({candidates})'''""",
        "with self.store._conn() as conn:",
    ],
)
def test_the_check_sees_what_it_forbids(text: str) -> None:
    assert offences(SQL, text) or offences(PRIVATE, text)


@pytest.mark.parametrize(
    "text",
    [
        "Select the papers from the list",  # prose
        "# update the index, then delete from memory",
        "self.store.get_papers(ids)",
        "service.store.count_papers()",
        "self._engine = self._build_engine()",
    ],
)
def test_the_check_lets_plain_code_be(text: str) -> None:
    assert not offences(SQL, text) and not offences(PRIVATE, text)


def test_the_store_does_not_import_the_layers_above() -> None:
    above = re.compile(
        r"^\s*(?:from|import)\s+bot\.(?:search|digest|ingest|service|query|answer|cli|discord)\b", re.M
    )
    found = {p.name: above.findall(p.read_text(encoding="utf-8")) for p in STORE.glob("*.py")}
    assert not {name: lines for name, lines in found.items() if lines}
