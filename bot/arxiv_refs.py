"""arXiv papers named in free text: links (abs/, pdf/, html/, any version) and ``arXiv:ID``.

Only the identifier is taken from a link; nothing in the text is ever fetched as a URL.
"""

from __future__ import annotations

import re

# New-style ids (0704.0001 to 2412.12345) and old-style archive/number ids (hep-th/9901001,
# math.GT/0309136), with an optional version.
_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?"
_LINK = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/"
    + _ID
    + r"(?:\.pdf)?(?!\.?\w)",
    re.IGNORECASE,
)
_BARE = re.compile(r"(?<![\w/])arxiv:\s?" + _ID + r"(?!\.?\w)", re.IGNORECASE)
MAX_REFS = 10  # one message, at most this many cards


def arxiv_refs(text: str) -> list[str]:
    """The arXiv ids the text links to or names, first mention first, without versions."""
    found: list[tuple[int, str]] = []
    for pattern in (_LINK, _BARE):
        found += [(m.start(), _canonical(m.group("id"))) for m in pattern.finditer(text)]
    ids: list[str] = []
    for _, ref in sorted(found):
        if ref not in ids:
            ids.append(ref)
    return ids[:MAX_REFS]


def _canonical(ref: str) -> str:
    if "/" in ref:  # old style: the archive is lower case, a subject class upper case
        archive, number = ref.split("/", 1)
        name, _, subject = archive.partition(".")
        return f"{name.lower()}{'.' + subject.upper() if subject else ''}/{number}"
    return ref
