"""The sales dashboard: filters, headline figures, a monthly trend and a drill-down table, per user.

Every figure comes from the run's precomputed cubes through the engine
(:class:`saleslab.serve.cube.CubeReader`: the user's rows only), never from the order lines; names
of reps and customers come from the warehouse through the engine at view time (masked for roles
without the right to personal data). Widgets (ipywidgets, and the chart of
:mod:`saleslab.serve.charts`: plotly.js from this server, so the page works offline) carry the classes the browser tests read:

- ``.sl-page`` (root), ``.sl-user``, ``.sl-view-as`` (management only);
- filters ``.sl-filter-period-start|period-end|region|channel|category|product|team`` (Dropdowns,
  first option = all; a product within the chosen category);
- KPI cards ``<span class="sl-kpi" data-key=... data-value=...>`` for revenue, gross_profit,
  gross_margin, orders, active_customers (names and formats as the report pack's);
- ``.sl-trend`` (monthly revenue and gross profit; zoom by dragging, range slider);
- ``.sl-breadcrumb`` with ``.sl-crumb`` buttons, the table ``.sl-drill.sl-table`` with one
  ``.sl-drill-row`` per row (a button one level down; at customer level a link to the 360 page)
  and cells ``<td data-key=... data-value=...>``; header buttons ``.sl-sort-<column>``.

Filters combine with the drill-down path (region → team → rep → customer); the figures, the trend
and the table all follow both. Every filter change and drill step is an audit entry.
"""

from __future__ import annotations

import datetime as dt
import html
import urllib.parse

import ipywidgets as w
import pandas as pd

from ..report import glossary, i18n
from ..report.format import fmt
from . import charts
from .cube import LEVELS, UNKNOWN, CubeReader, Filters
from .page import close_widgets, guarded, switch_view, view_as_dropdown

#: KPI cards and table columns: (key, formatter kind)
FIGURES = (("revenue", "money"), ("gross_profit", "money"), ("gross_margin", "percent"), ("orders", "count"),
           ("active_customers", "count"))
FILTERS = ("region", "channel", "category", "product", "team")
DEFAULT_MAX_ROWS = 100
_CSS = """<style>
.sl-page{max-width:1400px;box-sizing:border-box;min-width:0}
.sl-page > *{max-width:100%;min-width:0}
.sl-kpis{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
.sl-kpi-card{box-sizing:border-box;border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:140px;flex:1 1 140px}
.sl-kpi-card .sl-kpi-name{font-size:12px;color:#57606a}
.sl-kpi{font-size:20px;font-weight:600}
.sl-table-box{overflow-x:auto !important;overflow-y:hidden;-webkit-overflow-scrolling:touch}
.sl-table{width:max-content !important;min-width:100%;flex:0 0 auto}
.sl-table .sl-table-head,.sl-table .sl-drill-line{width:max-content !important;flex:0 0 auto}
.sl-table .sl-table-head > *,.sl-table .sl-drill-line > *{flex:0 0 auto !important}
.sl-row{border-collapse:collapse;table-layout:fixed}
.sl-row td{width:122px;min-width:122px;max-width:122px;box-sizing:border-box;text-align:right;padding:0 10px 0 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sl-drill .widget-button{text-align:left}
.sl-trend,.sl-history{width:100% !important;max-width:100%;min-width:0}
.sl-profile th,.sl-facts th{text-align:left;padding-right:16px;font-weight:600}
.sl-customer-link{display:inline-block;width:214px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
@media (max-width:600px){.sl-filters .widget-dropdown{min-width:0 !important;width:100% !important}
 .sl-filters .widget-dropdown > select{min-width:0;flex:1 1 auto}}
</style>"""


def data_value(value, kind: str) -> str:
    """The raw number of a figure for ``data-value``: money to the cent, counts as integers, shares
    as fractions with 6 decimals; empty when not meaningful."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if kind == "money":
        return f"{float(value):.2f}"
    if kind == "count":
        return str(int(value))
    return f"{float(value):.6f}"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _classed(widget, *classes):
    for c in classes:
        widget.add_class(c)
    return widget


class Dashboard:
    """The dashboard of a :class:`saleslab.serve.page.Page` (``.widget`` is the root box).

    ``start`` / ``end``: the first and last month shown (default: the year to date of the run's
    last month); ``region`` ... ``team``: initial filters (codes, "" = all); ``max_rows``: rows of
    the drill-down table (the largest first; the rest counted under the table)."""

    def __init__(self, pg, start: str = "", end: str = "", region: str = "", channel: str = "", category: str = "",
                 product: str = "", team: str = "", max_rows: int = DEFAULT_MAX_ROWS):
        self.root_page = pg
        self.max_rows = max_rows
        self.widget = _classed(w.VBox(), "sl-page", "sl-dashboard")
        self._initial = dict(start=start, end=end, region=region, channel=channel, category=category,
                             product=product, team=team)
        self._open(pg)

    # ---- building ------------------------------------------------------------------------------
    def _guard(self, callback):
        """``callback`` for a widget: a failure shows one line in the page's message, not a traceback."""
        return guarded(callback, self._fail, self.lang)

    def _fail(self, text: str) -> None:
        self.message.value = f'<p class="sl-error">{_e(text)}</p>'

    def _open(self, pg) -> None:
        old = list(self.widget.children)
        self.pg = pg
        self.lang = pg.lang
        self.reader = CubeReader(pg.engine)
        self.path: list[tuple[str, str]] = []
        self.sort = ("revenue", True)
        self._busy = False
        self._names: dict[str, dict[str, str]] = {}
        months = self.reader.months()
        self.months = months
        last = months[-1]
        start = self._initial["start"] or dt.date(last.year, 1, 1).isoformat()
        end = self._initial["end"] or last.isoformat()
        t = pg.t
        month_opts = [(fmt(m, "month", self.lang), m.isoformat()) for m in months]
        self.period_start = self._dropdown("period-start", t("serve_period_start"), month_opts, _nearest(start, months))
        self.period_end = self._dropdown("period-end", t("serve_period_end"), month_opts, _nearest(end, months))
        self.filters = {}
        offered = self.reader.options()
        for key in FILTERS:
            opts = [(t("serve_all"), "")] + [(self._label(key, v), v) for v in offered.get(key, [])]
            value = self._initial.get(key) or ""
            if value not in [v for _, v in opts]:
                value = ""
            self.filters[key] = self._dropdown(key, t(f"serve_filter_{key}"), opts, value)
        self._set_products(self.filters["category"].value, keep=self._initial.get("product") or "")
        for dd in (self.period_start, self.period_end, *self.filters.values()):
            dd.observe(self._guard(self._on_filter), names="value")
        self.user_line = _classed(w.HTML(f"<span>{_e(pg.who())}</span>"), "sl-user")
        head = [w.HTML(f"{_CSS}<h2 class='sl-title'>{_e(t('serve_dashboard_title'))}</h2>"), self.user_line]
        top = self.root_page
        if top.can_view_as:
            self.view_as = view_as_dropdown(pg, top, self._guard(self._on_view_as))
            head.append(self.view_as)
        self.message = w.HTML("")
        self.kpis = _classed(w.HTML(), "sl-kpis-box")
        self.trend = self._figure()
        self.breadcrumb = _classed(w.HBox(), "sl-breadcrumb")
        self.table = _classed(w.VBox(), "sl-drill", "sl-table")
        self.table_note = w.HTML("")
        meta = self.reader.meta
        foot = w.HTML(f"<small>{_e(t('serve_data_as_of', start=meta['period'][0], end=meta['period'][1], run=pg.run_dir.name))}"
                      f" · {_e(t('serve_drill_hint'))}</small>")
        filters = _classed(w.Box([self.period_start, self.period_end, *self.filters.values()],
                                 layout=w.Layout(display="flex", flex_flow="row wrap")), "sl-filters")
        table_box = _classed(w.Box([self.table], layout=w.Layout(overflow_x="auto", width="100%")), "sl-table-box")
        self.widget.children = [*head, filters, self.message, self.kpis, self.trend, self.breadcrumb, table_box,
                                self.table_note, foot]
        close_widgets(old)  # the previous user's page (view as): its widgets live on in the kernel otherwise
        self.refresh(first=True)

    def _dropdown(self, name: str, label: str, options, value):
        dd = w.Dropdown(options=options, value=value, description=label,
                        layout=w.Layout(width="auto", min_width="210px", margin="2px 8px 2px 0"),
                        style={"description_width": "initial"})
        return _classed(dd, f"sl-filter-{name}")

    def _label(self, level: str, value: str) -> str:
        """A code as people read it: regions and channels by their labels, reps and customers by name."""
        if value == UNKNOWN or value is None:
            return i18n.t("unknown", self.lang)
        if level in ("region", "channel"):
            return i18n.t(value, self.lang) if i18n.has(value) else value
        if level in ("rep_id", "customer_id", "product"):
            return self._name_of(level, [value]).get(value) or value
        return value

    def _name_of(self, level: str, ids) -> dict[str, str]:
        known = self._names.setdefault(level, {})
        missing = [i for i in ids if i not in known and i != UNKNOWN]
        if missing:
            eng = self.pg.engine
            table, key = {"rep_id": ("reps", "rep_id"), "customer_id": ("customers", "customer_id"),
                          "product": ("products", "product_id")}[level]
            if eng.has(table):
                t = eng.table(table)
                df = eng.execute(t.filter(t[key].isin(missing)).select(k=t[key], n=t["name"]))
                for k, n in zip(df["k"], df["n"]):
                    if isinstance(n, str) and n:
                        known.setdefault(k, n)
            for i in missing:
                known.setdefault(i, i)
        return {i: known.get(i, i) for i in ids}

    def _set_products(self, category: str, keep: str = "") -> None:
        dd = self.filters["product"]
        opts = [(self.pg.t("serve_all"), "")]
        if category:
            ids = [v for v in self.reader.values("product", Filters(category=category)) if v != UNKNOWN]
            names = self._name_of("product", ids)
            opts += sorted(((names[i], i) for i in ids), key=lambda x: (x[0], x[1]))
        was = self._busy
        self._busy = True
        try:
            dd.options = opts
            dd.value = keep if keep in [v for _, v in opts] else ""
            dd.disabled = not category
        finally:
            self._busy = was

    def _figure(self):
        return charts.monthly_figure(self.lang, getattr(self.pg.params, "palette", None))

    # ---- state --------------------------------------------------------------------------------
    def current_filters(self) -> Filters:
        """The filters and the drill-down path as one :class:`Filters`."""
        f = Filters(start=dt.date.fromisoformat(self.period_start.value),
                    end=dt.date.fromisoformat(self.period_end.value),
                    **{k: (self.filters[k].value or None) for k in FILTERS})
        for level, value in self.path:
            f = f.with_(**{level: value})
        return f

    @property
    def level(self) -> str:
        """The level the table lists: the one below the drill-down path."""
        return LEVELS[min(len(self.path), len(LEVELS) - 1)]

    def refresh(self, first: bool = False) -> None:
        """Recompute the figures, the trend and the table for the current filters and path (one
        query: :meth:`saleslab.serve.cube.CubeReader.overview`)."""
        f = self.current_filters()
        self.figures, self.monthly, self.rows = self.reader.overview(f, self.level)
        self.kpis.value = self._kpi_html(self.figures)
        self._draw_trend(self.monthly)
        self._draw_breadcrumb()
        self._draw_table()
        self.message.value = "" if self.reader.costs_known else f"<small>{_e(self.pg.t('serve_no_cost'))}</small>"

    def _kpi_html(self, figures: dict) -> str:
        cards = []
        for key, kind in FIGURES:
            v = figures.get(key)
            cards.append(f'<div class="sl-kpi-card" title="{_e(glossary.definition(key, self.lang))}">'
                         f'<div class="sl-kpi-name">{_e(glossary.name(key, self.lang))}</div>'
                         f'<span class="sl-kpi" data-key="{key}" data-value="{data_value(v, kind)}">'
                         f'{_e(fmt(v, kind, self.lang))}</span></div>')
        return f'<div class="sl-kpis">{"".join(cards)}</div>'

    def _draw_trend(self, monthly: pd.DataFrame) -> None:
        charts.draw_monthly(self.trend, monthly, self.lang)

    def _draw_breadcrumb(self) -> None:
        items = [(self.pg.t("serve_total"), 0)] + [(self._label(level, value), i + 1)
                                                   for i, (level, value) in enumerate(self.path)]
        children = []
        for n, (text, depth) in enumerate(items):
            if n < len(items) - 1:
                b = _classed(w.Button(description=text, tooltip=text, layout=w.Layout(width="auto")), "sl-crumb")
                b.on_click(self._guard(lambda _b, d=depth: self.go_up(d)))
                children += [b, w.HTML("&rsaquo;")]
            else:
                children.append(_classed(w.HTML(f"<b>{_e(text)}</b>"), "sl-crumb-current"))
        children.append(w.HTML(f"&nbsp;·&nbsp;{_e(self.pg.t('serve_level_' + self.level))}"))
        old = self.breadcrumb.children
        self.breadcrumb.children = children
        close_widgets(old)

    def _sorted(self) -> pd.DataFrame:
        col, desc = self.sort
        df = self.rows.copy()
        if col == "name":
            df["_s"] = [self._label(self.level, k) for k in df["key"]]
            by = "_s"
        else:
            by = col
        return df.sort_values([by, "key"], ascending=[not desc, True], kind="mergesort", na_position="last")

    def _draw_table(self) -> None:
        level = self.level
        df = self._sorted()
        shown = df.head(self.max_rows)
        if level in ("rep_id", "customer_id"):
            self._name_of(level, [k for k in shown["key"] if k != UNKNOWN])
        header = [self._sort_button("name", self.pg.t(f"serve_level_{level}"), "214px")]
        header += [self._sort_button(key, glossary.name(key, self.lang), "118px") for key, _ in FIGURES]
        rows = [_classed(w.HBox(header), "sl-table-head")]
        for r in shown.itertuples(index=False):
            rows.append(self._row(level, r))
        old = self.table.children
        self.table.children = rows
        close_widgets(old)
        note = ""
        if df.empty:
            note = self.pg.t("serve_no_rows")
        elif len(df) > len(shown):
            note = self.pg.t("serve_rows_shown", shown=len(shown), total=len(df))
        self.table_note.value = f"<small>{_e(note)}</small>" if note else ""

    def _sort_button(self, col: str, text: str, width: str):
        mark = ""
        if self.sort[0] == col:
            mark = " ▼" if self.sort[1] else " ▲"
        b = _classed(w.Button(description=text + mark, tooltip=text, layout=w.Layout(width=width)), f"sl-sort-{col}")
        b.on_click(self._guard(lambda _b, c=col: self.sort_by(c)))
        return b

    def _row(self, level: str, r) -> w.HBox:
        key = r.key
        label = self._label(level, key)
        cells = "".join(f'<td data-key="{k}" data-value="{data_value(getattr(r, k), kind)}">'
                        f'{_e(fmt(getattr(r, k), kind, self.lang))}</td>' for k, kind in FIGURES)
        data = w.HTML(f'<table class="sl-row" data-level="{_e(level)}" data-id="{_e(key)}"><tr>{cells}</tr></table>')
        if level == "customer_id":
            if key == UNKNOWN:
                first = w.HTML(f'<span class="sl-customer-link">{_e(label)}</span>')
            else:
                href = "customer360.ipynb?" + urllib.parse.urlencode({"customer": key})
                first = w.HTML(f'<a class="sl-drill-row sl-customer-link" href="{_e(href)}" target="_top" '
                               f'data-id="{_e(key)}" title="{_e(self.pg.t("serve_open_360"))}">{_e(label)}</a>')
        else:
            first = _classed(w.Button(description=label, tooltip=label, layout=w.Layout(width="214px")), "sl-drill-row")
            first.on_click(self._guard(lambda _b, v=key: self.drill(v)))
        return _classed(w.HBox([first, data], layout=w.Layout(align_items="center")), "sl-drill-line")

    # ---- actions (the widgets call these; tests call them too) -------------------------------------
    def drill(self, value: str) -> None:
        """One level down into ``value`` of the table's level (at customer level: nothing, the row links)."""
        level = self.level
        if level == "customer_id" or len(self.path) >= len(LEVELS) - 1:
            return
        self.path.append((level, value))
        self.pg.audit("drill", level=level, value=value, path=[list(p) for p in self.path])
        self.refresh()

    def go_up(self, depth: int) -> None:
        """Back to ``depth`` steps of the path (0: the total)."""
        self.path = self.path[:depth]
        self.pg.audit("drill", level="up", path=[list(p) for p in self.path])
        self.refresh()

    def sort_by(self, col: str) -> None:
        """Sort the table by ``col`` (a figure, or ``name``); again: the other direction."""
        self.sort = (col, not self.sort[1]) if self.sort[0] == col else (col, col != "name")
        self._draw_table()

    def set_filters(self, **values) -> None:
        """Set several filters at once (one refresh, one audit entry): ``period_start``, ``period_end``
        (ISO month), ``region`` ... ``team`` (codes, "" = all)."""
        self._busy = True
        try:
            for k, v in values.items():
                dd = self.period_start if k == "period_start" else self.period_end if k == "period_end" else self.filters[k]
                if k == "category":
                    dd.value = v
                    self._set_products(v)
                else:
                    dd.value = v
        finally:
            self._busy = False
        self._changed()

    def _on_filter(self, change) -> None:
        if self._busy:
            return
        if change["owner"] is self.filters["category"]:
            self._set_products(change["new"])
        self._changed()

    def _changed(self) -> None:
        if self.period_start.value > self.period_end.value:  # ISO months compare as text
            self._busy = True
            try:
                self.period_end.value = self.period_start.value
            finally:
                self._busy = False
        f = self.current_filters()
        self.pg.audit("filter", page_filter=f.describe())
        self.refresh()

    def _on_view_as(self, change) -> None:
        switch_view(self, change["new"])


def _nearest(value: str, months: list[dt.date]) -> str:
    """``value`` (an ISO date) as the first day of its month, within ``months``."""
    try:
        d = dt.date.fromisoformat(str(value)[:10]).replace(day=1)
    except ValueError:
        d = months[-1]
    d = min(max(d, months[0]), months[-1])
    return d.isoformat()


def show(pg, **options):
    """The dashboard of ``pg`` (or its refusal) as a widget for the page notebook."""
    from .page import shown

    return shown(pg, lambda p: Dashboard(p, **options))
