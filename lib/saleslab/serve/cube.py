"""The stakeholder pages' precomputed aggregates ("cubes") and the questions the pages ask them.

A run writes, after its stages, small additive tables into ``<run>/data/serve/`` (encrypted like the
stage tables when the run has a key ring), built from :mod:`saleslab.facts` only:

- ``sales_cube``: month × region × channel × team × rep_id × customer_id with gross_sales,
  returns, revenue, cost, volume and orders (:func:`saleslab.facts.revenue_by_expr` per month of
  the movement's date and the order's region, channel, rep and customer; team = the rep's team in
  ``reps``). Money to the cent. Orders are additive: an order has one month, channel, region,
  rep and customer, so it lies in one row;
- ``category_cube``: the same keys and the product's ``category`` (:func:`saleslab.facts.revenue_of`
  over the movements with the product master's category): orders = orders with a line of the
  category, exact for one category;
- ``product_cube``: the same keys, category and ``product_id`` (orders exact for one product),
  sorted by category and product so that a product filter reads a few row groups.

Every cube keeps the order's rep_id, customer_id (canonical) and region as they are (nulls
included), so the engine limits a cube to a user's rows with the same predicate that limits the
orders (:meth:`saleslab.engine.Engine.serving_table`): a rep's or a supervisor's figures are
exactly those of their orders. ``cubes.json`` beside them records the period, the returns basis,
whether unit costs are known, row counts and build seconds.

Figures (:class:`CubeReader`): revenue, gross profit (= revenue − cost), gross margin (= gross
profit / revenue), orders (Σ), active customers (distinct customer_id with orders > 0 among the
filtered rows: exact, customers are a key). The same figures as the report pack for the same filter:
01_overview (the period), 02_performance (year to date, region × channel × category).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import ibis
import pandas as pd

from .. import facts
from ..engine import Engine, write_parquet
from ..errors import MissingSource
from ..periods import as_date

#: The run folder's sub-folder of the cubes (``<run>/data/serve``).
SERVE_FOLDER = "serve"
META_FILE = "cubes.json"
#: The keys of every cube (an order's attributes, its month and its rep's team).
KEYS = ("month", "region", "channel", "team", "rep_id", "customer_id")
MEASURES = ("gross_sales", "returns", "revenue", "cost", "volume", "orders")
MONEY = ("gross_sales", "returns", "revenue", "cost")
#: cube name -> extra keys.
CUBES = {"sales_cube": (), "category_cube": ("category",), "product_cube": ("category", "product_id")}
#: The drill-down levels below the total, in order.
LEVELS = ("region", "team", "rep_id", "customer_id")
#: Shown for (and selecting) a missing key value.
UNKNOWN = facts.UNKNOWN


def _team_of_rep(eng: Engine) -> ibis.Table:
    r = eng.table("reps")
    # one team per rep (a master repeating a rep with two teams must not double its rows)
    return r.filter(r.rep_id.notnull()).group_by(t_rep_id=r.rep_id).aggregate(team=r.team.min())


def cube_expr(eng: Engine, start, end, name: str = "sales_cube", returns_basis: str = "return_date") -> ibis.Table:
    """The cube ``name`` (:data:`CUBES`) over [start, end], as one Ibis expression.

    Input: :func:`saleslab.facts.revenue_by_expr` per month × region × channel × rep_id ×
    customer_id (× product_id), or :func:`saleslab.facts.revenue_of` over
    :func:`saleslab.facts.movements_expr` with the product's category; the rep's team from ``reps``.
    Output: :data:`KEYS` (+ category, product_id), gross_sales, returns, revenue, cost (money rounded
    to the cent), volume, orders (int64). Missing categories read :data:`UNKNOWN`; other keys keep
    their nulls (the scope predicate reads them as the orders hold them).
    """
    extra = CUBES[name]
    # make_date, not truncate: DuckDB's date_trunc of a date is a timestamp, which Ibis takes for a date
    month = ibis.date(ibis._.date.year(), ibis._.date.month(), 1).name("month")
    base = [month, "region", "channel", "rep_id", "customer_id"]
    if "category" in extra:
        m = facts.movements_expr(eng, start, end, returns_basis)
        p = facts.products(eng).select(p_product_id="product_id", category="category")
        m = m.left_join(p, m.product_id == p.p_product_id).drop("p_product_id")
        m = m.mutate(category=m.category.cast("string").fill_null(UNKNOWN))
        agg = facts.revenue_of(m, base + list(extra))
    else:
        agg = facts.revenue_by_expr(eng, start, end, base, returns_basis)
    teams = _team_of_rep(eng)
    j = agg.left_join(teams, agg.rep_id == teams.t_rep_id)
    out = j.select(
        month=j.month, region=j.region, channel=j.channel, team=j.team, rep_id=j.rep_id, customer_id=j.customer_id,
        **{k: j[k] for k in extra},
        **{k: j[k].cast("float64").round(2) for k in MONEY},
        volume=j.volume, orders=j.orders.cast("int64"))
    order = [*extra, "month", "region", "channel", "rep_id", "customer_id"]
    return out.order_by(order)


def build(eng: Engine, run_dir: str | Path, start, end, returns_basis: str = "return_date", keyring=None,
          costs_known: bool = True, progress=None) -> dict:
    """Write every cube of :data:`CUBES` into ``<run_dir>/data/serve/`` (encrypted with ``keyring``)
    and ``cubes.json``; return that metadata: period, returns_basis, costs_known,
    ``cubes: {name: {rows, seconds}}``."""
    folder = Path(run_dir) / "data" / SERVE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"period": [as_date(start).isoformat(), as_date(end).isoformat()], "returns_basis": returns_basis,
            "costs_known": bool(costs_known), "keys": list(KEYS), "measures": list(MEASURES), "cubes": {}}
    from ..crypto import num_rows

    for name in CUBES:
        t0 = time.perf_counter()
        path = folder / f"{name}.parquet"
        write_parquet(eng.con, cube_expr(eng, start, end, name, returns_basis), path, keyring)
        meta["cubes"][name] = {"rows": num_rows(path, keyring), "seconds": round(time.perf_counter() - t0, 2)}
        if progress is not None:
            progress(f"      {name}: {meta['cubes'][name]['rows']:,} rows in {meta['cubes'][name]['seconds']:.1f}s")
    meta["built"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    (folder / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def build_for_run(params, run_dir: Path, warehouse: Path, gov=None, progress=None) -> dict:
    """The pipeline's step after the stages: open the engine as the stages did (the run's user, the
    warehouse version the stages read, the key ring) and :func:`build` the cubes over the run's
    period with its facts parameters. A run computed for a narrower scope than ``all`` builds none
    (the pages serve only a run for scope all): ``{"skipped": reason}``."""
    from ..engine import connect
    from ..performance.kpis import costs_known

    if gov is not None and gov[0].scope != "all":
        return {"skipped": f"run for user {gov[0].user} (scope {gov[0].scope}): the pages serve a run for scope all"}
    fp = facts_params(params)
    ident, trail = gov if gov is not None else (None, None)
    keyring = params.keyring()
    with connect(warehouse, params.engine, params.duckdb_config(), run_dir=run_dir, identity=ident, trail=trail,
                 keyring=keyring, **({k: v for k, v in params.spark_config().items()} if params.engine != "duckdb"
                                     else {})) as eng:
        return build(eng, run_dir, params.period.start, params.period.end, fp.returns_basis, keyring,
                     costs_known(eng), progress)


def facts_params(params) -> facts.Params:
    """The facts layer's parameters of a run file (its ``thresholds`` that the facts layer declares;
    validated by the run file's own validation already)."""
    return facts.Params.model_validate({k: v for k, v in (params.thresholds or {}).items()
                                        if k in facts.Params.model_fields})


def run_warehouse(params, manifest: dict) -> Path:
    """The warehouse version a run's stages read (``manifest.warehouse_version``) when it is still
    kept, else the run file's current warehouse: the pages scope the cubes with the same customer
    owners and regions the cubes were built from."""
    current = params.warehouse_path  # resolved: the current version's folder
    version = manifest.get("warehouse_version")
    if version and current.parent.name.endswith(".versions") and (current.parent / version).is_dir():
        return current.parent / version
    return current


def read_meta(run_dir: str | Path) -> dict:
    """``cubes.json`` of a run (empty dict when the run has no cubes)."""
    path = Path(run_dir) / "data" / SERVE_FOLDER / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ---- the questions the pages ask ------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """What the page filters by; None = all. ``start`` / ``end``: first and last month (any day of
    it); the drill-down path adds region, team, rep_id, customer_id."""

    start: dt.date | None = None
    end: dt.date | None = None
    region: str | None = None
    channel: str | None = None
    category: str | None = None
    product: str | None = None
    team: str | None = None
    rep_id: str | None = None
    customer_id: str | None = None

    def with_(self, **kw) -> "Filters":
        return replace(self, **kw)

    def describe(self) -> dict:
        """The filter as recorded in the audit trail (set values only, dates as text)."""
        return {f.name: (v.isoformat() if isinstance(v, dt.date) else v)
                for f in fields(self) if (v := getattr(self, f.name)) is not None}


def _month(d) -> dt.date:
    d = as_date(d)
    return d.replace(day=1)


def _eq(col, value):
    return col.isnull() if value == UNKNOWN else col == value


class CubeReader:
    """The pages' figures from the cubes of the engine's run, through
    :meth:`saleslab.engine.Engine.serving_table` (the engine's user's rows only)."""

    def __init__(self, eng: Engine):
        self.eng = eng
        self.meta = read_meta(eng.run_dir) if eng.run_dir is not None else {}
        if not self.meta.get("period"):
            run = eng.run_dir.name if eng.run_dir is not None else "(none)"
            raise MissingSource(f"run {run} has no precomputed tables for the pages (data/serve/{META_FILE}): "
                                f"a run made before `saleslab serve` existed; run the pack again",
                                tables=(f"serve/{META_FILE}",), needed_for="the stakeholder pages")

    @property
    def costs_known(self) -> bool:
        return bool(self.meta.get("costs_known", True))

    def months(self) -> list[dt.date]:
        """Every month of the run's period (first days)."""
        lo, hi = (as_date(x) for x in self.meta["period"])
        return [p.start_time.date() for p in pd.period_range(lo, hi, freq="M")]

    def rows(self, f: Filters, level: str | None = None) -> ibis.Table:
        """The cube rows under ``f``: product_cube with a product (or to list products: ``level``
        product), category_cube with a category (or ``level`` category), else sales_cube."""
        if f.product or level == "product":
            name = "product_cube"
        elif f.category or level == "category":
            name = "category_cube"
        else:
            name = "sales_cube"
        # sales_cube is read by every question (held in memory for a scoped or encrypted read); the
        # category and product cubes only with a category / product filter, pushed into their scan
        t = self.eng.serving_table(name, None if name == "sales_cube" else False)
        cond = []
        if f.start is not None:
            cond.append(t.month >= _month(f.start))
        if f.end is not None:
            cond.append(t.month <= _month(f.end))
        for key, col in (("region", "region"), ("channel", "channel"), ("category", "category"),
                         ("product", "product_id"), ("team", "team"), ("rep_id", "rep_id"),
                         ("customer_id", "customer_id")):
            v = getattr(f, key)
            if v is not None:
                cond.append(_eq(t[col], v))
        return t.filter(*cond) if cond else t

    def _measures(self, t: ibis.Table) -> dict:
        null = ibis.null("string")
        out = dict(revenue=t.revenue.sum(), orders=t.orders.sum(),
                   active_customers=ibis.ifelse(t.orders > 0, t.customer_id, null).nunique(),
                   gross_sales=t.gross_sales.sum(), returns=t.returns.sum())
        if "cost" in t.columns:
            out["cost"] = t.cost.sum()
        return out

    def _finish(self, df: pd.DataFrame) -> pd.DataFrame:
        for c in ("revenue", "gross_sales", "returns", "cost"):
            if c in df:
                df[c] = df[c].astype("float64").fillna(0.0).round(2) + 0.0
        if "cost" in df and self.costs_known:
            df["gross_profit"] = (df["revenue"] - df["cost"]).round(2) + 0.0
            df["gross_margin"] = (df["gross_profit"] / df["revenue"]).where(df["revenue"] != 0)
        else:
            df["cost"] = df["gross_profit"] = df["gross_margin"] = float("nan")
        for c in ("orders", "active_customers"):
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")  # Σ of no row: NULL
        return df

    def totals(self, f: Filters) -> dict:
        """revenue, gross_sales, returns, cost, gross_profit, gross_margin (None without costs or
        revenue), orders, active_customers under ``f``."""
        t = self.rows(f)
        df = self._finish(self.eng.execute(t.aggregate(**self._measures(t))))
        out = {}
        for k in df.columns:
            v = df[k].iloc[0]
            v = int(v) if k in ("orders", "active_customers") else float(v)
            out[k] = None if v != v else v
        return out

    def trend(self, f: Filters) -> pd.DataFrame:
        """Per month of the filter's range (every month, 0 where nothing was sold): month, revenue,
        gross_profit, gross_margin, orders, active_customers (distinct within the month)."""
        t = self.rows(f)
        return self._trend_frame(self._finish(self.eng.execute(t.group_by("month").aggregate(**self._measures(t)))), f)

    def _trend_frame(self, df: pd.DataFrame, f: Filters) -> pd.DataFrame:
        df["month"] = pd.to_datetime(df["month"]).dt.date
        months = [m for m in self.months() if (f.start is None or m >= _month(f.start))
                  and (f.end is None or m <= _month(f.end))]
        df = df.set_index("month").reindex(months)
        for c in ("revenue", "gross_sales", "returns", "orders", "active_customers"):
            df[c] = df[c].fillna(0)
        if self.costs_known and "cost" in df:
            df["cost"] = df["cost"].fillna(0.0)
            df["gross_profit"] = df["gross_profit"].fillna(0.0)
        df["orders"] = df["orders"].astype("int64")
        df["active_customers"] = df["active_customers"].astype("int64")
        return df.rename_axis("month").reset_index()

    def breakdown(self, f: Filters, level: str) -> pd.DataFrame:
        """One row per value of ``level`` (:data:`LEVELS`, or channel / category / product_id) under
        ``f``: key (:data:`UNKNOWN` for a missing value), revenue, gross_profit, gross_margin,
        orders, active_customers, gross_sales, returns, cost; by revenue, largest first."""
        col = "product_id" if level == "product" else level
        t = self.rows(f, level)
        t = t.mutate(key=t[col].cast("string").fill_null(UNKNOWN))
        df = self._finish(self.eng.execute(t.group_by("key").aggregate(**self._measures(t))))
        return df.sort_values(["revenue", "key"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

    def overview(self, f: Filters, level: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
        """(:meth:`totals`, :meth:`trend`, :meth:`breakdown` by ``level``) under ``f`` in ONE query
        (a union of the three aggregates: one scan of the held rows, one audit entry instead of
        three); the same figures as the three calls."""
        col = "product_id" if level == "product" else level
        t = self.rows(f, level)
        null_s, null_d = ibis.null("string"), ibis.null("date")

        def part(kind, by, key, month):
            agg = (t.group_by(**by) if by else t).aggregate(**self._measures(t))
            return agg.select(kind=ibis.literal(kind), key=key(agg), month=month(agg),
                              **{m: agg[m] for m in self._measures(t)})

        whole = part("total", None, lambda a: null_s, lambda a: null_d)
        monthly = part("month", {"month": t.month}, lambda a: null_s, lambda a: a.month)
        by_key = part("key", {"key": t[col].cast("string").fill_null(UNKNOWN)}, lambda a: a.key, lambda a: null_d)
        df = self.eng.execute(whole.union(monthly).union(by_key))
        measures = [c for c in df.columns if c not in ("kind", "key", "month")]
        tot = df[df["kind"] == "total"][measures].reset_index(drop=True)
        if tot.empty:  # an aggregate of no row still has its one row
            tot = pd.DataFrame([{m: None for m in measures}])
        tot = self._finish(tot)
        totals = {}
        for k in tot.columns:
            v = tot[k].iloc[0]
            v = int(v) if k in ("orders", "active_customers") else float(v)
            totals[k] = None if v != v else v
        trend = self._trend_frame(self._finish(df[df["kind"] == "month"][["month", *measures]].reset_index(drop=True)), f)
        rows = self._finish(df[df["kind"] == "key"][["key", *measures]].reset_index(drop=True))
        rows = rows.sort_values(["revenue", "key"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
        return totals, trend, rows

    def options(self) -> dict[str, list[str]]:
        """The values the filters offer: region, channel, team among the user's rows (one query of
        sales_cube), sorted (a missing value last, as :data:`UNKNOWN`), and every category of the
        product master (reference data: listing them does not load category_cube)."""
        t = self.eng.serving_table("sales_cube")
        df = self.eng.execute(t.select(*(t[c].cast("string").name(c) for c in ("region", "channel", "team"))).distinct())
        out = {c: _sorted_values(df[c]) for c in ("region", "channel", "team")}
        if self.eng.has("products"):
            p = facts.products(self.eng)
            out["category"] = _sorted_values(self.eng.execute(p.select(v=p.category.cast("string")).distinct())["v"])
            out["category"] = [c for c in out["category"] if c != UNKNOWN]
        else:
            out["category"] = []
        return out

    def values(self, level: str, f: Filters | None = None) -> list[str]:
        """Distinct values of ``level`` among the user's rows (under ``f``), sorted; a missing value
        as :data:`UNKNOWN` (last)."""
        t = self.rows(f or Filters(), level)
        col = "product_id" if level == "product" else level
        return _sorted_values(self.eng.execute(t.select(v=t[col].cast("string")).distinct())["v"])


def _sorted_values(vals: pd.Series) -> list[str]:
    known = sorted({v for v in vals if isinstance(v, str)})
    return known + ([UNKNOWN] if vals.isna().any() else [])
