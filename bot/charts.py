"""Bar charts as PNG bytes (matplotlib, Agg backend: no display needed).

Transparent background and mid-grey text and axes, so one image reads in Discord's dark and
light themes alike.
"""

from __future__ import annotations

import io

from bot.trend import Trend

BAR = "#5865F2"  # Discord's blurple: contrast on both themes
INK = "#8A8F98"


def trend_png(trend: Trend, width: float = 8.0, height: float = 3.6) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    periods = [c.period for c in trend.counts]
    values = [c.n for c in trend.counts]
    fig, ax = plt.subplots(figsize=(width, height), dpi=120)
    try:
        ax.bar(range(len(values)), values, color=BAR, width=0.8)
        step = max(1, len(periods) // 12)  # at most ~12 labels
        ax.set_xticks(
            range(0, len(periods), step), periods[::step], rotation=45 if trend.by == "month" else 0
        )
        ax.set_title(f"Papers on “{trend.topic}” per {trend.by} ({trend.total})", color=INK)
        ax.yaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("bottom", "left"):
            ax.spines[side].set_color(INK)
        ax.tick_params(colors=INK)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", transparent=True)
        return out.getvalue()
    finally:
        plt.close(fig)
