"""The commands people type, shared by the console chat and Discord free text.

One table describes every command (usage, summary, examples) so that ``/help`` in the console
and in Discord say the same thing, and one parser turns a line into a :class:`Command`:

    /search mean field games --author Perrin --since 2023    (or author:Perrin since:2023)
    !cite #2
    what is GKD?                                              (no command: a question)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.dates import parse_date as parse_date  # one parser; re-exported for the adapters
from bot.errors import UsageError


class CommandSpec(NamedTuple):
    name: str
    usage: str  # the console / free-text form
    slash: str  # the Discord slash-command form
    summary: str
    examples: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    needs_text: bool = False


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in [
        CommandSpec(
            "ask",
            "QUESTION  (or /ask QUESTION)",
            "/ask question",
            "Answer a question with the passage that answers it, the paper and links.",
            ("what is GKD?", "which paper averages reward models?", "latest on mean field games"),
            needs_text=True,
        ),
        CommandSpec(
            "search",
            "/search QUERY [--author NAME] [--category C] [--since YYYY] [--until YYYY]",
            "/search query [author] [category] [since] [until]",
            "Ranked list of matching papers, with optional filters.",
            ("/search distillation --since 2023", "/search mean field games --author Perrin"),
            options=("author", "category", "since", "until"),
            needs_text=True,
        ),
        CommandSpec(
            "paper",
            "/paper TITLE|#N",
            "/paper title",
            "One paper: authors, date, abstract and links (typos in the title are fine).",
            ("/paper gemma 2", "/paper #2"),
            needs_text=True,
        ),
        CommandSpec(
            "author",
            "/author NAME",
            "/author name",
            "An author's papers, newest first (accents optional).",
            ("/author Julien Perolat",),
            needs_text=True,
        ),
        CommandSpec(
            "recent",
            "/recent [CATEGORY] [--days N]",
            "/recent [category] [days]",
            "The newest papers, optionally in one arXiv category.",
            ("/recent", "/recent cs.LG --days 365"),
            options=("days",),
        ),
        CommandSpec(
            "similar",
            "/similar TITLE|#N",
            "/similar title",
            "Papers close to a given one.",
            ("/similar WARM", "/similar #1"),
            needs_text=True,
        ),
        CommandSpec(
            "cite",
            "/cite TITLE|#N",
            "/cite title",
            "A BibTeX entry and a plain-text reference.",
            ("/cite Gemma 2", "/cite #3"),
            needs_text=True,
        ),
        CommandSpec("stats", "/stats", "/stats", "What the library holds."),
        CommandSpec("help", "/help", "/help", "This list."),
    ]
}
ALIASES = {"find": "search", "s": "search", "bib": "cite", "bibtex": "cite", "h": "help"}
FOLLOW_UPS = ("the second one", "more about #3", "cite the first one", "similar to #2")

_COMMAND = re.compile(r"^[/!](?P<name>[A-Za-z]+)(?:\s+(?P<rest>.*))?$", re.DOTALL)
_ANY_FLAG = re.compile(r"(?:^|\s)--(?P<name>[A-Za-z][\w-]*)")


class Command(NamedTuple):
    name: str
    text: str
    options: dict[str, str]


def parse(line: str) -> Command:
    """A command line, or a question when the line does not start with ``/`` or ``!``."""
    text = " ".join(line.split())
    m = _COMMAND.match(text)
    if not m:
        return Command("ask", text, {})
    typed = m["name"].lower()
    name = ALIASES.get(typed, typed)
    spec = COMMANDS.get(name)
    if spec is None:
        raise UsageError(f"Unknown command /{typed}. Type /help to see what I can do.")
    rest, options = split_options(m["rest"] or "", spec)
    if spec.needs_text and not rest:
        raise UsageError(f"Usage: {spec.usage}  e.g. {spec.examples[0]}")
    return Command(name, rest, options)


def split_options(text: str, spec: CommandSpec) -> tuple[str, dict[str, str]]:
    """Take ``--name value`` / ``name:value`` options out of ``text``; values run to the next option."""
    for flag in _ANY_FLAG.finditer(text):
        if flag["name"].lower() not in spec.options:
            known = ", ".join(f"--{o}" for o in spec.options) or "none"
            raise UsageError(f"/{spec.name} has no option --{flag['name']} (options: {known}).")
    if not spec.options:
        return text.strip(), {}
    names = "|".join(spec.options)
    marker = re.compile(rf"(?:^|\s)(?:--(?P<flag>{names})(?:=|\s+|$)|(?P<key>{names}):\s*)", re.IGNORECASE)
    marks = list(marker.finditer(text))
    if not marks:
        return text.strip(), {}
    options: dict[str, str] = {}
    for mark, after in zip(marks, [*marks[1:], None], strict=True):
        name = (mark["flag"] or mark["key"]).lower()
        value = text[mark.end() : after.start() if after else len(text)].strip().strip("\"'")
        if not value:
            raise UsageError(f"--{name} needs a value.")
        options[name] = value
    return text[: marks[0].start()].strip(), options


def parse_days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 36_500:
        raise UsageError(f"--days takes a number of days from 1 to 36500, not '{value[:20]}'.")
    return int(value)
