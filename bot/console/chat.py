"""The console chat: the Discord conversation in a terminal, or over stdin in scripts.

Interactive on a terminal (prompt, history, colours, a spinner while it thinks); plain when
piped: every input line gets its reply, then the program exits 0
(``echo "what is GKD?" | paperbot chat``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot.chat.dialogue import AnswerReply, Dialogue, ListReply, Notice, Reply
from bot.console.render import QUOTE_BAR, Line, follow_up_hint, render

log = logging.getLogger(__name__)

PROMPT = "paperbot> "
QUIT = {"/quit", "/exit", "quit", "exit", ":q", "/q"}
CONTEXT = "console"  # one conversation: follow-ups refer to the last list printed here


class ConsoleChat:
    """Reads lines, answers each through the dialogue, prints the replies."""

    def __init__(
        self,
        dialogue: Dialogue,
        out: TextIO | None = None,
        interactive: bool | None = None,
        styled: bool | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.out = out or sys.stdout
        self.console = Console(file=self.out, highlight=False, soft_wrap=False)
        self.styled = self.console.is_terminal if styled is None else styled
        if interactive is None:
            interactive = sys.stdin.isatty() and self.console.is_terminal
        self.interactive = interactive
        self._hinted = False
        self._replies = 0

    # -- the loop ----------------------------------------------------------------------
    def run(self, lines: Iterable[str] | None = None) -> int:
        """Answer every line until end of input or /quit. Returns the exit code (0)."""
        if self.interactive:
            self._enable_history()
            self._banner()
        for line in lines if lines is not None else self._read():
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT:
                break
            try:
                self.show(self.answer(text))
            except KeyboardInterrupt:  # stop this answer, keep the chat
                self.out.write("(interrupted)\n")
        return 0

    def _read(self) -> Iterator[str]:
        if not self.interactive:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C on a pipe: stop quietly
                yield from sys.stdin
            return
        while True:
            try:
                yield input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                self.out.write("\n")
                return

    def answer(self, text: str) -> Reply:
        """One reply; unexpected failures become a short notice (details in the debug log)."""
        try:
            if self.styled and self.interactive:
                with self.console.status("Thinking…", spinner="dots"):
                    return self.dialogue.handle(text, CONTEXT)
            return self.dialogue.handle(text, CONTEXT)
        except Exception as exc:
            log.debug("chat failed on %r", text, exc_info=True)
            return Notice(
                text=f"Sorry, that failed ({type(exc).__name__}). "
                "Run with PAPERBOT_LOG_LEVEL=DEBUG to see why."
            )

    # -- output ------------------------------------------------------------------------
    def show(self, reply: Reply) -> None:
        lines = render(reply)
        lists = isinstance(reply, AnswerReply | ListReply) and len(_papers(reply)) > 1
        if self.interactive and not self._hinted and lists:  # once: how to pick a result
            lines += [(0, Text("")), follow_up_hint()]
            self._hinted = True
        if self._replies and not self.interactive:
            self.out.write("\n")  # piped: a blank line between replies
        self._replies += 1
        self.print_lines(lines)
        if self.interactive:
            self.out.write("\n")  # a blank line before the next prompt
        self.out.flush()

    def print_lines(self, lines: list[Line]) -> None:
        for indent, text in lines:
            if self.styled:
                self._print_wrapped(indent, text)
            else:  # piped: no styles, no wrapping, so that scripts see whole lines
                self.out.write(" " * indent + text.plain + "\n")

    def _print_wrapped(self, indent: int, text: Text) -> None:
        """Wrap to the terminal with a hanging indent (a quote bar repeats); URLs are never cut."""
        if "://" in text.plain:  # let the terminal fold it: a URL cut by us stops working
            self.console.print(Text(" " * indent) + text, soft_wrap=True)
            return
        bar = Text("")
        if text.plain.startswith(QUOTE_BAR):
            bar, text = text[: len(QUOTE_BAR)], text[len(QUOTE_BAR) :]
        width = max(20, self.console.width - indent - len(bar))
        for part in text.wrap(self.console, width):
            part.rstrip()
            self.console.print(Text(" " * indent) + bar + part, soft_wrap=True)

    def _banner(self) -> None:
        service = self.dialogue.service
        with self.console.status("Loading the library…", spinner="dots"):
            count = service.store.count_papers()
            service.engine  # build or load the index now rather than on the first question  # noqa: B018
        self.console.print(
            f"[bold]paperbot[/] · {count} papers. Ask a question, or type [bold]/help[/]. "
            "[dim]/quit or Ctrl-D to leave.[/]"
        )

    @staticmethod
    def _enable_history() -> None:
        with contextlib.suppress(ImportError):  # arrow keys and history, where there is readline
            import readline  # noqa: F401


def _papers(reply: AnswerReply | ListReply) -> list[object]:
    return list(reply.answer.hits) if isinstance(reply, AnswerReply) else list(reply.papers)
