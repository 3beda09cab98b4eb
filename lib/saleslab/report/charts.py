"""Charts (matplotlib) with Chinese text rendered in a CJK font, at most 5 colours each.

matplotlib does not pick up a newly installed system font by itself: :func:`setup_fonts`
registers the first CJK font file it finds, puts its family first and turns off the Unicode
minus sign (which CJK fonts lack). Functions here draw; they never compute business figures.
"""

from __future__ import annotations

import glob
import os
from functools import lru_cache

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..config import DEFAULT_PALETTE
from ..errors import SalesLabError
from .i18n import t

#: Where Debian / Ubuntu packages put CJK fonts (fonts-wqy-microhei, fonts-noto-cjk, ...).
CJK_FONT_GLOBS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*.ttc",
    "/usr/share/fonts/**/*[Hh]ei*.tt[cf]",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


@lru_cache(maxsize=1)
def setup_fonts() -> str:
    """Register a CJK font with matplotlib and make it the default; return its family name."""
    env = os.environ.get("SALESLAB_CJK_FONT")
    candidates = [env] if env else []
    for pattern in CJK_FONT_GLOBS:
        candidates += sorted(glob.glob(pattern, recursive=True))
    for path in candidates:
        if path and os.path.exists(path):
            font_manager.fontManager.addfont(path)
            family = font_manager.FontProperties(fname=path).get_name()
            matplotlib.rcParams["font.sans-serif"] = [family, *matplotlib.rcParams["font.sans-serif"]]
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["axes.unicode_minus"] = False
            return family
    raise SalesLabError(
        "no CJK font found, Chinese labels would render as empty boxes. Install one "
        "(Debian/Ubuntu: apt-get install fonts-wqy-microhei; `make demo` does this) or set "
        "SALESLAB_CJK_FONT to a .ttf/.ttc file.")


def palette_colours(palette) -> list[str]:
    """The chart colours: the given palette (or the default), at most 5 (domain.md §12)."""
    return list(palette or DEFAULT_PALETTE)[:5]


def _tick(x: float) -> str:
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def money_ticks(ax, lang: str, which: str = "y", top: float | None = None) -> str:
    """Format a money axis (values in 元) in the run's units — 万元 / 亿元 in zh-CN, CNY K / M / B in
    English, chosen by the largest amount on it (``top``, else the data plotted so far) through
    :func:`saleslab.report.format.money_unit` — and return the unit for the axis label."""
    from .format import money_unit

    if top is None:
        lim = ax.dataLim
        ends = (lim.x0, lim.x1) if which == "x" else (lim.y0, lim.y1)
        top = max((abs(v) for v in ends if v == v and abs(v) != float("inf")), default=0.0)
    divisor, unit = money_unit(max(float(top), 1e4 if lang == "zh-CN" else 1e3), lang)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _: _tick(v / divisor)))
    return unit


def money_axis(ax, lang: str, label: str = "revenue", which: str = "y", top: float | None = None) -> str:
    """Label a money axis (values in 元): ``label``'s text with the unit (:func:`money_ticks`)."""
    unit = money_ticks(ax, lang, which, top)
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(f"{t(label, lang)} ({unit})")
    return unit


def share_bars(values, labels, title: str, palette=None, percent: bool = True):
    """Horizontal bars, one per label (e.g. coverage by channel); values in [0, 1] when ``percent``."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.2), dpi=110)
    ax.barh(list(labels), list(values), color=[colours[i % len(colours)] for i in range(len(labels))])
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlim(0, 1.05)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1%}" if percent else f" {v:,.0f}", va="center", fontsize=9)
    ax.set_title(title)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
