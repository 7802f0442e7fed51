"""Pure builders for digest messages: one embed per message, within every Discord limit."""

from __future__ import annotations

import discord

from bot.digest.models import Digest, DigestItem, Subscription, digest_marker
from bot.discord.embeds import COLOUR, DESCRIPTION, TOTAL, _embed, _link, clip, fit, safe

ITEM = 900  # characters an item may take in a description


def item_text(n: int, item: DigestItem) -> str:
    url = item.links.get("abs") or next(iter(item.links.values()), "")
    authors = ", ".join(item.authors[:3]) + (" et al." if len(item.authors) > 3 else "")
    head = f"**{n}.** {_link(item.title, url, 200)} — {safe(clip(authors, 120))} ({item.date or 'undated'})"
    return clip(f"{head}\n*{safe(clip(item.reason, 120))}* · {safe(clip(item.summary, 400))}", ITEM)


def digest_messages(digest: Digest) -> list[discord.Embed]:
    """The digest as embeds: the first is the channel message, the others go into a thread."""
    pages: list[discord.Embed] = []
    lines: list[str] = []
    first = 1
    for n, item in enumerate(digest.items, 1):
        text = item_text(n, item)
        if lines and len("\n\n".join([*lines, text])) > DESCRIPTION - 200:
            pages.append(_page(digest, lines, first, n - 1))
            lines, first = [], n
        lines.append(text)
    if lines or not pages:
        pages.append(_page(digest, lines or ["Nothing new today."], first, len(digest.items)))
    return pages


def _page(digest: Digest, lines: list[str], first: int, last: int) -> discord.Embed:
    title = f"New papers — {digest.date}" + (
        f" ({first}-{last} of {len(digest.items)})" if len(digest.items) > last or first > 1 else ""
    )
    embed = _embed(title, "\n\n".join(lines), COLOUR)
    embed.set_footer(text=f"{digest_marker(digest.date)} · react to a paper to teach the digest")
    return fit(embed) if len(embed) > TOTAL else embed


def subscription_embed(sub: Subscription) -> discord.Embed:
    p = sub.profile
    lines = [
        f"**When:** {sub.time} ({safe(sub.tz)}), up to {p.max_papers} papers",
        f"**Categories:** {safe(', '.join(p.categories) or 'any')}",
        f"**Authors:** {safe(clip(', '.join(p.authors), 600)) if p.authors is not None else 'the seed corpus authors'}",
        f"**Keywords:** {safe(', '.join(p.keywords) or 'none')}",
        f"**Leaving out:** {safe(', '.join(p.exclude_keywords) or 'nothing')}",
    ]
    if sub.paused:
        lines.append(f"**Paused:** {safe(sub.last_error or 'yes')} — subscribe again to resume")
    return _embed("Digest settings", "\n".join(lines), COLOUR)


_KEYCAPS = [
    "1\ufe0f\u20e3",
    "2\ufe0f\u20e3",
    "3\ufe0f\u20e3",
    "4\ufe0f\u20e3",
    "5\ufe0f\u20e3",
    "6\ufe0f\u20e3",
    "7\ufe0f\u20e3",
    "8\ufe0f\u20e3",
    "9\ufe0f\u20e3",
    "\U0001f51f",
]


def listed_arxiv_ids(description: str) -> list[str]:
    """The arXiv ids of a digest message's items, in order (from their abs links)."""
    return [
        part.split(")")[0].rsplit("/", 1)[-1] for part in description.split("](https://arxiv.org/abs/")[1:]
    ]


def reacted_item(emoji: str, count: int) -> int | None:
    """Which item a reaction names: a keycap number, or the only item; None otherwise."""
    if emoji in _KEYCAPS and _KEYCAPS.index(emoji) < count:
        return _KEYCAPS.index(emoji)
    return 0 if count == 1 else None
