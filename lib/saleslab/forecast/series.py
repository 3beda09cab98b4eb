"""Monthly sales series from the facts layer (domain.md §9) as long frames ``unique_id, ds, y``.

Definitions used here:

- revenue (销售额) = Σ amount of :func:`saleslab.facts.movements_expr` (sales less returns, on
  the return's date unless ``returns_basis``) per calendar month; volume (销量) = Σ quantity;
- levels: ``total``, ``region`` (the order's region), ``channel`` (the order's channel), ``category``
  (the product master's category); a missing value is its own member ``unknown``, so every level
  sums to the total;
- ``unique_id`` is ``total`` or ``<level>/<member>`` (``region/east``, ``category/厨房电器``);
- ``ds`` is the month start; a month of the period without a movement is 0 (no sale), so
  every series runs over every month of the period from its first non-zero month (series that
  start late are new products or members).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, InvalidArgument
from ..facts import Params as FactsParams
from ..periods import as_date

LEVELS = ("total", "region", "channel", "category")
MEASURES = ("revenue", "volume")


def _months(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), pd.Timestamp(end).to_period("M").to_timestamp(),
                         freq="MS")


def _movements(eng: Engine, start, end, fp: FactsParams):
    m = facts.movements_expr(eng, start, end, fp.returns_basis)
    p = facts.products(eng).select("product_id", "category")
    j = m.left_join(p, "product_id")
    return j.mutate(month=j.date.truncate("M").cast("date"))


def cube(eng: Engine, start, end, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Revenue and volume per month × region × channel × category (the bottom of the hierarchy).

    Input: :func:`saleslab.facts.movements_expr` joined to :func:`saleslab.facts.products`.
    Returns: month (month start), region, channel, category (missing → ``unknown``), revenue (元,
    to the cent), volume.
    """
    fp = facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("orders", "order_lines", needed_for="sales forecasting")
    j = _movements(eng, start, end, fp)
    g = j.group_by(["month", "region", "channel", "category"]).aggregate(revenue=j.amount.sum(), volume=j.quantity.sum())
    df = eng.execute(g)
    for c in ("region", "channel", "category"):
        df[c] = df[c].fillna(facts.UNKNOWN).astype(str)
    df["month"] = pd.to_datetime(df["month"])
    df["revenue"] = df["revenue"].astype(float).round(2)
    df["volume"] = df["volume"].astype(float)
    return df.groupby(["month", "region", "channel", "category"], as_index=False)[["revenue", "volume"]].sum()


def to_long(df: pd.DataFrame, key, measure: str, months: pd.DatetimeIndex, prefix: str | None = None) -> pd.DataFrame:
    """Sum ``measure`` of ``df`` (columns month, <key>...) per key and month into ``unique_id, ds, y``;
    months without a row are 0 and each series starts at its first non-zero month."""
    keys = [key] if isinstance(key, str) else list(key)
    if keys:
        g = df.groupby(keys + ["month"])[measure].sum().reset_index()
        g["unique_id"] = g[keys].astype(str).agg("|".join, axis=1)
        if prefix:
            g["unique_id"] = prefix + "/" + g["unique_id"]
    else:
        g = df.groupby("month")[measure].sum().reset_index()
        g["unique_id"] = "total"
    wide = g.pivot_table(index="month", columns="unique_id", values=measure, aggfunc="sum").reindex(months).fillna(0.0)
    out = []
    for uid in wide.columns:
        y = wide[uid].to_numpy(dtype=float)
        nz = np.flatnonzero(np.abs(y) > 0)
        if len(nz) == 0:
            continue
        out.append(pd.DataFrame({"unique_id": uid, "ds": months[nz[0]:], "y": np.round(y[nz[0]:], 2)}))
    if not out:
        return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"),
                             "y": pd.Series(dtype=float)})
    return pd.concat(out, ignore_index=True)


def sales_series(eng: Engine, start, end, by: str = "total", measure: str = "revenue",
                 facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Monthly ``measure`` (revenue or volume) of [start, end] at level ``by`` as a long frame.

    Input: :func:`cube` (the facts layer). ``by``: total, region, channel, category, or
    ``"all"`` (the total and every level stacked, the hierarchy's aggregate series).
    Returns: unique_id (``total`` or ``<level>/<member>``), ds (month start), y (元 to the cent,
    or units), level. Raises :class:`InsufficientData` when the period has no sales.
    """
    if measure not in MEASURES:
        raise InvalidArgument(f"measure must be one of {', '.join(MEASURES)} (got {measure!r})")
    levels = LEVELS if by == "all" else (by,)
    if any(lv not in LEVELS for lv in levels):
        raise InvalidArgument(f"by must be one of {', '.join(LEVELS)} or all (got {by!r})")
    start, end = as_date(start), as_date(end)
    c = cube(eng, start, end, facts_params)
    if c.empty:
        raise InsufficientData(f"no sales between {start} and {end}", needed_for="sales forecasting")
    return hierarchy_series(c, measure, _months(start, end), levels)


def hierarchy_series(c: pd.DataFrame, measure: str, months: pd.DatetimeIndex, levels=LEVELS) -> pd.DataFrame:
    """The aggregate series of the cube ``c`` (:func:`cube`) for ``levels``, stacked, with a ``level`` column."""
    parts = []
    for lv in levels:
        s = to_long(c, [] if lv == "total" else [lv], measure, months, None if lv == "total" else lv)
        s["level"] = lv
        parts.append(s)
    return pd.concat(parts, ignore_index=True)


def bottom_series(c: pd.DataFrame, measure: str, months: pd.DatetimeIndex) -> pd.DataFrame:
    """The bottom series region × channel × category (``unique_id`` ``bottom/<region>|<channel>|<category>``)."""
    s = to_long(c, ["region", "channel", "category"], measure, months, "bottom")
    s["level"] = "bottom"
    return s


def months_of(start, end) -> pd.DatetimeIndex:
    """Month starts of [start, end]."""
    return _months(as_date(start), as_date(end))
