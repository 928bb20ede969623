"""The weekly recap's chart: the week's days as grouped bars (papers posted, the team's likes,
dislikes and saves), drawn headless with matplotlib's object API (a `Figure` on the Agg
canvas, never pyplot's global state). matplotlib is the optional extra `paperwire[charts]`,
imported only here and only when a chart is drawn: without it the recap goes as text."""

from __future__ import annotations

import io
import warnings
from typing import Any

from bot.digests.recap import Recap
from bot.models import scrub_text

WIDTH_PX, HEIGHT_PX, DPI = 1200, 675, 150  # 16:9, sharp in Slack's and Discord's previews
SUBTITLE_CHARS = 80

# Okabe-Ito: told apart with any colour vision; the papers' bars in a neutral grey.
SERIES = (
    ("papers", "Papers posted", "#9E9E9E"),
    ("likes", "More like this", "#0072B2"),
    ("dislikes", "Not for us", "#D55E00"),
    ("saves", "Saved", "#009E73"),
)
INK, MUTED, GRID = "#222222", "#555555", "#E6E6E6"


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw_week(recap: Recap) -> bytes | None:
    """The week's chart as PNG bytes (WIDTH_PX x HEIGHT_PX), None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.07, 0.14, 0.91, 0.62))
    width = 0.2
    for index, (name, label, colour) in enumerate(SERIES):
        offset = (index - (len(SERIES) - 1) / 2) * width
        values = [int(getattr(day, name)) for day in recap.days]
        spots = [n + offset for n in range(len(values))]
        bars = axes.bar(spots, values, width * 0.92, color=colour, label=label, zorder=2)
        shown = [str(v) if v else "" for v in values]
        axes.bar_label(bars, labels=shown, padding=2, fontsize=7, color=MUTED)
    for number, tally in enumerate(recap.days):
        if not tally.papers:  # a day without a digest, said rather than left blank
            axes.text(number, 0.1, "no papers", ha="center", fontsize=7.5, color="#8A8A8A")
    _style(axes, recap, MaxNLocator)
    _titles(figure, recap)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph missing from the font: drawn as a box
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _style(axes: Any, recap: Recap, locator: Any) -> None:
    labels = [f"{tally.day:%a}\n{tally.day.day} {tally.day:%b}" for tally in recap.days]
    axes.set_xticks(range(len(labels)), labels, fontsize=8, color=INK)
    axes.yaxis.set_major_locator(locator(integer=True))
    highest = max(int(getattr(day, name)) for day in recap.days for name, _, _ in SERIES)
    axes.set_ylim(0, max(1, highest) * 1.15)
    axes.tick_params(axis="y", labelsize=8, colors=MUTED, length=0)
    axes.tick_params(axis="x", length=0)
    axes.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color("#BBBBBB")
    axes.legend(
        loc="upper right",
        bbox_to_anchor=(1.0, 1.16),
        ncols=len(SERIES),
        frameon=False,
        fontsize=8,
        handlelength=1.0,
        columnspacing=1.2,
    )


def _titles(figure: Any, recap: Recap) -> None:
    # parse_math=False: a `$` in a channel's name or a paper's title is only a dollar.
    figure.text(
        0.07,
        0.93,
        _clean(recap.title, 90),
        fontsize=14,
        fontweight="bold",
        color=INK,
        parse_math=False,
    )
    top = recap.top
    numbers = (
        f"{len(recap.papers)} papers · {recap.total('likes')} likes ·"
        f" {recap.total('dislikes')} dislikes · {recap.total('saves')} saves"
    )
    figure.text(0.07, 0.87, numbers, fontsize=9, color=MUTED, parse_math=False)
    if top is not None:
        counts = f"{top.saves} saves, {top.likes} likes"
        line = f"Top paper: {_clean(top.paper.title, SUBTITLE_CHARS)} ({counts})"
        figure.text(0.07, 0.03, line, fontsize=8.5, color=INK, style="italic", parse_math=False)


def _clean(text: str, limit: int) -> str:
    """One line of at most `limit` characters, without controls."""
    line = " ".join(scrub_text(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
