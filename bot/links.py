"""Links and citations for a paper. Search links always work; arXiv links need an id."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from bot.text import words

if TYPE_CHECKING:
    from bot.models import Paper


def links_for(title: str, arxiv_id: str | None = None, version: int | None = None) -> dict[str, str]:
    quoted = quote_plus(f'"{title}"')
    result = {
        "arxiv_search": f"https://arxiv.org/search/?query={quoted}&searchtype=title",
        "semantic_scholar": f"https://www.semanticscholar.org/search?q={quote_plus(title)}",
        "google_scholar": f"https://scholar.google.com/scholar?q={quoted}",
    }
    if arxiv_id:
        result["abs"] = f"https://arxiv.org/abs/{arxiv_id}"
        result["pdf"] = f"https://arxiv.org/pdf/{arxiv_id}" + (f"v{version}" if version else "")
    return result


# Words that make an author a body, not a person: BibTeX must not split "Gemma Team" into a
# first name and a surname, so such names are braced.
_CORPORATE = re.compile(
    r"\b(?:team|group|consortium|collaboration|project|lab|laboratory|labs|institute|inc|ltd|deepmind|google|openai|meta|university|committee)\b",
    re.IGNORECASE,
)


def bibtex_key(paper: Paper) -> str:
    first = words(paper.authors[0]) if paper.authors else []
    # A person by surname; a team by its first word ("Gemma Team" -> gemma).
    surname = (first[0] if _CORPORATE.search(paper.authors[0]) else first[-1]) if first else "anon"
    year = paper.date.year if paper.date else "nd"
    first_word = next((w for w in words(paper.label) if len(w) > 3), "paper")
    return f"{surname}{year}{first_word}"


_BIBTEX_SPECIAL = re.compile(r"([&%$#_{}])")


def _bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def bibtex_author(name: str) -> str:
    """One author for a BibTeX author list: a team or an organisation braced whole."""
    name = _bibtex_escape(name)
    return "{" + name + "}" if _CORPORATE.search(name) or " " not in name.strip() else name


def bibtex(paper: Paper) -> str:
    """A BibTeX entry (``@misc`` in arXiv's own style when the paper has an arXiv id)."""
    authors = " and ".join(map(bibtex_author, paper.authors)) + (" and others" if paper.et_al else "")
    fields = [("title", "{" + _bibtex_escape(paper.label) + "}"), ("author", authors)]
    if paper.date:
        fields.append(("year", str(paper.date.year)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", paper.categories[0]))
        fields.append(("url", f"https://arxiv.org/abs/{paper.arxiv_id}"))
    if paper.doi:
        fields.append(("doi", paper.doi))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}"


def reference(paper: Paper) -> str:
    """A plain-text reference: 'A, B et al. (2024). Title. arXiv:ID.'"""
    names = ", ".join(paper.authors[:3]) + (" et al." if paper.et_al or len(paper.authors) > 3 else "")
    year = f" ({paper.date.year})" if paper.date else ""
    tail = f" arXiv:{paper.arxiv_id}." if paper.arxiv_id else ""
    return f"{names}{year}. {paper.label}.{tail}".strip()


# How the renderers name a paper's links, in the order they show them.
LINK_NAMES = {
    "abs": "arXiv",
    "pdf": "PDF",
    "arxiv_search": "arXiv search",
    "semantic_scholar": "Semantic Scholar",
    "google_scholar": "Google Scholar",
}


def named_links(paper: Paper) -> list[tuple[str, str]]:
    """(name, url) pairs: arXiv abs/PDF first when known, then the search links that always work."""
    found = paper.links
    return [(name, found[key]) for key, name in LINK_NAMES.items() if key in found]


def primary_link(paper: Paper) -> str:
    found = paper.links
    return found.get("abs") or found["arxiv_search"]
