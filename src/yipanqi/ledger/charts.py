"""Charts for the periodic bulletin (定期通报), drawn with matplotlib into PNG bytes.

Only the object-oriented API is used: every chart is its own ``Figure`` on an Agg canvas (``FigureCanvasAgg``),
never pyplot and its global current figure, and no ``rcParams`` are changed. Matplotlib does not promise that
drawing in several threads at once is safe (its font cache and text layout are shared), so drawing is serialised
by a module lock; a chart takes a few tenths of a second.

Chinese text is set in Noto Sans CJK SC from Debian's ``fonts-noto-cjk``. ``cjk_font`` finds it through
matplotlib's font manager (the SC face of ``NotoSansCJK-Regular.ttc``), then through fontconfig, and raises
``FontMissing`` with what to install when neither knows it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

if TYPE_CHECKING:
    from .documents import AgencyRow, CountRow, TrendPoint

SANS_FAMILY = "Noto Sans CJK SC"
SERIF_FAMILY = "Noto Serif CJK SC"
DEBIAN_FONT_FILES = {
    SANS_FAMILY: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    SERIF_FAMILY: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
}
LIGHT_COLOURS = {  # fill colours of the lights (三色督办), also used by the documents
    "red": "#d9363e",
    "yellow": "#e6a23c",
    "blue": "#2f6fd6",
    "green": "#3a9a4b",
    "done": "#8c8c8c",
}
NEUTRAL = "#4e6e8e"
DPI = 200
WIDTH_IN = 6.2  # fits the 156 mm type area of an A4 official document (GB/T 9704)
TOP_AGENCIES = 15

_LOCK = threading.Lock()


class FontMissing(RuntimeError):
    """A font the bulletin needs is not installed."""


def _fontconfig_file(family: str) -> str | None:
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    try:
        # A fixed program found on PATH, the family name as one argument, no shell.
        found = subprocess.run(  # noqa: S603
            [fc_match, "--format=%{family}\t%{file}", family], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families, _sep, path = found.partition("\t")
    return path if family in families.split(",") and path else None


@cache
def cjk_font(family: str = SANS_FAMILY) -> str:
    """The file holding ``family`` (e.g. "Noto Sans CJK SC"), registered with matplotlib's font manager.

    Raises ``FontMissing`` when the font is installed nowhere matplotlib or fontconfig can see.
    """
    for entry in font_manager.fontManager.ttflist:
        if entry.name == family:
            return entry.fname
    # Installed after matplotlib built its font cache, or in a directory it does not scan: register the file.
    for path in (_fontconfig_file(family), DEBIAN_FONT_FILES.get(family)):
        if path and Path(path).is_file():
            font_manager.fontManager.addfont(path)
            for entry in font_manager.fontManager.ttflist:
                if entry.name == family:
                    return entry.fname
    raise FontMissing(
        f"The font {family!r} is not installed; the bulletin needs Noto CJK (Debian: apt-get install fonts-noto-cjk)."
    )


def _figure(height_in: float) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # explicitly Agg, whatever backend pyplot might have chosen
    return figure


def _style(ax, family: str) -> None:
    ax.tick_params(labelfontfamily=family, labelsize=8, length=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _no_data(ax, family: str) -> None:
    ax.text(0.5, 0.5, _("No data"), ha="center", va="center", fontfamily=family, fontsize=10, color="#888888")
    ax.set_axis_off()


def _count_bars(ax, rows: Sequence[CountRow], family: str, colours: Sequence[str], title: str) -> None:
    ax.set_title(title, fontfamily=family, fontsize=10)
    if not rows or not any(row.count for row in rows):
        _no_data(ax, family)
        return
    positions = range(len(rows))
    bars = ax.barh(positions, [row.count for row in rows], color=colours, height=0.6)
    ax.set_yticks(list(positions), [str(row.label) for row in rows])
    ax.invert_yaxis()
    ax.bar_label(bars, [str(row.count) for row in rows], padding=3, fontsize=8, fontfamily=family)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_xlim(0, max(row.count for row in rows) * 1.18)
    ax.set_xlabel(_("Number of measures"), fontfamily=family, fontsize=8)
    _style(ax, family)


def lights_chart(lights: Sequence[CountRow], categories: Sequence[CountRow] = ()) -> bytes:
    """Measures by light (coloured by ``CountRow.key``), and by project category beside it when given."""
    family = SANS_FAMILY
    cjk_font(family)
    with _LOCK:
        figure = _figure(2.4)
        if categories:
            left, right = figure.subplots(1, 2)
        else:
            left, right = figure.subplots(1, 1), None
        _count_bars(
            left, lights, family, [LIGHT_COLOURS.get(row.key, NEUTRAL) for row in lights], _("Measures by light")
        )
        if right is not None:
            _count_bars(right, categories, family, [NEUTRAL] * len(categories), _("Measures by category"))
        return _png(figure)


def agency_progress_chart(agencies: Sequence[AgencyRow], top: int = TOP_AGENCIES) -> bytes:
    """The average progress of the first ``top`` agencies of the ranking (best first, at the top)."""
    family = SANS_FAMILY
    cjk_font(family)
    rows = list(agencies[:top])
    with _LOCK:
        figure = _figure(0.9 + 0.26 * max(len(rows), 3))
        ax = figure.subplots()
        if not rows:
            _no_data(ax, family)
            return _png(figure)
        positions = range(len(rows))
        bars = ax.barh(positions, [row.progress for row in rows], color=NEUTRAL, height=0.6)
        ax.set_yticks(list(positions), [f"{row.rank}. {row.agency}" for row in rows])
        ax.invert_yaxis()
        ax.bar_label(bars, [f"{row.progress}%" for row in rows], padding=3, fontsize=8, fontfamily=family)
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel(_("Average progress of the agency's shares"), fontfamily=family, fontsize=8)
        _style(ax, family)
        return _png(figure)


def trend_chart(trend: Sequence[TrendPoint]) -> bytes:
    """Over the period: closed measures (cumulative) and average progress above, reports filed per day below."""
    family = SANS_FAMILY
    cjk_font(family)
    points = sorted(trend, key=lambda point: point.day)
    with _LOCK:
        figure = _figure(3.6)
        if not points:
            _no_data(figure.subplots(), family)
            return _png(figure)
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        days = [point.day for point in points]
        closed_line = top.plot(
            days, [p.closed_total for p in points], color=LIGHT_COLOURS["green"], marker="o", markersize=2.5
        )
        top.set_ylabel(_("Closed measures (cumulative)"), fontfamily=family, fontsize=8)
        top.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        progress_axis = top.twinx()
        progress_line = progress_axis.plot(
            days, [p.progress for p in points], color=LIGHT_COLOURS["blue"], linestyle="--", linewidth=1.2
        )
        progress_axis.set_ylim(0, 100)
        progress_axis.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        progress_axis.set_ylabel(_("Average progress"), fontfamily=family, fontsize=8)
        progress_axis.tick_params(labelfontfamily=family, labelsize=8, length=2)
        top.legend(
            closed_line + progress_line,
            [_("Closed measures (cumulative)"), _("Average progress")],
            prop=font_manager.FontProperties(family=family, size=8),
            loc="upper left",
            frameon=False,
        )
        _style(top, family)
        top.spines["right"].set_visible(True)
        bottom.bar(days, [p.reports for p in points], color=NEUTRAL, width=0.7)
        bottom.set_ylabel(_("Reports filed"), fontfamily=family, fontsize=8)
        bottom.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        _style(bottom, family)
        bottom.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=8))
        bottom.xaxis.set_major_formatter(DateFormatter("%m-%d"))  # "10-05": short, the same in every language
        return _png(figure)
