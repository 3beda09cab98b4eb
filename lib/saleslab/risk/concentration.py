"""Customer concentration by channel (客户集中度, domain.md §10): the top-N customers' share of
revenue and the Herfindahl–Hirschman index.

Revenue per customer and channel is :func:`saleslab.facts.revenue_by_expr` (sales less returns
in [start, end]), rounded to the cent before ranking. Only known customers with positive revenue
count (anonymous buyers have no customer to concentrate on; a customer whose returns exceed its
sales holds no share). Per channel, and over all channels (``all``, a customer's revenue summed
across channels):

- top_share = Σ revenue of the ``risk_top_n`` (10) largest customers / Σ revenue;
- hhi = Σ sᵢ², sᵢ = a customer's share of the channel's revenue (0–1; ×10,000 for the usual
  points: 1,500 moderately, 2,500 highly concentrated); equivalent_customers = 1 / hhi, the
  number of equal customers that would give the same HHI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params

_COLUMNS = ["channel", "customers", "revenue", "top_revenue", "top_share", "hhi", "equivalent_customers",
            "largest_customer", "largest_share"]


def _one(channel: str, rev: pd.Series, n: int) -> dict:
    rev = rev[rev > 0].sort_values(ascending=False, kind="mergesort")
    total = float(rev.sum())
    if total <= 0:
        return {"channel": channel, "customers": 0, "revenue": 0.0, "top_revenue": 0.0, "top_share": np.nan,
                "hhi": np.nan, "equivalent_customers": np.nan, "largest_customer": None, "largest_share": np.nan}
    s = rev / total
    hhi = float((s ** 2).sum())
    return {"channel": channel, "customers": int(len(rev)), "revenue": round(total, 2),
            "top_revenue": round(float(rev.iloc[:n].sum()), 2), "top_share": round(float(rev.iloc[:n].sum()) / total, 6),
            "hhi": round(hhi, 6), "equivalent_customers": round(1 / hhi, 2), "largest_customer": rev.index[0],
            "largest_share": round(float(s.iloc[0]), 6)}


def concentration_by_channel(eng: Engine, start, end, params: Params | None = None,
                             facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Top-N share and HHI of customer revenue per channel, and over all channels (``all``, first).

    Input: :func:`saleslab.facts.revenue_by_expr` by channel and customer_id over [start, end].
    Returns: channel, customers (with positive revenue), revenue, top_revenue, top_share, hhi,
    equivalent_customers, largest_customer, largest_share — ``all`` first, then channels by
    revenue. Formula: see the module docstring; ties in revenue are ranked by customer id. The
    result records ``params``, ``facts_params``, ``period_start`` and ``period_end``.
    Raises :class:`MissingSource` without orders.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("orders", "order_lines", needed_for="customer concentration")
    r = facts.revenue_by_expr(eng, start, end, ["channel", "customer_id"], fp.returns_basis)
    r = r.filter(r.customer_id.notnull())
    df = eng.execute(r.select("channel", "customer_id", cents=(r.revenue * 100).round(0).cast("int64")))
    df["revenue"] = df["cents"].astype("int64") / 100
    df = df.sort_values(["channel", "customer_id"])
    rows = [_one("all", df.groupby("customer_id")["cents"].sum().sort_index() / 100, params.risk_top_n)]
    for ch, g in df.groupby("channel", sort=True):
        rows.append(_one(ch if isinstance(ch, str) else facts.UNKNOWN, g.set_index("customer_id")["revenue"],
                         params.risk_top_n))
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out = pd.concat([out.iloc[:1], out.iloc[1:].sort_values(["revenue", "channel"], ascending=[False, True])])
    out["customers"] = out["customers"].astype("int64")
    return attach(out.reset_index(drop=True), params, period_start=str(start), period_end=str(end),
                  **fp.model_dump(mode="json"))
