"""Pure builders for the team's messages: reading lists, /top, watch batches, new versions."""

from __future__ import annotations

import discord

from bot.discord.embeds import COLOUR, DESCRIPTION, PER_PAGE, _embed, _link, clip, fit, safe
from bot.models import Paper
from bot.reading_list import NewVersion, SavedPaper
from bot.watches import Watch, WatchBatch


def reading_list_pages(entries: list[SavedPaper], per_page: int = PER_PAGE) -> list[discord.Embed]:
    """Who saved what, when: numbered entries, ten to a page (mentions in embeds never ping)."""
    title = f"Reading list ({len(entries)})"
    if not entries:
        return [
            _embed(
                title,
                "Nothing saved here yet: /save a paper, or react 🔖 to a card, an answer or a digest item.",
            )
        ]
    lines = []
    for n, e in enumerate(entries, 1):
        url = e.paper.links.get("abs") or next(iter(e.paper.links.values()), "")
        who = f"<@{e.user}>" if e.user else "someone"
        lines.append(f"**{n}.** {_link(e.paper.label, url, 200)} — saved by {who} on {e.saved_at[:10]}")
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    pages = [_embed(title, "\n".join(chunk)) for chunk in chunks]
    for i, page in enumerate(pages, 1):
        page.set_footer(text=f"Page {i}/{len(pages)} · /reading-list export:bib or export:md for a file")
    return [fit(page) for page in pages]


def top_embed(period: str, ranked: list[tuple[Paper, int]]) -> discord.Embed:
    title = {"week": "Most voted this week", "month": "Most voted this month"}.get(period, "Most voted")
    if not ranked:
        return _embed(title, "No votes yet: react 👍 or ⭐ to a card, an answer or a digest item.")
    lines = [
        f"**{n}.** {_link(p.label, p.links.get('abs') or next(iter(p.links.values()), ''), 200)} — {votes} vote{'s' if votes > 1 else ''}"
        for n, (p, votes) in enumerate(ranked, 1)
    ]
    return fit(_embed(title, clip("\n".join(lines), DESCRIPTION)))


def watches_embed(watches: list[Watch]) -> discord.Embed:
    if not watches:
        return _embed("Your watches", 'None yet: /watch add query:"offline RL".')
    lines = [
        f"`{w.id}` {safe(clip(w.query, 200))}"
        + (f" · by {safe(clip(w.author, 100))}" if w.author else "")
        + f" · {w.time} {safe(w.tz)}"
        for w in watches
    ]
    return fit(_embed("Your watches", "\n".join(lines)))


def watch_batch_embed(batch: WatchBatch) -> discord.Embed:
    lines = []
    for n, item in enumerate(batch.items, 1):
        url = item.links.get("abs") or next(iter(item.links.values()), "")
        authors = ", ".join(item.authors[:3]) + (" et al." if len(item.authors) > 3 else "")
        lines.append(
            f"**{n}.** {_link(item.title, url, 200)} — {safe(clip(authors, 120))} ({item.date or 'undated'})\n*{safe(clip(item.reason, 200))}*"
        )
    embed = _embed(
        f"New papers for your watches — {batch.date}", clip("\n\n".join(lines), DESCRIPTION), COLOUR
    )
    embed.set_footer(text="/watch list shows your watches; /watch remove stops one")
    return fit(embed)


def new_version_embed(change: NewVersion) -> discord.Embed:
    p = change.paper
    url = p.links.get("abs") or next(iter(p.links.values()), "")
    parts = [f"A paper on this channel's reading list has a new arXiv version (v{p.version})."]
    if change.added:
        parts.append(
            "**New in the abstract:**\n" + "\n".join(f"> {safe(clip(s, 400))}" for s in change.added[:4])
        )
    if change.removed:
        parts.append(
            "**No longer in it:**\n" + "\n".join(f"> {safe(clip(s, 300))}" for s in change.removed[:3])
        )
    if not (change.added or change.removed):
        parts.append("The abstract did not change.")
    return fit(
        _embed(clip(safe(p.label), 256), clip("\n\n".join(parts), DESCRIPTION), COLOUR, url=url or None)
    )
