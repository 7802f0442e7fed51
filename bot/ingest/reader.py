"""Read text files line by line, defensively: bounded memory, any encoding, any line ending."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

# A line longer than this is not a record of any format we read: skip it, do not hold it.
MAX_LINE_BYTES = 1 << 20


class Line(NamedTuple):
    number: int
    text: str | None  # None when the line could not be used
    problem: str | None = None


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading bytes, transparently un-gzipping ``.gz`` files."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def decode(raw: bytes) -> tuple[str, str | None]:
    """UTF-8 if it is, else Windows-1252/Latin-1 (the usual culprit), with a note saying so."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252"), "not UTF-8, read as Windows-1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "not UTF-8, read as Latin-1"


def read_lines(stream: BinaryIO) -> Iterator[Line]:
    """Yield numbered lines without their line ending (LF, CRLF or CR).

    Lines over ``MAX_LINE_BYTES`` and lines with NUL bytes are reported, not returned, and
    never held whole in memory.
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES)
        if not raw:
            return
        number += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # drain the rest of the long line
                raw = stream.readline(MAX_LINE_BYTES)
            yield Line(number, None, f"line longer than {MAX_LINE_BYTES // 1024} KiB")
            continue
        if b"\x00" in raw:
            yield Line(number, None, "binary content (NUL bytes)")
            continue
        text, note = decode(raw.rstrip(b"\r\n"))
        text = text.lstrip("\ufeff") if number == 1 else text
        # A lone CR also ends a line (old Mac files): split it here.
        parts = text.split("\r")
        for offset, part in enumerate(parts):
            yield Line(number, part, note if offset == 0 else None)
