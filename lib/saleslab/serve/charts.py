"""Interactive charts of the stakeholder pages: plotly ``FigureWidget`` (plotly.js ships in plotly's
wheel: the charts work with no internet). Drawing only: the frames come from
:class:`saleslab.serve.cube.CubeReader`; labels through :func:`saleslab.report.i18n.t`, money through
:func:`saleslab.report.format.fmt`; at most two colours of the run's palette."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..report import i18n
from ..report.format import fmt, money_unit

DEFAULT_COLOURS = ("#1f4e79", "#e07b39")
#: plotly_white's look in the few keys the charts use: naming the "plotly_white" template builds
#: plotly's whole template (every trace type: 0.2-0.3 s of a page's first render)
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "ticks": "",
         "automargin": True}
TEMPLATE = {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
                       "xaxis": _AXIS, "yaxis": _AXIS, "hovermode": "closest"}}
#: plotly.js options: the chart follows its box's width (phone to desktop), no plotly logo link
CONFIG = {"responsive": True, "displaylogo": False}
#: set by ``saleslab serve`` for its page kernels: the server path of plotly's widget JavaScript. Then a
#: figure's widget state carries a 300-byte module that imports it from there (the browser caches it)
#: instead of the 5 MB bundle itself; unset (JupyterLab, tests), the figure carries the bundle as usual
BUNDLE_ENV = "SALESLAB_PLOTLY_BUNDLE_URL"
_SHIM = """const url = new URL(%s, location.href).href;
const mod = await import(url);
export default mod.default;
"""


def bundle_path() -> Path:
    """plotly's widget JavaScript (in plotly's wheel: no internet needed)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"


def bundle_version() -> str:
    """plotly's version, without importing plotly (the server does not need it)."""
    from importlib.metadata import version

    return version("plotly")


def _plotly():
    """``plotly.graph_objects``, imported without jsonschema's optional IRI checker: plotly's widget
    imports nbformat, hence jsonschema, whose ``rfc3987_syntax`` compiles 38 grammars at import
    (measured 1.3 s of a page's first render, for a string format no page validates). Left alone
    when jsonschema is already imported (a server process that may use it)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # an ImportError for jsonschema: that checker is skipped
    import plotly.graph_objects as go

    return go


@lru_cache(maxsize=1)
def _figure_class():
    """``go.FigureWidget``, or under ``saleslab serve`` (:data:`BUNDLE_ENV`) its subclass whose
    JavaScript module imports the bundle by URL."""
    import json

    go = _plotly()
    url = os.environ.get(BUNDLE_ENV, "")
    if not url.startswith("/") or url.startswith("//"):
        return go.FigureWidget
    return type("FigureWidget", (go.FigureWidget,), {"_esm": _SHIM % json.dumps(url), "__module__": __name__})


def monthly_figure(lang: str, palette=None, title_key: str = "serve_trend_title", profit: bool = True,
                   css_class: str = "sl-trend"):
    """An empty monthly chart (bars: revenue; line: gross profit) with a range slider and zoom; fill it
    with :func:`draw_monthly`. Class ``css_class``. No fixed width: ``autosize`` with plotly.js's
    ``responsive`` option, so it takes its box's width (390 px phone or 1,400 px screen)."""
    colours = list(palette or DEFAULT_COLOURS)
    hover = "%{x|%Y-%m}: %{customdata}<extra></extra>"
    data = [{"type": "bar", "name": i18n.t("revenue", lang), "marker": {"color": colours[0]}, "hovertemplate": hover}]
    if profit:
        data.append({"type": "scatter", "name": i18n.t("gross_profit", lang), "mode": "lines+markers",
                     "line": {"color": colours[1 % len(colours)]}, "hovertemplate": hover})
    # one constructor call with plain dicts: 0.1 s, against 0.33 s for add_bar / add_scatter / update_layout
    fig = _figure_class()(data=data, layout={
        "title": {"text": i18n.t(title_key, lang), "font": {"size": 14}}, "height": 340, "autosize": True,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 10}, "showlegend": profit,
        "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        "xaxis": {"type": "date", "rangeslider": {"visible": True}, "tickformat": "%Y-%m"},
        "dragmode": "zoom", "template": TEMPLATE})
    fig._config = dict(CONFIG)
    fig.add_class(css_class)
    return fig


def draw_monthly(fig, monthly: pd.DataFrame, lang: str) -> None:
    """Put ``monthly`` (month, revenue[, gross_profit]) into a :func:`monthly_figure`: bars and line in
    the unit of the largest month (元 / 万元 / 亿元, CNY K / M / B: the axis title), hover texts
    through :func:`saleslab.report.format.fmt`."""
    x = [pd.Timestamp(m).strftime("%Y-%m-%d") for m in monthly["month"]]  # text: the widget sends JSON
    peak = float(monthly["revenue"].abs().max()) if len(monthly) else 0.0
    divisor, unit = money_unit(peak if peak == peak else 0.0, lang)  # the axis in the amounts' unit (万元, CNY M)
    with fig.batch_update():
        bar = fig.data[0]
        bar.x, bar.y = x, [round(float(v) / divisor, 4) for v in monthly["revenue"]]
        bar.customdata = [fmt(v, "money", lang) for v in monthly["revenue"]]
        if len(fig.data) > 1:
            line = fig.data[1]
            profit = monthly["gross_profit"] if "gross_profit" in monthly else pd.Series([None] * len(monthly))
            line.x, line.y = x, [None if pd.isna(v) else round(float(v) / divisor, 4) for v in profit]
            line.customdata = [fmt(v, "money", lang) for v in profit]
        fig.layout.yaxis.title = {"text": unit}
    _sync_state(fig)


def _sync_state(fig) -> None:
    """Put the figure's data into the widget's synced state too: plotly sends an update to the views
    that exist (a displayed figure) and refreshes that state only when the figure itself is displayed,
    not when it is a child of a box shown later (measured in Voila: an empty chart). Harmless for a
    figure already shown (the same data)."""
    import copy

    if hasattr(fig, "_widget_data"):
        fig._widget_data = copy.deepcopy(fig._data)
        fig._widget_layout = copy.deepcopy(fig._layout_obj._props)
