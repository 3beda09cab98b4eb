"""Price elasticity and promotion effect (domain.md §9: multiple regression on price and promotion).

Definitions used here, per channel (not for the total: its price index mixes the channels'
price levels with their volumes), on **daily** data of [start, end] (at
monthly grain the yearly campaigns fall in the same months every year and cannot be told from the
season):

- volume (销量) = Σ quantity of :func:`saleslab.facts.movements_expr` on the day (sales less
  returns); days with volume ≤ 0 are left out (counted in ``days_left_out``);
- price index = Σ net_amount / Σ (quantity × list price) of the day's sales lines
  (:func:`saleslab.facts.sales_lines`, list price from :func:`saleslab.facts.products`): the
  price paid relative to list, so a change of product mix does not move it;
- promotion = 1 on a day inside a campaign (``campaigns.start_date`` .. ``end_date``) of the
  channel, else 0;
- OLS (statsmodels, HC1 robust errors): log volume = a + **elasticity** × log price index +
  **b** × promotion + weekday + calendar-month effects + linear trend + Spring Festival window
  (14 days before to 6 after the festival, :data:`SPRING_FESTIVAL`); promotion lift = e^b − 1.
  Elasticity and lift are reported with their 95 % intervals (the lift's is e^(b ± 1.96 se) − 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params

#: Spring Festival (春节) dates, the calendar's moving holiday.
SPRING_FESTIVAL = {2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
                   2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
                   2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
                   2030: "2030-02-03"}
SF_WINDOW = (-14, 6)


def spring_festival_days(dates) -> np.ndarray:
    """1.0 for a date within 14 days before to 6 days after its year's Spring Festival, else 0."""
    d = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    out = np.zeros(len(d))
    for y, s in SPRING_FESTIVAL.items():
        c = pd.Timestamp(s)
        out[((d >= c + pd.Timedelta(days=SF_WINDOW[0])) & (d <= c + pd.Timedelta(days=SF_WINDOW[1]))).to_numpy()] = 1.0
    return out


def elasticity(frame: pd.DataFrame, min_days: int = 60) -> dict:
    """Fit the regression of the module's definitions on one daily series.

    Input: date, volume, price_index, promo (0/1). Returns: elasticity, elasticity_lo,
    elasticity_hi, promo_lift, promo_lift_lo, promo_lift_hi, promo_days, days_used, days_left_out,
    r2. Raises :class:`InsufficientData` with fewer than ``min_days`` usable days or no price variation.
    """
    from statsmodels.regression.linear_model import OLS

    d = frame.copy()
    d["date"] = pd.to_datetime(d["date"])
    ok = (d["volume"] > 0) & (d["price_index"] > 0) & np.isfinite(d["price_index"])
    left = int((~ok).sum())
    d = d[ok].sort_values("date").reset_index(drop=True)
    if len(d) < min_days:
        raise InsufficientData(f"{len(d)} days with sales and a price; the price regression needs {min_days}",
                               needed_for="price elasticity")
    lp = np.log(d["price_index"].to_numpy(dtype=float))
    if np.std(lp) < 1e-6:
        raise InsufficientData("the price did not vary", needed_for="price elasticity")
    X = pd.DataFrame({"const": 1.0, "log_price": lp, "promo": d["promo"].astype(float).to_numpy(),
                      "trend": (d["date"] - d["date"].min()).dt.days.to_numpy() / 365.25,
                      "spring_festival": spring_festival_days(d["date"])})
    wd = pd.get_dummies(d["date"].dt.dayofweek, prefix="wd", drop_first=True, dtype=float)
    mo = pd.get_dummies(d["date"].dt.month, prefix="m", drop_first=True, dtype=float)
    X = pd.concat([X, wd, mo], axis=1)
    X = X.loc[:, (X != X.iloc[0]).any() | (X.columns == "const")]
    y = np.log(d["volume"].to_numpy(dtype=float))
    res = OLS(y, X).fit(cov_type="HC1")
    ci = res.conf_int(0.05)
    out = {"elasticity": float(res.params["log_price"]), "elasticity_lo": float(ci.loc["log_price", 0]),
           "elasticity_hi": float(ci.loc["log_price", 1]), "days_used": int(len(d)), "days_left_out": left,
           "promo_days": int(d["promo"].sum()), "r2": float(res.rsquared)}
    if "promo" in res.params:
        b, se = float(res.params["promo"]), float(res.bse["promo"])
        out.update(promo_lift=float(np.expm1(b)), promo_lift_lo=float(np.expm1(b - 1.96 * se)),
                   promo_lift_hi=float(np.expm1(b + 1.96 * se)))
    else:
        out.update(promo_lift=np.nan, promo_lift_lo=np.nan, promo_lift_hi=np.nan)
    return out


def _promo_days(camps: pd.DataFrame, days: pd.DatetimeIndex, channel: str) -> np.ndarray:
    c = camps[camps["channel"] == channel]
    on = np.zeros(len(days))
    for s, e in zip(pd.to_datetime(c["start_date"]), pd.to_datetime(c["end_date"])):
        on[(days >= s) & (days <= e)] = 1.0
    return on


def daily_frame(eng: Engine, start, end, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Daily volume and price index per channel (the regression's input).

    Returns: series (``channel/<channel>``), date, volume, price_index, promo.
    Without the campaigns table promo is 0 throughout (and the lift is not estimated)."""
    fp = facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("orders", "order_lines", "products", needed_for="price elasticity")
    m = facts.movements_expr(eng, start, end, fp.returns_basis)
    vol = eng.execute(m.group_by(["date", "channel"]).aggregate(volume=m.quantity.sum()))
    s = facts.sales_lines(eng, start, end)
    p = facts.products(eng).select("product_id", "list_price")
    j = s.left_join(p, "product_id")
    j = j.filter(j.list_price > 0)
    pr = eng.execute(j.group_by(date=j.order_date, channel=j.channel).aggregate(
        paid=j.net_amount.sum(), listed=(j.quantity * j.list_price).sum()))
    camps = eng.execute(eng.table("campaigns").select("channel", "start_date", "end_date")) if eng.rows("campaigns") \
        else pd.DataFrame(columns=["channel", "start_date", "end_date"])
    for df_ in (vol, pr):
        df_["date"] = pd.to_datetime(df_["date"])
        df_["channel"] = df_["channel"].fillna(facts.UNKNOWN)
    days = pd.date_range(start, end, freq="D")
    out = []
    for ch in sorted(set(vol["channel"])):
        v = vol[vol["channel"] == ch].groupby("date")["volume"].sum().reindex(days).fillna(0.0)
        q = pr[pr["channel"] == ch].groupby("date")[["paid", "listed"]].sum().reindex(days)
        out.append(pd.DataFrame({"series": f"channel/{ch}", "date": days,
                                 "volume": v.to_numpy(dtype=float),
                                 "price_index": (q["paid"] / q["listed"]).to_numpy(dtype=float),
                                 "promo": _promo_days(camps, days, ch)}))
    return pd.concat(out, ignore_index=True)


def price_promo_effects(eng: Engine, start, end, params: Params | None = None,
                        facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Price elasticity and promotion lift for each channel (module definitions).

    Returns: unique_id (``channel/<c>``), elasticity, elasticity_lo, elasticity_hi,
    promo_lift, promo_lift_lo, promo_lift_hi, promo_days, days_used, days_left_out, r2. A series
    with too few days is left out; none at all raises :class:`InsufficientData`.
    """
    p, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    d = daily_frame(eng, start, end, fp)
    rows = []
    for sid, g in d.groupby("series", sort=False):
        try:
            rows.append({"unique_id": sid, **elasticity(g)})
        except InsufficientData:
            continue
    if not rows:
        raise InsufficientData("no channel has enough days with sales and prices", needed_for="price elasticity")
    df = pd.DataFrame(rows)
    df = df.sort_values("unique_id").reset_index(drop=True)
    return attach(df, p, period_start=str(start), period_end=str(end), **fp.model_dump(mode="json"))
