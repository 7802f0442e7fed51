"""Bar charts as PNG bytes (matplotlib, Agg backend: no display needed).

Transparent background and mid-grey text and axes, so one image reads in Discord's dark and
light themes alike.
"""

from __future__ import annotations

import io

from bot.trend import LibraryShape, Trend

BAR = "#5865F2"  # Discord's blurple: contrast on both themes
INK = "#8A8F98"
# Mid-tone colours that read on dark and light backgrounds alike.
PALETTE = ["#5865F2", "#57A773", "#E8A33D", "#D9534F", "#9B6FD6", "#8A8F98"]


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt, *plt.subplots(figsize=(width, height), dpi=120)


def _finish(plt, fig, ax, title: str, labels: list[str], rotate: bool) -> bytes:  # type: ignore[no-untyped-def]
    step = max(1, len(labels) // 12)  # at most ~12 labels
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45 if rotate else 0)
    ax.set_title(title, color=INK)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("bottom", "left"):
        ax.spines[side].set_color(INK)
    ax.tick_params(colors=INK)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", transparent=True)
    plt.close(fig)
    return out.getvalue()


def trend_png(trend: Trend, width: float = 8.0, height: float = 3.6) -> bytes:
    plt, fig, ax = _figure(width, height)
    try:
        ax.bar(range(len(trend.counts)), [c.n for c in trend.counts], color=BAR, width=0.8)
        title = f"Papers on “{trend.topic}” per {trend.by} ({trend.total})"
        return _finish(plt, fig, ax, title, [c.period for c in trend.counts], trend.by == "month")
    finally:
        plt.close(fig)


def library_png(shape: LibraryShape, width: float = 9.0, height: float = 4.0) -> bytes:
    """Stacked bars: papers per month, one colour per category."""
    plt, fig, ax = _figure(width, height)
    try:
        bottom = [0] * len(shape.periods)
        for colour, (name, counts) in zip(PALETTE, shape.series.items(), strict=False):
            ax.bar(range(len(counts)), counts, bottom=bottom, color=colour, width=0.85, label=name)
            bottom = [b + n for b, n in zip(bottom, counts, strict=True)]
        ax.set_ylim(top=max(bottom, default=1) * 1.25)  # room for the legend above the bars
        legend = ax.legend(frameon=False, fontsize=8, ncols=min(6, len(shape.series)), loc="upper left")
        for text in legend.get_texts():
            text.set_color(INK)
        title = f"The library by {shape.by} ({sum(bottom)} dated papers)"
        return _finish(plt, fig, ax, title, shape.periods, shape.by == "month")
    finally:
        plt.close(fig)
