"""The customer 360° page: search within one's scope, then one customer's card.

- Search (``.sl-search``): a customer id or name, case-insensitive, among the customers the engine
  lets the user read (their scope; names masked for roles without the right to personal data, so
  a rep cannot find a person by a name they may not see); results ``.sl-result`` buttons.
- Card (``.sl-card``): the profile (the customer master row, through the engine: masked as the
  user's role requires); revenue, gross profit, margin and orders of the run's period and of the
  year to date from the run's cubes (the dashboard's figures); the monthly revenue (``.sl-history``);
  lifecycle stage, RFM class, value tier, CLV, churn probability, credit grade and outstanding
  amount from this run's stage results (:meth:`saleslab.engine.Engine.serving_result`: limited to
  the user's customers by the engine). No order line is read. Those stage results are
  company-level: computed from all of the customer's orders, not only the user's. So they are
  shown only when the customer is *owned* within the user's scope (:meth:`Customer360.owned`:
  scope all; the customer's ``owner_rep_id`` among the scope's reps; for a supervisor also a
  customer of their regions); a customer seen only through orders the user booked gets one line
  instead (``.sl-company-level``).
- A customer outside the user's scope (or unknown: the two are not told apart) gets one line
  (``.sl-refused``) and no data; the attempt is recorded as denied (``open_customer``).

The page can be opened on a customer from the URL (``customer360.ipynb?customer=C000123``, read
from ``QUERY_STRING`` in the kernel): only a pre-selection, the scope still applies.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import urllib.parse

import ipywidgets as w
import pandas as pd

from ..access import AccessDenied
from ..report import i18n
from ..report.format import fmt
from . import charts
from .cube import CubeReader, Filters
from .dashboard import _CSS, FIGURES, _classed, _e, data_value
from .page import close_widgets, guarded, switch_view, view_as_dropdown

PROFILE_FIELDS = ("customer_id", "name", "customer_type", "industry", "region", "city", "phone", "email",
                  "owner_rep_id", "acquisition_channel", "created_date")
#: (result table, column, label key, formatter kind) of the card's facts, in order.
FACTS = (
    ("lifecycle_stages", "stage", "serve_fact_stage", "text"),
    ("lifecycle_stages", "days_since_last_order", "serve_fact_days_since", "days"),
    ("customer_segments", "rfm_class", "serve_fact_rfm_class", "text"),
    ("customer_segments", "customer_tier", "serve_fact_tier", "text"),
    ("churn_scores", "clv", "serve_fact_clv", "money"),
    ("churn_scores", "churn_probability", "serve_fact_churn", "percent"),
    ("credit_rating", "credit_grade", "serve_fact_credit", "text"),
    ("credit_rating", "outstanding", "serve_fact_outstanding", "money"),
)
MAX_RESULTS = 20
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def customer_from_query(query: str | None = None) -> str:
    """The ``customer`` of the page's query string (Voila sets ``QUERY_STRING``); "" when absent or
    not an id (letters, digits, ``_ . : -``)."""
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    values = urllib.parse.parse_qs(query or "").get("customer") or [""]
    value = values[0].strip()
    return value if _ID.match(value) else ""


class Customer360:
    """The 360° page of a :class:`saleslab.serve.page.Page` (``.widget`` is the root box);
    ``customer``: a customer to open at once (e.g. from the URL)."""

    def __init__(self, pg, customer: str = "", max_results: int = MAX_RESULTS):
        self.root_page = pg
        self.max_results = max_results
        self.widget = _classed(w.VBox(), "sl-page", "sl-c360")
        self._open(pg)
        if customer:
            self.open(customer)

    def _guard(self, callback):
        """``callback`` for a widget: a failure shows one line in the page's message, not a traceback."""
        return guarded(callback, self._fail, self.lang)

    def _fail(self, text: str) -> None:
        self.message.value = f'<p class="sl-error">{_e(text)}</p>'

    def _set(self, box, children) -> None:
        """Replace ``box``'s children, closing the old ones (a page kernel lives as long as the page)."""
        old = box.children
        box.children = children
        close_widgets(old)

    def _open(self, pg) -> None:
        old = list(self.widget.children)
        self.pg = pg
        self.lang = pg.lang
        self.reader = CubeReader(pg.engine)
        self._results: dict[str, object] = {}
        self.customer: str | None = None
        self.refused: bool = False
        t = pg.t
        head = [w.HTML(f"{_CSS}<h2 class='sl-title'>{_e(t('serve_c360_title'))}</h2>"),
                _classed(w.HTML(f"<span>{_e(pg.who())}</span>"), "sl-user")]
        top = self.root_page
        if top.can_view_as:
            self.view_as = view_as_dropdown(pg, top, self._guard(self._on_view_as))
            head.append(self.view_as)
        self.search_box = _classed(w.Text(placeholder=t("serve_search_placeholder"), description=t("serve_search"),
                                          continuous_update=False, style={"description_width": "initial"},
                                          layout=w.Layout(width="100%", max_width="480px")), "sl-search")
        self.search_box.observe(self._guard(lambda c: self.search(c["new"])), names="value")
        self.results = _classed(w.VBox(), "sl-search-results")
        self.card = w.VBox()
        self.message = w.HTML(f"<small>{_e(t('serve_search_hint'))}</small>")
        self.widget.children = [*head, self.search_box, self.message, self.results, self.card]
        close_widgets(old)  # the previous user's page (view as)

    # ---- search -----------------------------------------------------------------------------------
    def find(self, query: str) -> list[tuple[str, str]]:
        """(customer_id, name) of the user's customers whose id or (as the user sees it) name holds
        ``query``, case-insensitive; at most ``max_results + 1``, by id."""
        q = (query or "").strip().lower()
        eng = self.pg.engine
        if len(q) < 2 or not eng.has("customers"):
            return []
        c = eng.table("customers")
        hit = c.customer_id.lower().contains(q) | c["name"].cast("string").lower().contains(q)
        df = eng.execute(c.filter(hit).select("customer_id", "name").distinct()
                         .order_by("customer_id").limit(self.max_results + 1))
        return [(str(i), str(n) if isinstance(n, str) else str(i)) for i, n in zip(df["customer_id"], df["name"])]

    def search(self, query: str) -> list[tuple[str, str]]:
        """Run :meth:`find`, show the results as buttons, record the search (the text hashed)."""
        found = self.find(query)
        if len((query or "").strip()) >= 2:
            self.pg.audit("search", search={"column": "name", "value": query.strip()}, results=len(found))
        buttons = []
        for cid, name in found[: self.max_results]:
            b = _classed(w.Button(description=f"{name} · {cid}", tooltip=cid, layout=w.Layout(width="auto")), "sl-result")
            b.on_click(self._guard(lambda _b, c=cid: self.open(c)))
            buttons.append(b)
        self._set(self.results, buttons)
        if len((query or "").strip()) < 2:
            note = self.pg.t("serve_search_hint")
        elif not found:
            note = self.pg.t("serve_no_results")
        elif len(found) > self.max_results:
            note = self.pg.t("serve_results_more", shown=self.max_results)
        else:
            note = ""
        self.message.value = f"<small>{_e(note)}</small>" if note else ""
        return found

    # ---- the card ---------------------------------------------------------------------------------
    def canonical(self, customer_id: str) -> str:
        """The canonical id of ``customer_id`` (the id the orders and cubes carry) when the ingest
        merged it into another customer; else ``customer_id``."""
        eng = self.pg.engine
        if not eng.has("customer_map"):
            return customer_id
        m = eng.table("customer_map")
        df = eng.execute(m.filter(m.customer_id == customer_id).select("canonical_id").limit(1))
        return str(df["canonical_id"].iloc[0]) if len(df) and isinstance(df["canonical_id"].iloc[0], str) else customer_id

    def in_scope(self, customer_id: str) -> bool:
        """Whether the user may see ``customer_id``: a customer master row, or a cube row, within the
        engine's scope."""
        eng = self.pg.engine
        if eng.has("customers"):
            c = eng.table("customers")
            if int(eng.execute(c.filter(c.customer_id == customer_id).count())) > 0:
                return True
        t = eng.serving_table("sales_cube")
        return int(eng.execute(t.filter(t.customer_id == customer_id).count())) > 0

    def open(self, customer_id: str) -> bool:
        """Show the card of ``customer_id``, or the refusal line when it is outside the user's scope
        (recorded as denied). Returns whether the card is shown."""
        cid = (customer_id or "").strip()
        if not _ID.match(cid) or not self.in_scope(cid):
            self.pg.audit("open_customer", customer_id=cid[:64], outcome="denied")
            self.customer, self.refused = None, True
            line = _classed(w.HTML(f'<p>{_e(self.pg.t("serve_customer_refused", customer=cid[:64]))}</p>'), "sl-refused")
            self._set(self.card, [line])
            return False
        self.pg.audit("open_customer", customer_id=cid)
        self.customer, self.refused = cid, False
        self._set(self.card, [self._card(cid)])
        return True

    def owned(self, customer_id: str) -> bool:
        """Whether ``customer_id`` (canonical, or a source id merged into it) is owned within the
        user's scope: scope all; else a customer master row of it whose ``owner_rep_id`` is one of
        the scope's reps (a rep: themselves; a supervisor: the reps of their regions / teams) or,
        for a supervisor with regions, whose region is one of them. A customer the user sees only
        through orders they booked is not owned: the stage results are company-level for it."""
        ident = self.pg.identity
        if ident.scope == "all":
            return True
        eng = self.pg.engine
        if not eng.has("customers"):
            return False
        ids = {customer_id}
        if eng.has("customer_map"):
            m = eng.table("customer_map")
            ids |= set(eng.execute(m.filter(m.canonical_id == customer_id).select("customer_id"))["customer_id"])
        c = eng.table("customers")
        rows = eng.execute(c.filter(c.customer_id.isin(sorted(ids))).select("owner_rep_id", "region"))
        if ident.scope == "own":
            reps = {ident.rep_id}
        else:
            r = eng.table("reps") if eng.has("reps") else None  # the scope's reps (the engine limits them)
            reps = set(eng.execute(r.select("rep_id"))["rep_id"]) if r is not None else set()
        regions = set(ident.regions) if ident.scope == "group" else set()
        return any((o in reps) or (g in regions) for o, g in zip(rows["owner_rep_id"], rows["region"]))

    def profile(self, customer_id: str) -> dict:
        """The customer master row as the user may see it (masked without the pii right); {} when
        the master has no row."""
        eng = self.pg.engine
        if not eng.has("customers"):
            return {}
        c = eng.table("customers")
        cols = [f for f in PROFILE_FIELDS if f in c.columns]
        df = eng.execute(c.filter(c.customer_id == customer_id).select(*cols).limit(1))
        return df.iloc[0].to_dict() if len(df) else {}

    def facts(self, customer_id: str) -> dict[str, tuple[object, str | None]]:
        """``{column: (value, stage)}`` of :data:`FACTS` for the customer, from this run's stage
        results limited to the user's customers; (None, None) where no stage saved the table."""
        out = {}
        for table, col, _, _ in FACTS:
            if table not in self._results:
                try:
                    self._results[table] = self.pg.engine.serving_result(table)
                except AccessDenied:  # a run with personal data in clear, for a user without the right
                    self._results[table] = None
            found = self._results[table]
            if found is None:
                out[col] = (None, None)
                continue
            stage, df = found
            row = df[df["customer_id"] == customer_id]
            v = row[col].iloc[0] if len(row) and col in row else None
            out[col] = (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v, stage)
        return out

    def figures(self, customer_id: str) -> tuple[dict, dict]:
        """(the run's period, the year to date) figures of the customer from the cubes."""
        months = self.reader.months()
        last = months[-1]
        period = self.reader.totals(Filters(customer_id=customer_id))
        ytd = self.reader.totals(Filters(start=dt.date(last.year, 1, 1), end=last, customer_id=customer_id))
        return period, ytd

    def _value(self, field: str, value) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "—"
        if field in ("region", "acquisition_channel"):
            return i18n.t(value, self.lang) if i18n.has(value) else str(value)
        if field == "customer_type":
            key = {"company": "type_company", "person": "type_person"}.get(str(value))
            return i18n.t(key, self.lang) if key and i18n.has(key) else str(value)
        if field == "created_date":
            return fmt(value, "date", self.lang)
        return str(value)

    def _kpis(self, figures: dict, scope: str) -> str:
        cards = "".join(
            f'<div class="sl-kpi-card"><div class="sl-kpi-name">{_e(i18n.t(k, self.lang))}</div>'
            f'<span class="sl-kpi" data-scope="{scope}" data-key="{k}" data-value="{data_value(figures.get(k), kind)}">'
            f'{_e(fmt(figures.get(k), kind, self.lang))}</span></div>' for k, kind in FIGURES if k != "active_customers")
        return f'<div class="sl-kpis">{cards}</div>'

    def _card(self, cid: str):
        t = self.pg.t
        prof = self.profile(cid)
        name = prof.get("name") if isinstance(prof.get("name"), str) else cid
        rows = "".join(f"<tr><th>{_e(i18n.t('c360_' + f, self.lang))}</th><td data-key='{f}'>{_e(self._value(f, prof.get(f)))}</td></tr>"
                       for f in PROFILE_FIELDS if f in prof)
        if not prof:
            rows = f"<tr><td>{_e(i18n.t('c360_profile_missing', self.lang))}</td></tr>"
        key = self.canonical(cid)
        period, ytd = self.figures(key)
        self.company_level_hidden = not self.owned(key)
        facts = {} if self.company_level_hidden else self.facts(key)
        fact_rows = []
        for _, col, label, kind in (() if self.company_level_hidden else FACTS):
            v, stage = facts[col]
            if v is None:
                shown = t("serve_card_no_fact") if stage is None else "—"
            elif kind == "text":
                shown = i18n.t(v, self.lang) if isinstance(v, str) and i18n.has(v) else str(v)
            else:
                shown = fmt(v, kind, self.lang)
            src = f" <small>({_e(t('serve_card_from', stage=i18n.t(stage, self.lang) if i18n.has(stage) else stage))})</small>" if stage else ""
            fact_rows.append(f"<tr><th>{_e(t(label))}</th><td data-key='{col}'>{_e(shown)}{src}</td></tr>")
        top = w.HTML(
            f"<h3 class='sl-card-title' data-id='{_e(cid)}'>{_e(name)} · {_e(cid)}</h3>"
            f"<h4>{_e(t('serve_card_profile'))}</h4><table class='sl-profile'>{rows}</table>"
            f"<h4>{_e(t('serve_card_sales'))}</h4>{self._kpis(period, 'period')}"
            f"<h4>{_e(t('serve_card_ytd'))}</h4>{self._kpis(ytd, 'ytd')}")
        history = charts.monthly_figure(self.lang, getattr(self.pg.params, "palette", None), "serve_card_history",
                                        profit=False, css_class="sl-history")
        charts.draw_monthly(history, self.reader.trend(Filters(customer_id=key)), self.lang)
        if self.company_level_hidden:
            facts_html = f"<p class='sl-company-level'>{_e(t('serve_card_company_level'))}</p>"
        else:
            facts_html = f"<table class='sl-facts'>{''.join(fact_rows)}</table>"
        bottom = w.HTML(f"<h4>{_e(t('serve_card_facts'))}</h4>{facts_html}")
        return _classed(w.VBox([top, history, bottom]), "sl-card")

    # ---- view as ----------------------------------------------------------------------------------
    def _on_view_as(self, change) -> None:
        switch_view(self, change["new"])


def show(pg, customer: str = "", **options):
    """The 360° page of ``pg`` (or its refusal) as a widget for the page notebook; ``customer``
    (else the URL's ``?customer=``) is opened at once."""
    from .page import shown

    return shown(pg, lambda p: Customer360(p, customer or customer_from_query(), **options))
