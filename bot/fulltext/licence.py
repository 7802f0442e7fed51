"""The licence of a paper's text, as arXiv states it: a URL, the same as arXiv's metadata writes
it (``http://creativecommons.org/licenses/by/4.0/``,
``http://arxiv.org/licenses/nonexclusive-distrib/1.0/``). arXiv's HTML pages name it near the
top (``<div id="license-tr">License: CC BY 4.0</div>``, sometimes a link); a PDF does not, so a
PDF downloaded from arXiv records ``unknown``; a local file records what it says, else nothing.
"""

from __future__ import annotations

import re
from html import unescape

UNKNOWN = "unknown"  # downloaded from arXiv, but what was downloaded does not say

ARXIV_NONEXCLUSIVE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
CC_ZERO = "http://creativecommons.org/publicdomain/zero/1.0/"
_ELEMENT = re.compile(
    r"""<(?P<tag>[a-z][a-z0-9]*)\b(?P<attrs>[^>]*\bid\s*=\s*["']?license-tr\b[^>]*)>(?P<body>.{0,2000}?)</(?P=tag)\s*>""",
    re.IGNORECASE | re.DOTALL,
)
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_URL = re.compile(
    r"https?://(?:www\.)?(creativecommons\.org/(?:licenses|publicdomain)/[a-z0-9.-]+/[0-9.]+"
    r"|arxiv\.org/licenses/[a-z0-9.-]+/[0-9.]+)/?",
    re.IGNORECASE,
)
_CC = re.compile(r"\bCC[ -](BY(?:-(?:NC|SA|ND))*)\s+(\d\.\d)\b", re.IGNORECASE)
_CC0 = re.compile(r"\bCC[ -]?(?:0|Zero)\b", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
# Where to look: the licence line is near the top of the page, before the paper.
HEAD_CHARS = 1 << 20


def canonical(url: str) -> str:
    """A licence URL as arXiv's metadata writes it: http, no www, a trailing slash."""
    found = _URL.search(url)
    return f"http://{found.group(1).lower()}/" if found else url


def from_text(text: str) -> str | None:
    """A licence named in words ("License: CC BY-NC-SA 4.0", "arXiv.org perpetual non-exclusive
    license") as its URL; other words as they are; None for no words."""
    text = " ".join(text.split())
    text = re.sub(r"^licen[cs]e\s*:\s*", "", text, flags=re.IGNORECASE).strip()
    if not text:
        return None
    if found := _URL.search(text):
        return canonical(found.group(0))
    if found := _CC.search(text):
        return f"http://creativecommons.org/licenses/{found.group(1).lower()}/{found.group(2)}/"
    if _CC0.search(text) or "public domain" in text.lower():
        return CC_ZERO
    lowered = text.lower()
    if "arxiv" in lowered and "non-exclusive" in lowered.replace("nonexclusive", "non-exclusive"):
        return ARXIV_NONEXCLUSIVE
    return text[:200]


def html_licence(text: str) -> str | None:
    """The licence an arXiv HTML page states (its ``license-tr`` line), None when it states none."""
    found = _ELEMENT.search(text[:HEAD_CHARS])
    if found is None:
        return None
    href = _HREF.search(found.group("attrs"))
    if href and _URL.search(href.group(1)):
        return canonical(href.group(1))
    inner = _URL.search(found.group("body"))
    if inner:
        return canonical(inner.group(0))
    return from_text(unescape(_TAGS.sub(" ", found.group("body"))))


def licence_name(licence: str | None) -> str:
    """A licence as people name it: "CC BY 4.0", "arXiv non-exclusive", "unknown", "none recorded"."""
    if not licence:
        return "none recorded"
    found = _URL.search(licence)
    if found is None:
        return licence
    path = found.group(1).lower()
    if path.startswith("arxiv.org/licenses/nonexclusive"):
        return "arXiv non-exclusive"
    if path.startswith("arxiv.org/licenses/"):
        return "arXiv " + path.split("/")[2]
    parts = path.split("/")  # creativecommons.org, licenses|publicdomain, kind, version
    if parts[1] == "publicdomain":
        return f"CC0 {parts[3]}" if parts[2] == "zero" else f"public domain ({parts[2]})"
    return f"CC {parts[2].upper()} {parts[3]}"
