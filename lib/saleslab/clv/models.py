"""Customer lifetime value (CLV / LTV, domain.md §6): BG/NBD for the number of purchases and
Gamma-Gamma for the spend per purchase, fitted by our own maximum likelihood (scipy).

Definitions used here:

- a **purchase** is a customer's purchase *day* with the value the facts layer gives it
  (:func:`saleslab.facts.customer_purchases_expr`: all of a known customer's orders dated that day,
  Σ net_amount of their lines − Σ refunds of those orders dated up to the cut-off, in integer
  cents — returns are netted on the day of the original purchase, not the return day); with
  ``value="margin"`` the value is that revenue − the cost of goods net of the returned cost;
- the RFM summary (:func:`summary`), field-standard names as in lifetimes / PyMC-Marketing:
  ``frequency`` = repeat purchases = purchase days − 1; ``recency`` = first to last purchase;
  ``T`` = first purchase to the calibration end; ``monetary_value`` = mean value of the repeat
  purchases (0 when frequency is 0); time in weeks (``time_unit="W"``, days / 7) or days ("D");
- BG/NBD (Fader, Hardie & Lee 2005): while alive a customer buys at rate λ ~ Gamma(r, α); after
  each purchase they drop out with probability p ~ Beta(a, b);
- Gamma-Gamma (Fader, Hardie & Lee 2005): purchase values ~ Gamma(p, ν), ν ~ Gamma(q, v),
  fitted on customers with frequency > 0 and monetary_value > 0;
- CLV = Σ over the months m = 1..H (``clv_horizon_months``) of expected purchases in month m ×
  expected value per purchase × margin rate / (1 + monthly rate)^m, monthly rate =
  (1 + ``clv_annual_discount``)^(1/12) − 1;
- hold-out check: the purchase model fitted up to ``clv_holdout_months`` before ``as_of`` and its
  predicted purchases compared with the actual ones after;
- LTV/CAC = mean CLV of the customers won through a channel (customers.acquisition_channel) /
  the channel's CAC (:func:`saleslab.channels.channel_performance`).

What each part needs (a warehouse built from a few sources lacks some): the summary needs orders
and their lines; both models need customers with repeat purchases (:data:`MIN_REPEAT_CUSTOMERS`;
:class:`~saleslab.errors.InsufficientData` says how many there are); CLV on gross margin needs the
product master's unit costs (without it the margin is unknown: :class:`~saleslab.errors.MissingSource`);
the hold-out check needs purchases in the hold-out; LTV/CAC needs the customer master's
acquisition channel and channel costs.

Parameters come from :class:`saleslab.clv.params.Params`; every result records them
(:func:`saleslab.params.attach`). The simple entry point is :func:`predicted_clv` (summary, both
fits and :func:`customer_value` in one call). The RFM summary is an Ibis expression (DuckDB and
PySpark); models work on its pandas result. One fit per run: the customers stage saves its
:func:`predicted_clv` (:data:`SHARED_TABLE`) and the CLV stage takes models and values from it
(:func:`value_parts`) when they were computed for the same date and parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from scipy import optimize, special

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, MissingSource, SalesLabError
from ..facts import Params as FactsParams
from ..params import attach
from ..parts import Part, attempt
from ..periods import as_date
from .params import Params

#: Days per time unit of the summary.
TIME_UNITS = {"W": 7.0, "D": 1.0}
#: What a purchase's value measures.
VALUES = ("revenue", "margin")
#: Frequency groups of the hold-out check: 0..6 and "7+".
MAX_FREQUENCY_GROUP = 7
#: Allowed CLV horizon in months (domain.md §6: 3–12 months; :class:`Params` enforces it).
HORIZON_RANGE = (3, 12)
#: Customers with repeat purchases each model needs at least.
MIN_REPEAT_CUSTOMERS = 3
DAYS_PER_MONTH = 365.25 / 12
_EARLIEST = dt.date(1900, 1, 1)


def _check_unit(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise SalesLabError(f"time_unit must be one of {', '.join(TIME_UNITS)} (got {time_unit!r})")
    return TIME_UNITS[time_unit]


# ---------------------------------------------------------------------------------------------
# RFM summary (Ibis)
# ---------------------------------------------------------------------------------------------

def _cents(x):
    """Money as integer cents (sums of these are exact and order-free)."""
    return (x * 100).round().cast("int64")


def purchase_days_expr(eng: Engine, start, end, value: str = "revenue") -> ibis.Table:
    """One row per known customer and purchase day in [start, end] with the day's net value.

    Input: :func:`saleslab.facts.customer_purchases_expr` up to ``end`` (customer_id, order_date,
    value, cost — value net of the refunds of that day's orders dated ≤ ``end``).
    Returns (Ibis): customer_id, order_date, purchase_cents (int), purchase_value (元 = cents / 100).
    Money is summed in integer cents: the same data give the same figures on every engine and run
    (a parallel float sum is not associative).
    Formula: purchase_value = value (``value="revenue"``) or value − cost (``value="margin"``).
    """
    if value not in VALUES:
        raise SalesLabError(f"value must be one of {', '.join(VALUES)} (got {value!r})")
    eng.require("orders", "order_lines", needed_for="customer purchases")
    if value == "margin":
        eng.require("products", needed_for="purchase margins (unit costs)")
    start, end = as_date(start), as_date(end)
    p = facts.customer_purchases_expr(eng, end)
    p = p.filter(p.order_date >= start)
    amount = _cents(p.value) if value == "revenue" else _cents(p.value) - _cents(p.cost)
    return p.select(customer_id=p.customer_id, order_date=p.order_date, purchase_cents=amount,
                    purchase_value=amount.cast("float64") / 100)


def summary_expr(eng: Engine, calibration_end, start=None, time_unit: str = "W",
                 value: str = "revenue") -> ibis.Table:
    """The RFM summary of every known customer with a purchase in [start, calibration_end].

    Input: as :func:`purchase_days_expr` (``start`` None: all history).
    Returns (Ibis): customer_id, frequency, recency, T, monetary_value.
    Formula: frequency = purchase days − 1; recency = last − first purchase day; T =
    calibration_end − first purchase day (both in ``time_unit``: weeks = days / 7, or days);
    monetary_value = (Σ purchase values − first purchase's value) / frequency, 0 if frequency = 0.
    """
    unit = _check_unit(time_unit)
    end = as_date(calibration_end)
    d = purchase_days_expr(eng, as_date(start) if start is not None else _EARLIEST, end, value)
    first = d.order_date.min().over(ibis.window(group_by=d.customer_id))
    d = d.mutate(is_first=d.order_date == first)
    zero = ibis.literal(0.0)
    c = d.group_by("customer_id").aggregate(
        first_date=d.order_date.min(), last_date=d.order_date.max(), days=d.count(),
        total=d.purchase_cents.sum(), first_value=ibis.ifelse(d.is_first, d.purchase_cents, 0).sum())
    freq = c.days - 1
    return c.select(
        customer_id=c.customer_id,
        frequency=freq.cast("int64"),
        recency=c.last_date.delta(c.first_date, unit="day").cast("float64") / unit,
        T=ibis.literal(end).delta(c.first_date, unit="day").cast("float64") / unit,
        monetary_value=ibis.ifelse(freq > 0, (c.total - c.first_value).cast("float64") / 100 / freq.cast("float64"),
                                   zero),
    )


def summary(eng: Engine, calibration_end, start=None, time_unit: str = "W", value: str = "revenue",
            margin_rate: bool = True) -> pd.DataFrame:
    """:func:`summary_expr` as a pandas frame sorted by customer_id (one row per customer).

    Columns: customer_id, frequency, recency, T, monetary_value (元 to the cent). ``attrs`` records
    ``time_unit``, ``value``, ``calibration_end`` and ``margin_rate`` (gross margin of the
    calibration purchases = Σ (value − cost) / Σ value; 1.0 for ``value="margin"``; None when no
    source provides the product master, so that unit costs and margin are unknown), which
    :func:`customer_value` uses when no margin is given. ``margin_rate=False`` skips that rate (a
    pass over the purchases) for a summary only fitted on, never valued (``attrs`` then lack it).
    """
    df = eng.execute(summary_expr(eng, calibration_end, start, time_unit, value))
    df["frequency"] = df["frequency"].astype("int64")
    for c in ("recency", "T"):
        df[c] = df[c].astype("float64")
    df["monetary_value"] = df["monetary_value"].astype("float64").round(2)
    df = df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    rate = {"margin_rate": 1.0}
    if not margin_rate:
        rate = {}
    elif value == "revenue":
        rate["margin_rate"] = _margin_rate(eng, start, calibration_end) if eng.rows("products") else None
    df = df[["customer_id", "frequency", "recency", "T", "monetary_value"]]
    df.attrs.update(time_unit=time_unit, value=value, **rate, calibration_end=str(as_date(calibration_end)))
    return df


def _margin_rate(eng: Engine, start, end) -> float:
    """Σ margin cents / Σ revenue cents of the purchase days (:func:`purchase_days_expr` with
    value revenue and margin) in [start, end]: :func:`saleslab.facts.customer_purchase_totals_expr`."""
    t = eng.execute(facts.customer_purchase_totals_expr(eng, start, as_date(end)))
    r, c = (0 if pd.isna(t[k].iloc[0]) else int(t[k].iloc[0]) for k in ("value_cents", "cost_cents"))
    return round((r - c) / r, 6) if r > 0 else 1.0


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def _grouped(df: pd.DataFrame, cols: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Identical rows collapsed, with their counts as weights (the likelihood is a sum over rows)."""
    g = df.groupby(cols, sort=True).size().reset_index(name="_w")
    return [g[c].to_numpy(dtype="float64") for c in cols], g["_w"].to_numpy(dtype="float64")


def _check_columns(df: pd.DataFrame, cols) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SalesLabError(f"the summary table lacks column(s) {', '.join(missing)} "
                            f"(build it with saleslab.clv.summary)")


@dataclass
class BetaGeoModel:
    """A fitted BG/NBD model. ``params``: r, alpha, a, b (alpha in the summary's time unit)."""

    params: dict
    log_likelihood: float
    converged: bool
    n_customers: int
    iterations: int = 0
    message: str = ""
    time_unit: str = "W"

    def _p(self):
        p = self.params
        return p["r"], p["alpha"], p["a"], p["b"]

    def expected_purchases(self, t, frequency, recency, T):
        """Conditional expected number of purchases in the next ``t`` time units of a customer
        with the given history (Fader, Hardie & Lee 2005, eq. 10)."""
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        t = np.asarray(t, dtype="float64")
        aa, bb, cc = r + x, b + x, a + b + x - 1
        z = t / (alpha + T + t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            hyp = np.log(special.hyp2f1(aa, bb, cc, z))
            alt = np.log(special.hyp2f1(cc - aa, cc - bb, cc, z)) + (cc - aa - bb) * np.log1p(-z)
            hyp = np.where(np.isfinite(hyp), hyp, alt)
            first = (a + b + x - 1) / (a - 1)
            second = 1 - np.exp(hyp + (r + x) * np.log((alpha + T) / (alpha + t + T)))
            denom = 1 + (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)
        return first * second / denom

    def probability_alive(self, frequency, recency, T):
        """P(customer still active at T | history); 1 for customers without repeat purchases."""
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        log_div = (r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + np.maximum(x, 1) - 1))
        return np.where(x == 0, 1.0, special.expit(-log_div))

    def expected_purchases_new(self, t):
        """Expected purchases in (0, t] of a customer just acquired (unconditional, eq. 7)."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype="float64")
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))


@dataclass
class GammaGammaModel:
    """A fitted Gamma-Gamma spend model. ``params``: p, q, v (money in the summary's value)."""

    params: dict
    log_likelihood: float
    converged: bool
    n_customers: int
    iterations: int = 0
    message: str = ""

    def conditional_expected_value(self, frequency, monetary_value):
        """E[value per purchase | x repeat purchases of mean m] = p (v + x m) / (p x + q − 1);
        the population mean p v / (q − 1) for x = 0 (negative means count as 0)."""
        p, q, v = self.params["p"], self.params["q"], self.params["v"]
        x = np.asarray(frequency, dtype="float64")
        m = np.clip(np.asarray(monetary_value, dtype="float64"), 0, None)
        return p * (v + x * m) / (p * x + q - 1)

    @property
    def population_mean(self) -> float:
        """Mean value per purchase in the population, p v / (q − 1) (infinite when q ≤ 1)."""
        p, q, v = self.params["p"], self.params["q"], self.params["v"]
        return p * v / (q - 1) if q > 1 else float("inf")


def bg_nbd_log_likelihood(log_params, x, tx, T, w=None, gradient: bool = False):
    """Σ w · log L(r, α, a, b | x, t_x, T) at ``log_params`` = log(r, α, a, b); with ``gradient``,
    also its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    w = np.ones_like(x) if w is None else w
    gl = special.gammaln
    pos = x > 0
    base = gl(r + x) - gl(r) + r * np.log(alpha)
    lab = special.betaln(a, b)
    a2 = special.betaln(a, b + x) - lab - (r + x) * np.log(alpha + T)
    a3 = np.where(pos, special.betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - lab - (r + x) * np.log(alpha + tx),
                  -np.inf)
    tot = np.logaddexp(a2, a3)
    ll = float(np.sum(w * (base + tot)))
    if not gradient:
        return ll
    s2 = np.exp(a2 - tot)
    s3 = 1.0 - s2
    dg = special.digamma
    d_r = dg(r + x) - dg(r) + np.log(alpha) - s2 * np.log(alpha + T) - s3 * np.log(alpha + tx)
    d_alpha = r / alpha - s2 * (r + x) / (alpha + T) - s3 * (r + x) / (alpha + tx)
    common_a = dg(a + b) - dg(a + b + x)
    d_a = common_a + s3 / a
    d_b = common_a - dg(b) + s2 * dg(b + x) + s3 * np.where(pos, dg(np.maximum(b + x - 1, 1e-300)), 0.0)
    grad = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)]) * np.array([r, alpha, a, b])
    return ll, grad


def gamma_gamma_log_likelihood(log_params, x, m, w=None, gradient: bool = False):
    """Σ w · log L(p, q, v | x, m) of the Gamma-Gamma model (x > 0, m > 0); with ``gradient``,
    also its gradient with respect to log(p, q, v)."""
    p, q, v = np.exp(log_params)
    w = np.ones_like(x) if w is None else w
    gl = special.gammaln
    px = p * x
    ll_i = (gl(px + q) - gl(px) - gl(q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
            - (px + q) * np.log(x * m + v))
    ll = float(np.sum(w * ll_i))
    if not gradient:
        return ll
    dg = special.digamma
    lxm = np.log(x * m + v)
    d_p = x * (dg(px + q) - dg(px) + np.log(m) + np.log(x) - lxm)
    d_q = dg(px + q) - dg(q) + np.log(v) - lxm
    d_v = q / v - (px + q) / (x * m + v)
    grad = np.array([np.sum(w * d) for d in (d_p, d_q, d_v)]) * np.array([p, q, v])
    return ll, grad


#: Search bounds of the log-parameters; a fit ending on one has no finite optimum (see :func:`_at_bound`).
LOG_BOUND = 12.0


def _at_bound(model: str, names, log_params, n: int) -> None:
    """InsufficientData when a fitted log-parameter ends on the search bound: the likelihood keeps
    rising towards infinity (too few or too alike customers), so the estimates mean nothing."""
    hit = [k for k, v in zip(names, log_params) if abs(v) >= LOG_BOUND - 1e-6]
    if hit:
        raise InsufficientData(f"the {model} fit on {n:,} customers has no finite optimum: {', '.join(hit)} ends on "
                               f"the bound of the search, the purchases are too few or too alike to fit the model")


def _maximise(fun, x0, n: float):
    """Maximise a log-likelihood over log-parameters with L-BFGS-B (analytic gradient)."""
    def neg(theta):
        ll, g = fun(theta)
        if not np.isfinite(ll):
            return 1e10, np.zeros_like(theta)
        return -ll / n, -g / n

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    res = optimize.minimize(neg, np.asarray(x0, dtype="float64"), jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
    return res


def fit_bg_nbd(summary: pd.DataFrame, time_unit: str | None = None) -> BetaGeoModel:
    """Fit BG/NBD by maximum likelihood to a :func:`summary` table (frequency, recency, T).

    Returns a :class:`BetaGeoModel` whose ``params`` are r, alpha, a, b; ``converged`` says
    whether the optimiser met its tolerance. Raises :class:`~saleslab.errors.InsufficientData` when
    no customer has T > 0, fewer than :data:`MIN_REPEAT_CUSTOMERS` bought more than once, or the
    likelihood has no finite optimum (a parameter ends on the search bound).
    """
    _check_columns(summary, ("frequency", "recency", "T"))
    df = summary[summary["T"] > 0]
    if df.empty:
        raise InsufficientData("no customer with T > 0 (a first purchase before the calibration end): "
                               "nothing to fit the BG/NBD model on")
    repeat = int((df["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        raise InsufficientData(f"{repeat} of {len(df)} customer(s) bought more than once: the BG/NBD purchase model "
                               f"needs at least {MIN_REPEAT_CUSTOMERS} with repeat purchases")
    (x, tx, T), w = _grouped(df, ["frequency", "recency", "T"])
    n = float(w.sum())
    mean_rate = max(float(np.sum(w * x) / np.sum(w * T)), 1e-6)
    x0 = np.log([1.0, 1.0 / mean_rate, 1.0, 3.0])
    res = _maximise(lambda th: bg_nbd_log_likelihood(th, x, tx, T, w, gradient=True), x0, n)
    _at_bound("BG/NBD", ("r", "alpha", "a", "b"), res.x, int(n))
    r, alpha, a, b = np.exp(res.x)
    return BetaGeoModel({"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)},
                        float(-res.fun * n), bool(res.success), int(n), int(res.nit), str(res.message),
                        time_unit or summary.attrs.get("time_unit", "W"))


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaModel:
    """Fit Gamma-Gamma by maximum likelihood on the customers with frequency > 0 and
    monetary_value > 0 of a :func:`summary` table. ``params``: p, q, v. Raises
    :class:`~saleslab.errors.InsufficientData` with fewer than :data:`MIN_REPEAT_CUSTOMERS` such
    customers or when p or q ends on the search bound (no finite optimum)."""
    _check_columns(summary, ("frequency", "monetary_value"))
    df = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(df) < MIN_REPEAT_CUSTOMERS:
        raise InsufficientData(f"{len(df)} customer(s) with repeat purchases of positive value: the Gamma-Gamma "
                               f"spend model needs at least {MIN_REPEAT_CUSTOMERS}")
    (x, m), w = _grouped(df, ["frequency", "monetary_value"])
    n = float(w.sum())
    mean_m = float(np.sum(w * m) / n)
    x0 = np.log([1.0, 2.0, mean_m])
    res = _maximise(lambda th: gamma_gamma_log_likelihood(th, x, m, w, gradient=True), x0, n)
    _at_bound("Gamma-Gamma", ("p", "q"), res.x[:2], int(n))  # v is money: its size depends on the currency unit
    p, q, v = np.exp(res.x)
    return GammaGammaModel({"p": float(p), "q": float(q), "v": float(v)}, float(-res.fun * n), bool(res.success),
                           int(n), int(res.nit), str(res.message))


def model_parameters(bgf: BetaGeoModel, ggf: GammaGammaModel) -> pd.DataFrame:
    """Both models' parameters in one table: clv_model (bg_nbd | gamma_gamma), clv_parameter,
    clv_estimate, plus each model's log_likelihood, converged flag and fitted_customers."""
    rows = [("bg_nbd", k, v) for k, v in bgf.params.items()] + [("gamma_gamma", k, v) for k, v in ggf.params.items()]
    df = pd.DataFrame(rows, columns=["clv_model", "clv_parameter", "clv_estimate"])
    info = {"bg_nbd": bgf, "gamma_gamma": ggf}
    df["log_likelihood"] = [round(info[m].log_likelihood, 2) for m in df["clv_model"]]
    df["converged"] = [info[m].converged for m in df["clv_model"]]
    df["fitted_customers"] = [info[m].n_customers for m in df["clv_model"]]
    df["clv_estimate"] = df["clv_estimate"].round(6)
    return df


# ---------------------------------------------------------------------------------------------
# Customer value
# ---------------------------------------------------------------------------------------------

def customer_value(summary: pd.DataFrame, bgf: BetaGeoModel, ggf: GammaGammaModel, params: Params | None = None,
                   margin: float | None = None) -> pd.DataFrame:
    """Expected purchases, probability alive, expected value per purchase and CLV per customer.

    Parameters
    ----------
    summary : :func:`summary`'s table (its ``attrs`` give time_unit and margin_rate).
    params : the clv parameters (``clv_horizon_months`` 3..12 months ahead, ``clv_annual_discount``
        the yearly discount rate, discounted monthly: (1 + d)^(1/12) − 1 per month); None: defaults.
    margin : gross margin rate in (0, 1] turning expected revenue into margin; default: the
        summary's ``margin_rate`` (the calibration purchases' gross margin, 1.0 when the summary
        was built on margin). A summary whose margin is unknown (no product master) raises
        :class:`~saleslab.errors.MissingSource` naming ``products``: a CLV on revenue would not be
        the margin it says it is.

    Returns
    -------
    customer_id, frequency, recency, T, monetary_value, expected_purchases (over the horizon),
    p_alive, expected_spend (value per purchase), clv (元, margin, discounted) — highest CLV first.
    Formula: clv = Σ_m (E[purchases by month m] − E[by month m−1]) × expected_spend × margin
    / (1 + monthly rate)^m. The result records ``params``, ``margin``, ``time_unit`` and
    ``calibration_end`` (:func:`saleslab.params.attach`). Raises
    :class:`~saleslab.errors.InsufficientData` when the models give no finite value for a customer.
    """
    params = params or Params()
    horizon, discount = params.clv_horizon_months, params.clv_annual_discount
    if margin is None:
        if "margin_rate" in summary.attrs and summary.attrs["margin_rate"] is None:
            raise MissingSource("CLV on gross margin needs products (unit costs): no source in this warehouse "
                                "provides them", tables=("products",), needed_for="customer lifetime value")
        margin = summary.attrs.get("margin_rate")
        if margin is None:
            raise SalesLabError("pass margin= (gross margin rate): the summary does not record one")
    if not 0 < margin <= 1:
        raise SalesLabError(f"margin must be a rate in (0, 1] (got {margin!r})")
    _check_columns(summary, ("customer_id", "frequency", "recency", "T", "monetary_value"))
    unit = _check_unit(summary.attrs.get("time_unit", bgf.time_unit))
    x, tx, T = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    monthly = (1 + discount) ** (1 / 12) - 1
    spend = ggf.conditional_expected_value(x, summary["monetary_value"].to_numpy(dtype="float64"))
    prev = np.zeros(len(summary))
    discounted = np.zeros(len(summary))
    for m in range(1, horizon + 1):
        cum = bgf.expected_purchases(m * DAYS_PER_MONTH / unit, x, tx, T)
        discounted += (cum - prev) / (1 + monthly) ** m
        prev = cum
    bad = int((~np.isfinite(discounted * spend)).sum())
    if bad:
        raise InsufficientData(f"the fitted models give no finite value for {bad:,} of {len(summary):,} customers: "
                               f"the purchases are too few or too alike for the models", needed_for="CLV")
    out = summary[["customer_id", "frequency", "recency", "T", "monetary_value"]].copy()
    out["expected_purchases"] = np.round(prev, 6)
    out["p_alive"] = np.round(bgf.probability_alive(x, tx, T), 6)
    out["expected_spend"] = np.round(spend, 2)
    out["clv"] = np.round(discounted * spend * margin, 2)
    out = out.sort_values(["clv", "customer_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out.attrs = {k: v for k, v in summary.attrs.items() if k != "params"}
    return attach(out, params, margin=float(margin), time_unit=summary.attrs.get("time_unit", bgf.time_unit),
                  calibration_end=summary.attrs.get("calibration_end"))


def predicted_clv(eng: Engine, as_of, params: Params | None = None, start=None, time_unit: str = "W") -> pd.DataFrame:
    """CLV of every known customer with a purchase up to ``as_of``: :func:`summary` (all history, or
    from ``start``), :func:`fit_bg_nbd`, :func:`fit_gamma_gamma` and :func:`customer_value` in one call.

    Input: purchases from :func:`saleslab.facts.customer_purchases_expr` up to ``as_of``.
    Returns: as :func:`customer_value` (customer_id, frequency, recency, T, monetary_value,
    expected_purchases, p_alive, expected_spend, clv), highest CLV first, recording ``params`` and
    the fitted model parameters (``bg_nbd_<r|alpha|a|b>``, ``gamma_gamma_<p|q|v>``).
    Formula: see :func:`customer_value`; the margin rate is the purchases' gross margin.
    """
    s = summary(eng, as_of, start, time_unit)
    bgf, ggf = fit_bg_nbd(s), fit_gamma_gamma(s)
    out = customer_value(s, bgf, ggf, params)
    return attach(out, **{f"bg_nbd_{k}": v for k, v in bgf.params.items()},
                  **{f"gamma_gamma_{k}": v for k, v in ggf.params.items()},
                  bg_nbd_fit=_fit_record(bgf), gamma_gamma_fit=_fit_record(ggf), start=None if start is None
                  else str(as_date(start)))


#: the stage table of :func:`predicted_clv` that the customers stage (06) saves for the CLV stage (07)
#: of the same run (:func:`value_parts`): one summary and one fit of the models per run
SHARED_TABLE = "predicted_clv"


def _fit_record(model) -> dict:
    """What :func:`_model_from` needs to rebuild a fitted model (parameters at full precision)."""
    rec = {"params": dict(model.params), "log_likelihood": model.log_likelihood, "converged": model.converged,
           "n_customers": model.n_customers, "iterations": model.iterations, "message": model.message}
    if isinstance(model, BetaGeoModel):
        rec["time_unit"] = model.time_unit
    return rec


def _model_from(cls, rec: dict):
    return cls(**{**rec, "params": {k: float(v) for k, v in rec["params"].items()}})


def shared_values(eng: Engine, as_of, params: Params | None = None) -> pd.DataFrame | None:
    """The :func:`predicted_clv` table an earlier stage of this run saved (:data:`SHARED_TABLE`, read
    through :meth:`~saleslab.engine.Engine.find_result`) when it was computed for ``as_of`` over all
    history with the same CLV parameters; None otherwise (no run folder, not saved, other parameters)."""
    found = eng.find_result(SHARED_TABLE)
    if found is None:
        return None
    values = found[1]
    rec = values.attrs.get("params", {})
    want = {**(params or Params()).model_dump(mode="json"), "calibration_end": str(as_date(as_of)), "start": None}
    if any(rec.get(k, "?") != v for k, v in want.items()) or not {"bg_nbd_fit", "gamma_gamma_fit"} <= rec.keys():
        return None
    return values


def value_parts(eng: Engine, as_of, params: Params | None = None):
    """The purchase model, the spend model and the customer values of the CLV stage as three parts
    (:func:`~saleslab.parts.attempt`): :func:`fit_bg_nbd`, :func:`fit_gamma_gamma` and
    :func:`customer_value` on :func:`summary` up to ``as_of`` — or, when the customers stage of this
    run already computed them with the same parameters (:func:`shared_values`), its table and the
    models rebuilt from the parameters it records (the same numbers, fitted once per run)."""
    shared = shared_values(eng, as_of, params)
    if shared is not None:
        rec = shared.attrs["params"]
        return (Part(_model_from(BetaGeoModel, rec["bg_nbd_fit"])), Part(_model_from(GammaGammaModel,
                rec["gamma_gamma_fit"])), Part(shared))
    rfm = summary(eng, as_of)
    bgf, ggf = attempt(fit_bg_nbd, rfm), attempt(fit_gamma_gamma, rfm)
    return bgf, ggf, attempt(customer_value, rfm, bgf, ggf, params)


def clv_totals(values: pd.DataFrame) -> dict:
    """Headline figures of :func:`customer_value`: customers, total and mean CLV, share of the
    total held by the top 20 % of customers, mean p_alive."""
    n = len(values)
    total = float(values["clv"].sum())
    top = values["clv"].sort_values(ascending=False).head(max(1, int(np.ceil(0.2 * n)))).sum() if n else 0.0
    return {"customers": n, "total_clv": round(total, 2), "mean_clv": round(total / n, 2) if n else None,
            "top20_share": round(float(top) / total, 4) if total > 0 else None,
            "mean_p_alive": round(float(values["p_alive"].mean()), 4) if n else None}


# ---------------------------------------------------------------------------------------------
# Hold-out check
# ---------------------------------------------------------------------------------------------

@dataclass
class HoldoutCheck:
    """Calibration / hold-out comparison. ``groups``: one row per frequency group; ``errors``: dict."""

    groups: pd.DataFrame
    errors: dict
    customers: pd.DataFrame = field(repr=False)
    model: BetaGeoModel | None = field(default=None, repr=False)


def frequency_group(frequency) -> np.ndarray:
    """Frequency group labels "0".."6" and "7+" (:data:`MAX_FREQUENCY_GROUP`)."""
    f = np.asarray(frequency)
    return np.where(f >= MAX_FREQUENCY_GROUP, f"{MAX_FREQUENCY_GROUP}+", f.astype(str)).astype(object)


def holdout_purchases_expr(eng: Engine, calibration_end, holdout_end) -> ibis.Table:
    """Purchase days of each known customer in (calibration_end, holdout_end].

    Input: :func:`purchase_days_expr` (facts layer) over the hold-out.
    Returns (Ibis): customer_id, holdout_purchases (= count of purchase days).
    """
    lo = as_date(calibration_end) + dt.timedelta(days=1)
    d = purchase_days_expr(eng, lo, holdout_end)
    return d.group_by("customer_id").aggregate(holdout_purchases=d.count())


def calibration_end(holdout_end, holdout_months: int = 6) -> dt.date:
    """The calibration end ``holdout_months`` months (of 365.25 / 12 days, rounded to whole days)
    before ``holdout_end``."""
    if not isinstance(holdout_months, (int, np.integer)) or holdout_months < 1:
        raise SalesLabError(f"holdout_months must be a whole number ≥ 1 (got {holdout_months!r})")
    return as_date(holdout_end) - dt.timedelta(days=int(round(holdout_months * DAYS_PER_MONTH)))


def holdout_check(eng: Engine, as_of, params: Params | None = None, start=None, time_unit: str = "W",
                  bgf: BetaGeoModel | None = None) -> HoldoutCheck:
    """Fit BG/NBD on [start, calibration end] (unless ``bgf`` is given), the calibration end being
    ``params.clv_holdout_months`` before ``as_of`` (:func:`calibration_end`), and compare its predicted
    repeat purchases in (calibration end, as_of] with the actual ones.

    Input: purchase days (:func:`purchase_days_expr`, from the facts layer).
    Returns a :class:`HoldoutCheck`: ``groups`` has frequency_group, customer_count, actual_mean,
    predicted_mean, naive_mean, actual_total, predicted_total (per calibration frequency group);
    ``errors`` has customers, holdout_length, actual_total, predicted_total,
    total_relative_error ((predicted − actual) / actual), mae (mean |predicted − actual| per
    customer) and naive_mae / naive_total_relative_error of the baseline "same rate as in the
    calibration period" (frequency / T × hold-out length). ``groups`` records ``params`` and the
    calibration_end. Raises :class:`~saleslab.errors.InsufficientData` when nobody bought in the
    hold-out (nothing to check the model against), when the model predicts no finite number of
    purchases, or as :func:`fit_bg_nbd`.
    """
    params = params or Params()
    h_end = as_date(as_of)
    cal_end = calibration_end(h_end, params.clv_holdout_months)
    unit = _check_unit(time_unit)
    s = summary(eng, cal_end, start, time_unit, margin_rate=False)  # fitted and compared, never valued
    if bgf is None:
        bgf = fit_bg_nbd(s)
    h = eng.execute(holdout_purchases_expr(eng, cal_end, h_end))
    c = s.merge(h, on="customer_id", how="left")
    c["holdout_purchases"] = c["holdout_purchases"].fillna(0).astype("int64")
    if not c["holdout_purchases"].sum():
        raise InsufficientData(f"none of the {len(c):,} customers of the calibration period bought in the hold-out "
                               f"({cal_end + dt.timedelta(days=1)} – {h_end}, the last {params.clv_holdout_months} "
                               f"months): the check needs purchases after the calibration end",
                               needed_for="hold-out check")
    length = (h_end - cal_end).days / unit
    c["predicted"] = bgf.expected_purchases(length, c["frequency"], c["recency"], c["T"])
    bad = int((~np.isfinite(c["predicted"])).sum())
    if bad:
        raise InsufficientData(f"the purchase model fitted before the hold-out predicts no finite number of purchases "
                               f"for {bad:,} of {len(c):,} customers: the purchases are too few or too alike",
                               needed_for="hold-out check")
    c["naive"] = np.where(c["T"] > 0, c["frequency"] / c["T"].where(c["T"] > 0, 1.0), 0.0) * length
    c["frequency_group"] = frequency_group(c["frequency"])
    g = c.groupby("frequency_group").agg(
        customer_count=("customer_id", "size"), actual_mean=("holdout_purchases", "mean"),
        predicted_mean=("predicted", "mean"), naive_mean=("naive", "mean"),
        actual_total=("holdout_purchases", "sum"), predicted_total=("predicted", "sum")).reset_index()
    order = {f"{MAX_FREQUENCY_GROUP}+": MAX_FREQUENCY_GROUP}
    g = g.assign(_o=[order.get(v, int(v) if v.isdigit() else 99) for v in g["frequency_group"]]).sort_values(
        "_o").drop(columns="_o").reset_index(drop=True)
    for col in ("actual_mean", "predicted_mean", "naive_mean", "predicted_total"):
        g[col] = g[col].round(4)
    g["actual_total"] = g["actual_total"].astype("int64")
    actual = float(c["holdout_purchases"].sum())
    pred = float(c["predicted"].sum())
    naive = float(c["naive"].sum())
    errors = {
        "customers": int(len(c)), "holdout_length": round(length, 4),
        "actual_total": int(actual), "predicted_total": round(pred, 2),
        "total_relative_error": round((pred - actual) / actual, 4) if actual else None,
        "mae": round(float(np.mean(np.abs(c["predicted"] - c["holdout_purchases"]))), 4),
        "naive_mae": round(float(np.mean(np.abs(c["naive"] - c["holdout_purchases"]))), 4),
        "naive_total_relative_error": round((naive - actual) / actual, 4) if actual else None,
    }
    attach(g, params, calibration_end=str(cal_end), time_unit=time_unit)
    return HoldoutCheck(g, errors, c, bgf)


def holdout_errors_table(check: HoldoutCheck) -> pd.DataFrame:
    """:class:`HoldoutCheck` errors as a table: scorer (bg_nbd | naive_rate), mae, total_relative_error
    (recording the check's parameters)."""
    e = check.errors
    out = pd.DataFrame({"scorer": ["bg_nbd", "naive_rate"], "mae": [e["mae"], e["naive_mae"]],
                        "total_relative_error": [e["total_relative_error"], e["naive_total_relative_error"]]})
    return attach(out, **check.groups.attrs.get("params", {}))


# ---------------------------------------------------------------------------------------------
# LTV / CAC by acquisition channel
# ---------------------------------------------------------------------------------------------

UNKNOWN_CHANNEL = facts.UNKNOWN


def ltv_cac(eng: Engine, values: pd.DataFrame | None, start, end,
            facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Mean CLV of the customers won through each channel over the channel's CAC.

    Input: :func:`customer_value`'s table (customer_id, clv), customers(customer_id,
    acquisition_channel), and CAC from :func:`saleslab.channels.channel_performance` over [start, end].
    Returns: channel, customer_count, mean_clv, total_clv, cac, ltv_cac — highest LTV/CAC first;
    customers without a master row or acquisition channel fall under ``unknown`` (no CAC).
    Formula: ltv_cac = mean_clv / cac. The result records the parameters ``values`` was computed with.
    Raises :class:`~saleslab.errors.MissingSource` when no source provides the customer master or
    channel costs, :class:`~saleslab.errors.InsufficientData` when ``values`` is None (the CLV could
    not be computed) or empty, or when no customer in the master has an acquisition channel.
    """
    from ..channels.performance import channel_performance

    eng.require("customers", "channel_costs", needed_for="LTV/CAC")
    if values is None or values.empty:
        raise InsufficientData("no customer lifetime value could be computed (see the CLV section): LTV/CAC needs "
                               "the CLV of the customers", needed_for="LTV/CAC")
    cm = eng.table("customers")
    ids = values[["customer_id"]]
    master = eng.execute(cm.select("customer_id", "acquisition_channel")).drop_duplicates("customer_id")
    if not master["acquisition_channel"].notna().any():
        raise InsufficientData(f"none of the {len(master):,} customers in the customer master has an acquisition "
                               f"channel: LTV/CAC needs it", needed_for="LTV/CAC")
    df = ids.merge(master, on="customer_id", how="left").merge(values[["customer_id", "clv"]], on="customer_id")
    df["channel"] = df["acquisition_channel"].fillna(UNKNOWN_CHANNEL)
    g = df.groupby("channel").agg(customer_count=("customer_id", "size"), mean_clv=("clv", "mean"),
                                  total_clv=("clv", "sum")).reset_index()
    perf = channel_performance(eng, start, end, facts_params=facts_params)[["channel", "cac"]]
    g = g.merge(perf, on="channel", how="left")
    g["mean_clv"] = g["mean_clv"].round(2)
    g["total_clv"] = g["total_clv"].round(2)
    g["ltv_cac"] = (g["mean_clv"] / g["cac"]).where(g["cac"] > 0).round(4)
    g["customer_count"] = g["customer_count"].astype("int64")
    g = g.sort_values(["ltv_cac", "channel"], ascending=[False, True], na_position="last").reset_index(drop=True)
    return attach(g, **{**values.attrs.get("params", {}), **(facts_params or FactsParams()).model_dump(mode="json")})


# ---------------------------------------------------------------------------------------------
# Simulation (for tests and for checking the models)
# ---------------------------------------------------------------------------------------------

def simulate_bg_nbd(n: int, r: float, alpha: float, a: float, b: float, T, seed: int = 0,
                    holdout: float = 0.0) -> pd.DataFrame:
    """Customers drawn from the BG/NBD story: λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases at
    rate λ from the first purchase (time 0, not counted) until the customer drops out (probability
    p after each purchase), observed up to ``T`` (scalar or one per customer).

    Returns: customer_id, frequency, recency, T, and with ``holdout`` > 0 holdout_purchases (in
    (T, T + holdout]), plus the true lam, p and whether the customer is alive at T.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    t = np.zeros(n)
    x = np.zeros(n, dtype="int64")
    tx = np.zeros(n)
    hold = np.zeros(n, dtype="int64")
    dead_at = np.full(n, np.inf)
    active = np.arange(n)
    while active.size:
        t[active] += rng.exponential(1.0, active.size) / lam[active]
        in_cal = t[active] <= T[active]
        in_hold = ~in_cal & (t[active] <= T[active] + holdout)
        ic = active[in_cal]
        x[ic] += 1
        tx[ic] = t[ic]
        hold[active[in_hold]] += 1
        active = active[in_cal | in_hold]
        drop = rng.random(active.size) < p[active]
        dead_at[active[drop]] = t[active[drop]]
        active = active[~drop]
    out = pd.DataFrame({"customer_id": np.arange(n), "frequency": x, "recency": tx, "T": T})
    if holdout > 0:
        out["holdout_purchases"] = hold
    out["lam"], out["p"], out["alive"] = lam, p, dead_at > T
    return out


def simulate_gamma_gamma(frequency, p: float, q: float, v: float, seed: int = 0) -> np.ndarray:
    """Mean purchase value of ``frequency`` repeat purchases per customer under Gamma-Gamma:
    ν ~ Gamma(q, rate v), each value ~ Gamma(p, rate ν); 0 where frequency is 0."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype="int64")
    nu = rng.gamma(q, 1.0 / v, len(x))
    total = np.where(x > 0, rng.gamma(np.maximum(p * x, 1e-12), 1.0 / nu), 0.0)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)
