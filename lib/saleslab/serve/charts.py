"""Interactive charts of the stakeholder pages: a small anywidget drawn by plotly.js (:func:`_chart_class`;
plotly.js comes from plotly's wheel or the npm registry at install time: the charts work with no
internet, and the page kernels never import plotly's Python package). Drawing only: the frames come from
:class:`saleslab.serve.cube.CubeReader`; labels through :func:`saleslab.report.i18n.t`, money through
:func:`saleslab.report.format.fmt`; at most two colours of the run's palette."""

from __future__ import annotations

import copy
import json
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
#: plotly.js's partial bundle with the two trace types the pages draw (bar, scatter: 1.2 MB against
#: the full 4.8 MB; measured in this Chromium: 0.3 s to load and compile against 1.2 s). ``make install``
#: fetches it from the npm registry (``scripts/fetch-plotly-basic.py``, integrity checked) into
#: ``<venv>/share/saleslab``; without it the charts use the full plotly.js of plotly's wheel.
PLOTLY_BASIC = {"package": "plotly.js-basic-dist-min", "version": "4.1.1", "file": "plotly-basic.min.js",
                "integrity": "sha512-1oNF8PeQx2hv/y7tqEVWKD3JGwn/MGEMQ8mL9HUwsaqG9FGy/OU5FHUHvzqbqxN4mnwZGI9abTiE775C4kkjMQ=="}
#: set by ``saleslab serve`` for its page kernels: the server path of plotly.js (:func:`bundle_name`).
#: Then a chart's widget module loads it from there (the browser caches it) instead of carrying it in
#: the widget state; unset (JupyterLab, tests), the module carries plotly.js itself
BUNDLE_ENV = "SALESLAB_PLOTLY_BUNDLE_URL"
#: the chart's front end (an anywidget module): plotly.js draws the ``figure`` trait at its box's width
#: and draws it again when the kernel changes it or the box's width changes. Zoom, pan and the range
#: slider are plotly.js's own (no round trip).
_RENDER = """
function plotly() {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  return load().then(() => globalThis.Plotly);
}
export default {
  async render({ model, el }) {
    const Plotly = await plotly();
    // drawn once the element has its width (a view is rendered before the page shows it: plotly.js
    // would take its 700 px default), redrawn at the box's width whenever that changes (phone turned,
    // window resized), drawn again when the kernel sends a new figure
    let drawn = false;
    const sized = () => el.getBoundingClientRect().width > 0;
    const draw = () => {
      const f = model.get("figure") || {};
      drawn = true;
      Plotly.react(el, f.data || [], f.layout || {}, f.config || {});
    };
    const resized = new ResizeObserver(() => {
      if (!sized()) return;
      if (drawn) Plotly.Plots.resize(el); else draw();
    });
    resized.observe(el);
    if (sized()) draw();
    const changed = () => { if (sized()) draw(); else drawn = false; };
    model.on("change:figure", changed);
    return () => { resized.disconnect(); model.off("change:figure", changed); Plotly.purge(el); };
  }
};
"""
#: served: plotly.js is a classic script (UMD: it sets ``window.Plotly``), loaded once per page
_LOAD_URL = """const url = new URL(%s, location.href).href;
function load() {
  globalThis.__saleslabPlotly = globalThis.__saleslabPlotly || new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url; s.onload = resolve; s.onerror = () => reject(new Error("plotly.js did not load: " + url));
    document.head.appendChild(s);
  });
  return globalThis.__saleslabPlotly;
}
"""
#: not served: plotly.js inside the module (it sets ``self.Plotly`` as it runs)
_LOAD_INLINE = "function load() { return Promise.resolve(); }\n"


def basic_bundle_path() -> Path:
    """Where ``make install`` puts :data:`PLOTLY_BASIC` (inside the environment, not the source tree)."""
    return Path(sys.prefix) / "share" / "saleslab" / f"plotly-basic-{PLOTLY_BASIC['version']}.min.js"


def bundle_path() -> Path:
    """plotly.js for the charts: the partial bundle when installed, else the full one in plotly's wheel
    (no internet needed either way)."""
    basic = basic_bundle_path()
    if basic.is_file():
        return basic
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def bundle_name() -> str:
    """The served file's name, naming what it is and its version (the browser caches it for good)."""
    if basic_bundle_path().is_file():
        return f"plotly-basic-{PLOTLY_BASIC['version']}"
    from importlib.metadata import version

    return f"plotly-full-{version('plotly')}"


@lru_cache(maxsize=1)
def _chart_class():
    """The chart widget: an anywidget whose ``figure`` trait is plotly's JSON (data, layout, config);
    its module loads plotly.js by URL under ``saleslab serve`` (:data:`BUNDLE_ENV`), else carries it."""
    import anywidget
    import traitlets

    url = os.environ.get(BUNDLE_ENV, "")
    if url.startswith("/") and not url.startswith("//"):
        esm = _LOAD_URL % json.dumps(url) + _RENDER
    else:
        esm = bundle_path().read_text(encoding="utf-8") + "\n" + _LOAD_INLINE + _RENDER

    return type("Chart", (anywidget.AnyWidget,), {"_esm": esm, "figure": traitlets.Dict().tag(sync=True),
                                                  "__module__": __name__})


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
    chart = _chart_class()(figure={"data": data, "layout": {
        "title": {"text": i18n.t(title_key, lang), "font": {"size": 14}}, "height": 340, "autosize": True,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 10}, "showlegend": profit,
        "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        "xaxis": {"type": "date", "rangeslider": {"visible": True}, "tickformat": "%Y-%m"},
        "dragmode": "zoom", "template": TEMPLATE}, "config": dict(CONFIG)})
    chart.add_class(css_class)
    return chart


def draw_monthly(chart, monthly: pd.DataFrame, lang: str) -> None:
    """Put ``monthly`` (month, revenue[, gross_profit]) into a :func:`monthly_figure`: bars and line in
    the unit of the largest month (元 / 万元 / 亿元, CNY K / M / B: the axis title), hover texts
    through :func:`saleslab.report.format.fmt`. One new ``figure`` value: one message to the browser."""
    x = [pd.Timestamp(m).strftime("%Y-%m-%d") for m in monthly["month"]]  # text: the widget sends JSON
    peak = float(monthly["revenue"].abs().max()) if len(monthly) else 0.0
    divisor, unit = money_unit(peak if peak == peak else 0.0, lang)  # the axis in the amounts' unit (万元, CNY M)
    figure = copy.deepcopy(chart.figure)
    bar = figure["data"][0]
    bar["x"], bar["y"] = x, [round(float(v) / divisor, 4) for v in monthly["revenue"]]
    bar["customdata"] = [fmt(v, "money", lang) for v in monthly["revenue"]]
    if len(figure["data"]) > 1:
        line = figure["data"][1]
        profit = monthly["gross_profit"] if "gross_profit" in monthly else pd.Series([None] * len(monthly))
        line["x"], line["y"] = x, [None if pd.isna(v) else round(float(v) / divisor, 4) for v in profit]
        line["customdata"] = [fmt(v, "money", lang) for v in profit]
    figure["layout"]["yaxis"] = {"title": {"text": unit}}
    chart.figure = figure
