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
from bot.wording import plural

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
LEFT = 0.07  # the texts' left edge, as a fraction of the width


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
    with warnings.catch_warnings():
        # A character the font lacks (CJK, emoji) is drawn as a box: no need to say so.
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(figure)
        axes = figure.add_axes((LEFT, 0.14, 0.91, 0.62))
        _bars(axes, recap)
        _mark_top(axes, recap)
        _style(axes, recap, MaxNLocator)
        _titles(figure, recap)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _bars(axes: Any, recap: Recap) -> None:
    """Per day, a group of bars: one per series, each labelled with its value."""
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
            axes.annotate(
                "no papers",
                (number, 0),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                fontsize=7.5,
                color="#8A8A8A",
            )


def _style(axes: Any, recap: Recap, locator: Any) -> None:
    labels = [f"{tally.day:%a}\n{tally.day.day} {tally.day:%b}" for tally in recap.days]
    axes.set_xticks(range(len(labels)), labels, fontsize=8, color=INK)
    axes.yaxis.set_major_locator(locator(integer=True))
    highest = max(int(getattr(day, name)) for day in recap.days for name, _, _ in SERIES)
    axes.set_ylim(0, max(1, highest) * 1.25)
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


def _mark_top(axes: Any, recap: Recap) -> None:
    """A star over the day the week's top paper came."""
    top = recap.top
    if top is None or top.day is None or not (top.saves or top.likes):
        return
    index = [tally.day for tally in recap.days].index(top.day)
    tally = recap.days[index]
    height = max(int(getattr(tally, name)) for name, _, _ in SERIES)
    axes.annotate(
        "\u2605 top paper",
        (index, height),
        xytext=(0, 14),
        textcoords="offset points",
        ha="center",
        fontsize=8,
        fontweight="bold",
        color=INK,
    )


def _titles(figure: Any, recap: Recap) -> None:
    # parse_math=False: a `$` in a channel's name or a paper's title is only a dollar.
    title = figure.text(
        LEFT, 0.93, _clean(recap.title, 90), fontsize=14, fontweight="bold", color=INK
    )
    numbers = " · ".join(
        plural(count, noun)
        for count, noun in (
            (len(recap.papers), "paper"),
            (recap.total("likes"), "like"),
            (recap.total("dislikes"), "dislike"),
            (recap.total("saves"), "save"),
        )
    )
    figure.text(LEFT, 0.87, numbers, fontsize=9, color=MUTED, parse_math=False)
    _fit_width(figure, title)
    top = recap.top
    if top is not None:
        counts = f"{plural(top.saves, 'save')}, {plural(top.likes, 'like')}"
        line = f"Top paper: {_clean(top.paper.title, SUBTITLE_CHARS)} ({counts})"
        bottom = figure.text(LEFT, 0.03, line, fontsize=8.5, color=INK, style="italic")
        _fit_width(figure, bottom)


def _fit_width(figure: Any, text: Any) -> None:
    """Shrink `text` until it fits the figure's width (a long name or title), down to 70%
    of its size; past that it is cut short."""
    text.set_parse_math(False)
    renderer = figure.canvas.get_renderer()
    room = figure.bbox.width * (1 - 2 * LEFT + 0.04)
    smallest = text.get_fontsize() * 0.7
    while text.get_window_extent(renderer).width > room and text.get_fontsize() > smallest:
        text.set_fontsize(text.get_fontsize() - 0.5)
    while text.get_window_extent(renderer).width > room and len(text.get_text()) > 10:
        text.set_text(text.get_text()[:-2].rstrip() + "…")


def _clean(text: str, limit: int) -> str:
    """One line of at most `limit` characters, without controls."""
    line = " ".join(scrub_text(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
