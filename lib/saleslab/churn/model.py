"""Churn warning (流失预警, domain.md §6): features at a cut-off date, a scaled logistic regression
trained at one cut-off and scored on a later, held-out one, against the recency baseline, and the
list of at-risk high-value customers to call with their top reasons.

Definitions used here:

- everything is computed **only from data up to the cut-off** c: purchases (the facts layer's
  purchase days, :func:`saleslab.facts.customer_purchases_expr` via
  :func:`saleslab.clv.purchase_days_expr`: a customer's buying day valued at its lines − the refunds
  of those orders dated ≤ c, integer cents), orders and follow-ups dated ≤ c;
- population at c = known customers with a purchase in the feature window (c −
  ``churn_feature_months``, c];
- features: recency_days (c − last purchase), tenure_days (c − first purchase),
  frequency_3m / 6m / 12m (purchase days in the last 3 / 6 / 12 months), frequency_trend =
  (last 6 months − the 6 before) / (their sum), spend_12m (元), spend_trend likewise on spend,
  main_channel (channel with most orders in the feature window; ties: channel name),
  followups_6m (CRM follow-ups in the last 6 months), followups_trend, complaints_6m
  (follow-ups of kind ``complaint``);
- label churned = no purchase in (c, c + ``churn_window_days``];
- back-test: train at c1 = c2 − window, evaluate at c2 = as_of − window (labels from (c2, as_of]),
  never on the training period; the scores at ``as_of`` come from a model trained at c2;
- model: standardised features → logistic regression (L2, C = 1); a customer's contribution of
  feature j = coef_j × standardised value_j, so log-odds = intercept + Σ contributions exactly;
  the main-channel indicators are summed into one ``main_channel`` contribution; the top reasons
  are the three largest positive contributions;
- baselines: ``recency_score`` (recency_days as the score) and ``recency_rule`` (recency_days >
  ``churn_recency_days``, default 180: "no purchase in the last half year");
- at risk = churn probability ≥ ``churn_risk_min``; the call list holds the at-risk customers whose
  value (``churn_value_basis``: trailing 12-month spend from the facts layer, or CLV) is in the top
  ``churn_value_share``, at most ``churn_call_list_size`` of them.

What each part needs: features and labels need orders and their lines (follow-ups are optional:
without them the follow-up features are 0); the model needs churned and retained customers at the
training cut-off, the back-test both at the held-out cut-off (:class:`~saleslab.errors.InsufficientData`
says which class is empty); the call list needs the scores (the customer master only adds names
and owner reps) and, by lifetime value, the CLV table.

Parameters come from :class:`saleslab.churn.params.Params`; every result table records them
(:func:`saleslab.params.attach`), so charts and stories read the thresholds from the tables.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from ..clv.models import purchase_days_expr
from ..engine import Engine
from ..errors import InsufficientData, SalesLabError
from ..params import attach, used
from ..periods import as_date
from ..schema import CHANNELS
from .params import Params

_EARLIEST = dt.date(1900, 1, 1)
DAYS_3M, DAYS_6M, DAYS_12M = 91, 182, 365

#: Numeric features of the model (log1p of counts, days and spend: heavy-tailed).
LOG_FEATURES = ("recency_days", "tenure_days", "frequency_3m", "frequency_6m", "frequency_12m", "spend_12m",
                "followups_6m", "complaints_6m")
LINEAR_FEATURES = ("frequency_trend", "spend_trend", "followups_trend")
#: Reason keys a customer can get: the features, with the channel indicators as ``main_channel``.
REASON_FEATURES = (*LOG_FEATURES, *LINEAR_FEATURES, "main_channel")
FEATURE_COLUMNS = ("customer_id", "recency_days", "tenure_days", "frequency_3m", "frequency_6m", "frequency_12m",
                   "frequency_trend", "spend_12m", "spend_trend", "main_channel", "followups_6m",
                   "followups_trend", "complaints_6m")
SCORERS = ("churn_model", "recency_score", "recency_rule")


def _trend(recent: pd.Series, before: pd.Series) -> pd.Series:
    """(recent − before) / (|recent| + |before|) in [−1, 1]; 0 when both are 0."""
    den = recent.abs() + before.abs()
    return ((recent - before) / den.where(den > 0)).fillna(0.0).round(6)


def features_expr(eng: Engine, cutoff, params: Params | None = None) -> ibis.Table:
    """Per customer active in (cutoff − ``churn_feature_months``, cutoff]: raw counts and dates up to
    the cut-off.

    Input: purchase days (facts layer, :func:`saleslab.clv.purchase_days_expr`), orders(customer_id,
    order_date, channel), followups(customer_id, followup_date, kind).
    Returns (Ibis): customer_id, recency_days, tenure_days, frequency_3m, frequency_6m,
    frequency_12m, frequency_prev_6m, spend_6m, spend_prev_6m, spend_12m, main_channel,
    followups_6m, followups_prev_6m, complaints_6m. Nothing dated after ``cutoff`` is read.
    Formula: frequency_Xm = purchase days aged < X months; spend_Xm = Σ their values (元).
    """
    params = params or Params()
    c = as_date(cutoff)
    window = int(round(params.churn_feature_months * 365.25 / 12))
    cut = ibis.literal(c)
    d = purchase_days_expr(eng, _EARLIEST, c)
    age = cut.delta(d.order_date, unit="day")
    one, zero = ibis.literal(1), ibis.literal(0)

    def cnt(lo, hi):
        return ibis.ifelse((age >= lo) & (age < hi), one, zero).sum()

    def amt(lo, hi):
        # integer cents: exact, the same on every engine and run
        return ibis.ifelse((age >= lo) & (age < hi), d.purchase_cents, zero).sum().cast("float64") / 100

    f = d.group_by("customer_id").aggregate(
        recency_days=age.min(), tenure_days=age.max(),
        frequency_3m=cnt(0, DAYS_3M), frequency_6m=cnt(0, DAYS_6M), frequency_prev_6m=cnt(DAYS_6M, 2 * DAYS_6M),
        frequency_12m=cnt(0, window), spend_6m=amt(0, DAYS_6M), spend_prev_6m=amt(DAYS_6M, 2 * DAYS_6M),
        spend_12m=amt(0, window))
    f = f.filter(f.frequency_12m > 0)

    o = eng.table("orders")
    lo = c - dt.timedelta(days=window - 1)
    o = o.filter(o.customer_id.notnull() & o.order_date.between(lo, c))
    ch = o.group_by(["customer_id", "channel"]).aggregate(n=o.order_id.nunique())
    w = ibis.window(group_by=ch.customer_id, order_by=[ibis.desc(ch.n), ch.channel])
    ch = ch.mutate(_rn=ibis.row_number().over(w))
    ch = ch.filter(ch._rn == 0).select(ch_customer_id=ch.customer_id, main_channel=ch.channel)

    try:
        fu = eng.table("followups")
    except SalesLabError:  # a warehouse without CRM follow-ups: the follow-up features are 0
        return _finish(f.left_join(ch, f.customer_id == ch.ch_customer_id), None)
    fu = fu.filter(fu.customer_id.notnull() & (fu.followup_date <= c))
    fage = cut.delta(fu.followup_date, unit="day")
    fa = fu.group_by(fu_customer_id=fu.customer_id).aggregate(
        followups_6m=ibis.ifelse(fage < DAYS_6M, one, zero).sum(),
        followups_prev_6m=ibis.ifelse((fage >= DAYS_6M) & (fage < 2 * DAYS_6M), one, zero).sum(),
        complaints_6m=ibis.ifelse((fage < DAYS_6M) & (fu.kind == "complaint"), one, zero).sum())
    j = f.left_join(ch, f.customer_id == ch.ch_customer_id).left_join(fa, f.customer_id == fa.fu_customer_id)
    return _finish(j, j)


def _finish(j, fa):
    zero = ibis.literal(0, "int64")
    return j.select(
        "customer_id", "recency_days", "tenure_days", "frequency_3m", "frequency_6m", "frequency_12m",
        "frequency_prev_6m", "spend_6m", "spend_prev_6m", "spend_12m", "main_channel",
        followups_6m=fa.followups_6m.fill_null(0) if fa is not None else zero,
        followups_prev_6m=fa.followups_prev_6m.fill_null(0) if fa is not None else zero,
        complaints_6m=fa.complaints_6m.fill_null(0) if fa is not None else zero)


def features(eng: Engine, cutoff, params: Params | None = None) -> pd.DataFrame:
    """Churn features at ``cutoff`` (see the module docstring), one row per active customer,
    sorted by customer_id.

    Input: as :func:`features_expr`. Returns: :data:`FEATURE_COLUMNS`.
    Formula: frequency_trend = (frequency_6m − frequency_prev_6m) / (their sum), 0 when both are 0;
    spend_trend and followups_trend likewise. The result records ``params``.
    """
    params = params or Params()
    df = eng.execute(features_expr(eng, cutoff, params))
    for c in ("recency_days", "tenure_days", "frequency_3m", "frequency_6m", "frequency_12m", "frequency_prev_6m",
              "followups_6m", "followups_prev_6m", "complaints_6m"):
        df[c] = df[c].astype("int64")
    for c in ("spend_6m", "spend_prev_6m", "spend_12m"):
        df[c] = df[c].astype("float64").round(2)
    df["frequency_trend"] = _trend(df["frequency_6m"], df["frequency_prev_6m"])
    df["spend_trend"] = _trend(df["spend_6m"], df["spend_prev_6m"])
    df["followups_trend"] = _trend(df["followups_6m"], df["followups_prev_6m"])
    df["main_channel"] = df["main_channel"].fillna("unknown").astype(str)
    df = df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)[list(FEATURE_COLUMNS)]
    df.attrs["cutoff"] = str(as_date(cutoff))
    return attach(df, params, cutoff=str(as_date(cutoff)))


def last_purchase_date(eng: Engine) -> dt.date:
    """Date of the latest order in the warehouse."""
    o = eng.table("orders")
    return pd.Timestamp(eng.execute(o.order_date.max())).date()


def churn_labels(eng: Engine, cutoff, params: Params | None = None) -> pd.DataFrame:
    """Known customers with a purchase in (cutoff, cutoff + ``churn_window_days``]: customer_id,
    purchases_after (purchase days, facts layer)."""
    params = params or Params()
    c = as_date(cutoff)
    d = purchase_days_expr(eng, c + dt.timedelta(days=1), c + dt.timedelta(days=params.churn_window_days))
    return eng.execute(d.group_by("customer_id").aggregate(purchases_after=d.count()))


#: The last few :func:`dataset` tables by (engine, cut-off, parameters): the back-test's held-out
#: cut-off is the training cut-off of :func:`score_customers`, so a stage builds that table once.
#: An entry holds its engine (an engine reads one warehouse version, so its data never change).
_DATASETS: dict = {}
_DATASETS_KEPT = 2


def dataset(eng: Engine, cutoff, params: Params | None = None) -> pd.DataFrame:
    """:func:`features` at ``cutoff`` plus the label ``churned`` (no purchase in the next
    ``churn_window_days``). Raises :class:`~saleslab.errors.InsufficientData` when the warehouse
    does not cover the whole label window or nobody was active in the feature window.
    The same engine, cut-off and parameters give a copy of the table built the first time."""
    params = params or Params()
    key = (id(eng), str(as_date(cutoff)), params.model_dump_json())
    hit = _DATASETS.get(key)
    if hit is not None and hit[0] is eng:
        return hit[1].copy()
    f = _dataset(eng, cutoff, params)
    while len(_DATASETS) >= _DATASETS_KEPT:
        _DATASETS.pop(next(iter(_DATASETS)))
    _DATASETS[key] = (eng, f.copy())
    return f


def _dataset(eng: Engine, cutoff, params: Params) -> pd.DataFrame:
    window_days = params.churn_window_days
    c = as_date(cutoff)
    eng.require("orders", "order_lines", needed_for="churn labels")
    last = last_purchase_date(eng)
    if c + dt.timedelta(days=window_days) > last:
        raise InsufficientData(f"the churn label window after {c} ({window_days} days) ends after the last order "
                               f"in the warehouse ({last}); choose an earlier cut-off or a shorter churn_window_days")
    f = features(eng, c, params)
    if f.empty:
        raise InsufficientData(f"no customer bought in the {params.churn_feature_months} months before the cut-off "
                               f"{c}: the churn model needs customers active then", needed_for="churn model")
    lab = churn_labels(eng, c, params)
    f = f.merge(lab, on="customer_id", how="left")
    f["churned"] = f["purchases_after"].isna()
    f = f.drop(columns="purchases_after")
    f.attrs["cutoff"] = str(c)
    return attach(f, params, cutoff=str(c))


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

def design_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Model inputs from :func:`features`: log1p of :data:`LOG_FEATURES` (negatives as 0), the
    trends as they are, and one indicator per channel (``main_channel=<code>``)."""
    x = pd.DataFrame(index=df.index)
    for c in LOG_FEATURES:
        x[c] = np.log1p(df[c].astype("float64").clip(lower=0))
    for c in LINEAR_FEATURES:
        x[c] = df[c].astype("float64")
    for ch in CHANNELS:
        x[f"main_channel={ch}"] = (df["main_channel"] == ch).astype("float64")
    return x


def _reason_key(column: str) -> str:
    return "main_channel" if column.startswith("main_channel=") else column


@dataclass
class ChurnModel:
    """Standardised logistic regression on :func:`design_matrix`. Use :func:`fit_churn_model`."""

    pipeline: object
    columns: list
    cutoff: str = ""
    window_days: int = 180
    train_customers: int = 0
    train_churn_rate: float = float("nan")

    @property
    def coefficients(self) -> pd.DataFrame:
        """feature, coefficient (per standard deviation), mean, scale of each model input."""
        sc, lr = self.pipeline.named_steps["scale"], self.pipeline.named_steps["model"]
        return pd.DataFrame({"feature": self.columns, "coefficient": lr.coef_[0].round(6),
                             "mean": sc.mean_.round(6), "scale": sc.scale_.round(6)})

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Churn probability per row of a :func:`features` table."""
        return self.pipeline.predict_proba(design_matrix(df)[self.columns])[:, 1]

    def contributions(self, df: pd.DataFrame) -> pd.DataFrame:
        """Per customer and reason feature: coef × standardised value (log-odds units); with the
        intercept they add up to the model's log-odds exactly. Channel indicators are summed."""
        sc, lr = self.pipeline.named_steps["scale"], self.pipeline.named_steps["model"]
        z = (design_matrix(df)[self.columns].to_numpy() - sc.mean_) / sc.scale_
        contrib = pd.DataFrame(z * lr.coef_[0], columns=self.columns, index=df.index)
        return contrib.T.groupby(_reason_key).sum().T[list(REASON_FEATURES)]

    @property
    def intercept(self) -> float:
        return float(self.pipeline.named_steps["model"].intercept_[0])


def _both_classes(df: pd.DataFrame, what: str) -> None:
    """InsufficientData unless ``df`` (a :func:`dataset` table) holds churned and retained customers."""
    y = df["churned"].astype(bool)
    churned, n = int(y.sum()), len(y)
    if 0 < churned < n:
        return
    who = (f"all {n:,} customers active at the cut-off {df.attrs.get('cutoff', '')} churned (none bought again)"
           if churned else f"none of the {n:,} customers active at the cut-off {df.attrs.get('cutoff', '')} churned "
                           f"(all bought again)")
    raise InsufficientData(f"{who}: {what} needs churned and retained customers", needed_for="churn model")


def fit_churn_model(train: pd.DataFrame, C: float = 1.0, seed: int = 0) -> ChurnModel:
    """Fit the churn model on a :func:`dataset` table (features and ``churned``). Raises
    :class:`~saleslab.errors.InsufficientData` when it holds only churned or only retained customers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    _both_classes(train, "training the churn model")
    y = train["churned"].astype(int).to_numpy()
    x = design_matrix(train)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", LogisticRegression(C=C, max_iter=2000, random_state=seed))])
    pipe.fit(x, y)
    return ChurnModel(pipe, list(x.columns), train.attrs.get("cutoff", ""), 0, len(train), float(y.mean()))


def top_reasons(model: ChurnModel, df: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The ``k`` features pushing each customer's churn risk up most (largest positive
    contributions; ties by feature order): reason_1..k (feature keys, None when fewer are
    positive) and contribution_1..k (log-odds)."""
    c = model.contributions(df)
    vals = c.to_numpy()
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    names = np.array(c.columns, dtype=object)
    out = pd.DataFrame(index=df.index)
    for i in range(k):
        v = vals[np.arange(len(vals)), order[:, i]]
        out[f"reason_{i + 1}"] = np.where(v > 0, names[order[:, i]], None)
        out[f"contribution_{i + 1}"] = np.where(v > 0, np.round(v, 4), np.nan)
    return out


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def roc_auc(y, score) -> float:
    """Area under the ROC curve: P(score of a random positive > a random negative), ties count 1/2."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype="float64")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _ranked(score, ids=None) -> np.ndarray:
    """Row order by score (highest first), ties by ``ids`` (or position)."""
    s = np.asarray(score, dtype="float64")
    key = np.arange(len(s)) if ids is None else np.asarray(ids)
    return np.lexsort((key, -s))


def top_share_precision(y, score, share: float = 0.1, ids=None) -> float:
    """Churn rate among the ceil(share × n) highest scores (ties broken by ``ids``)."""
    y = np.asarray(y).astype(bool)
    if len(y) == 0:
        return float("nan")
    k = max(1, math.ceil(share * len(y)))
    return float(y[_ranked(score, ids)[:k]].mean())


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed churn in equal-width probability bins.

    Returns: bin_lower, bin_upper, customer_count, mean_predicted, observed_rate (bins with customers).
    """
    y = np.asarray(y).astype(float)
    p = np.asarray(p, dtype="float64")
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    df = pd.DataFrame({"b": idx, "y": y, "p": p}).groupby("b").agg(
        customer_count=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")).reset_index()
    df["bin_lower"] = (df["b"] / bins).round(4)
    df["bin_upper"] = ((df["b"] + 1) / bins).round(4)
    df["mean_predicted"] = df["mean_predicted"].round(4)
    df["observed_rate"] = df["observed_rate"].round(4)
    return df[["bin_lower", "bin_upper", "customer_count", "mean_predicted", "observed_rate"]]


def lift_table(y, score, groups: int = 10, ids=None) -> pd.DataFrame:
    """Customers ranked by score (highest first) in ``groups`` equal groups.

    Returns: decile (1 = highest scores), customer_count, churn_rate, churn_lift (churn_rate / overall rate),
    cumulative_capture (share of all churners in deciles 1..d).
    """
    y = np.asarray(y).astype(float)
    order = _ranked(score, ids)
    n = len(y)
    dec = np.empty(n, dtype="int64")
    dec[order] = np.arange(n) * groups // max(n, 1) + 1
    df = pd.DataFrame({"decile": dec, "y": y}).groupby("decile").agg(
        customer_count=("y", "size"), churned=("y", "sum")).reset_index()
    base = y.mean() if n else float("nan")
    df["churn_rate"] = (df["churned"] / df["customer_count"]).round(4)
    df["churn_lift"] = (df["churned"] / df["customer_count"] / base).round(4) if base else np.nan
    df["cumulative_capture"] = (df["churned"].cumsum() / max(y.sum(), 1)).round(4)
    return df[["decile", "customer_count", "churn_rate", "churn_lift", "cumulative_capture"]]


def roc_points(y, score) -> pd.DataFrame:
    """The ROC curve: false_positive_rate, true_positive_rate at every score threshold."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(y).astype(int), np.asarray(score, dtype="float64"))
    return pd.DataFrame({"false_positive_rate": fpr, "true_positive_rate": tpr})


def evaluate(test: pd.DataFrame, p, params: Params | None = None) -> pd.DataFrame:
    """Model against the recency baselines on a labelled :func:`dataset` table.

    Input: test (customer_id, churned, recency_days), p (the model's churn probability per row).
    Returns one row per scorer (churn_model, recency_score, recency_rule): customer_count, base_rate, auc,
    top_decile_precision, flagged, flagged_precision, flagged_recall, brier (model only).
    Flagged: model p ≥ ``churn_risk_min``; recency_rule recency_days > ``churn_recency_days``;
    recency_score flags nobody (a ranking only). The result records ``params``.
    """
    params = params or Params()
    y = test["churned"].astype(bool).to_numpy()
    ids = test["customer_id"].to_numpy()
    rec = test["recency_days"].to_numpy(dtype="float64")
    p = np.asarray(p, dtype="float64")
    rule = (rec > params.churn_recency_days).astype(float)
    rows = []
    for name, score, flag in (("churn_model", p, p >= params.churn_risk_min), ("recency_score", rec, None),
                              ("recency_rule", rule, rule > 0)):
        row = {"scorer": name, "customer_count": len(y), "base_rate": round(float(y.mean()), 4) if len(y) else np.nan,
               "auc": round(roc_auc(y, score), 4),
               "top_decile_precision": round(top_share_precision(y, score, 0.1, ids), 4)}
        if flag is None:
            row.update(flagged=np.nan, flagged_precision=np.nan, flagged_recall=np.nan)
        else:
            row.update(flagged=int(flag.sum()),
                       flagged_precision=round(float(y[flag].mean()), 4) if flag.any() else np.nan,
                       flagged_recall=round(float(flag[y].mean()), 4) if y.any() else np.nan)
        row["brier"] = round(float(np.mean((p - y) ** 2)), 4) if name == "churn_model" else np.nan
        rows.append(row)
    return attach(pd.DataFrame(rows), params)


# ---------------------------------------------------------------------------------------------
# Back-test, scores and call list
# ---------------------------------------------------------------------------------------------

@dataclass
class ChurnBacktest:
    """Train at ``train_cutoff``, evaluate at the later ``test_cutoff``."""

    train_cutoff: dt.date
    test_cutoff: dt.date
    model: ChurnModel
    evaluation: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame
    roc: dict
    test: pd.DataFrame = field(repr=False)


def cutoffs(as_of, params: Params | None = None) -> tuple[dt.date, dt.date]:
    """(train cut-off, test cut-off): c2 = as_of − ``churn_window_days`` (labels up to as_of),
    c1 = c2 − ``churn_window_days``."""
    window_days = (params or Params()).churn_window_days
    a = as_date(as_of)
    c2 = a - dt.timedelta(days=window_days)
    return c2 - dt.timedelta(days=window_days), c2


def backtest(eng: Engine, as_of, params: Params | None = None, C: float = 1.0) -> ChurnBacktest:
    """Train the model at c1, score the held-out cut-off c2 (:func:`cutoffs`) and compare it with
    the recency baselines (:func:`evaluate`, :func:`calibration_table`, :func:`lift_table`).

    Input: :func:`dataset` at c1 and c2. Returns a :class:`ChurnBacktest` whose evaluation,
    calibration and lift tables record ``params`` and both cut-offs; ``C``: the inverse L2 strength.
    Raises :class:`~saleslab.errors.InsufficientData` as :func:`dataset`, or when either cut-off
    has only churned or only retained customers.
    """
    params = params or Params()
    c1, c2 = cutoffs(as_of, params)
    train = dataset(eng, c1, params)
    test = dataset(eng, c2, params)
    model = fit_churn_model(train, C)
    _both_classes(test, "evaluating the model on the held-out cut-off")
    model.window_days = params.churn_window_days
    p = model.predict_proba(test)
    test = test.assign(churn_probability=np.round(p, 6))
    y = test["churned"].to_numpy()
    more = {"train_cutoff": str(c1), "test_cutoff": str(c2)}
    ev = attach(evaluate(test, p, params), **more)
    calibration = attach(calibration_table(y, p), params, **more)
    lift = attach(lift_table(y, p, ids=test["customer_id"]), params, **more)
    roc = {"churn_model": roc_points(y, p), "recency_score": roc_points(y, test["recency_days"])}
    return ChurnBacktest(c1, c2, model, ev, calibration, lift, roc, test)


def score_customers(eng: Engine, as_of, params: Params | None = None, model: ChurnModel | None = None,
                    C: float = 1.0) -> tuple[pd.DataFrame, ChurnModel]:
    """Churn probability and top reasons of every customer active in the feature window before
    ``as_of``, from a model trained at as_of − ``churn_window_days`` (labels up to as_of) unless
    ``model`` is given.

    Input: :func:`features` at ``as_of``; :func:`dataset` at the training cut-off.
    Returns (scores, model); scores: the :func:`features` columns, churn_probability,
    reason_1..3, contribution_1..3 — highest probability first (ties: customer_id), recording ``params``.
    Formula: churn_probability = logistic(intercept + Σ coef × standardised feature).
    """
    params = params or Params()
    if model is None:
        _, c2 = cutoffs(as_of, params)
        model = fit_churn_model(dataset(eng, c2, params), C)
        model.window_days = params.churn_window_days
    f = features(eng, as_of, params)
    f["churn_probability"] = np.round(model.predict_proba(f), 6)
    f = pd.concat([f, top_reasons(model, f)], axis=1)
    f = f.sort_values(["churn_probability", "customer_id"], ascending=[False, True], kind="mergesort")
    return attach(f.reset_index(drop=True), params, cutoff=str(as_date(as_of))), model


def customer_scores(eng: Engine, as_of, params: Params | None = None, C: float = 1.0) -> pd.DataFrame:
    """The scores of :func:`score_customers` (without the model)."""
    return score_customers(eng, as_of, params, C=C)[0]


VALUE_BASES = ("spend_12m", "clv")


def call_list(eng: Engine, scores: pd.DataFrame, values: pd.DataFrame | None = None,
              params: Params | None = None) -> pd.DataFrame:
    """At-risk high-value customers to call, largest expected loss first.

    Input: :func:`score_customers`' scores (spend_12m: trailing 12-month purchases, facts layer);
    ``values`` (:func:`saleslab.clv.customer_value`: customer_id, clv) when
    ``churn_value_basis="clv"``; customers(name, owner_rep_id) for the profile (optional: without
    the customer master name and owner_rep_id are empty).
    Returns: customer_id, name, owner_rep_id, churn_probability, risk_value, expected_loss,
    recency_days, reason_1..3 — customers with churn_probability ≥ ``churn_risk_min`` whose
    risk_value (spend_12m or clv, by ``churn_value_basis``) is in the top ``churn_value_share`` of
    scored customers and positive; at most ``churn_call_list_size`` rows.
    Formula: expected_loss = churn_probability × risk_value. The result records ``params``.
    Raises :class:`~saleslab.errors.InsufficientData` when ``churn_value_basis="clv"`` and
    ``values`` is None (the CLV could not be computed).
    """
    params = params or Params()
    df = scores.copy()
    if params.churn_value_basis == "clv":
        if values is None:
            raise InsufficientData("the call list by lifetime value (churn_value_basis clv) needs the CLV table "
                                   "(values=, saleslab.clv.predicted_clv), which could not be computed on these data",
                                   needed_for="call list")
        df = df.merge(values[["customer_id", "clv"]], on="customer_id", how="left")
        df["risk_value"] = df["clv"].fillna(0.0)
    else:
        df["risk_value"] = df["spend_12m"]
    cutoff_value = df["risk_value"].quantile(1 - params.churn_value_share) if len(df) else 0.0
    df = df[(df["churn_probability"] >= params.churn_risk_min) & (df["risk_value"] >= cutoff_value)
            & (df["risk_value"] > 0)].copy()
    df["expected_loss"] = (df["churn_probability"] * df["risk_value"]).round(2)
    df = df.sort_values(["expected_loss", "customer_id"], ascending=[False, True], kind="mergesort").head(
        params.churn_call_list_size)
    cm = eng.table("customers")
    prof = eng.execute(cm.select("customer_id", "name", "owner_rep_id")).drop_duplicates("customer_id")
    df = df.merge(prof, on="customer_id", how="left")
    df["risk_value"] = df["risk_value"].round(2)
    out = df[["customer_id", "name", "owner_rep_id", "churn_probability", "risk_value", "expected_loss", "recency_days",
              "reason_1", "reason_2", "reason_3"]].reset_index(drop=True)
    return attach(out, params, cutoff=scores.attrs.get("params", {}).get("cutoff"))


def model_totals(bt: ChurnBacktest) -> dict:
    """Headline figures of the back-test: held-out AUC of the model and of recency."""
    ev = bt.evaluation.set_index("scorer")
    return {"model_auc": float(ev.loc["churn_model", "auc"]), "recency_auc": float(ev.loc["recency_score", "auc"])}


def risk_totals(scores: pd.DataFrame) -> dict:
    """Headline figures of the scores: customers at risk now (churn_probability ≥ the
    ``churn_risk_min`` ``scores`` was computed with), customers scored."""
    return {"at_risk_customers": int((scores["churn_probability"] >= used(scores, "churn_risk_min")).sum()),
            "scored_customers": int(len(scores))}


def churn_totals(bt: ChurnBacktest, scores: pd.DataFrame) -> dict:
    """Headline figures: :func:`model_totals` and :func:`risk_totals` together."""
    return {**model_totals(bt), **risk_totals(scores)}


def combined_scores(scores: pd.DataFrame, values: pd.DataFrame | None) -> pd.DataFrame:
    """Per customer: CLV and churn risk side by side, for the customer 360° page.

    Input: :func:`score_customers`' scores and :func:`saleslab.clv.customer_value`'s table (None
    when the CLV could not be computed: clv, p_alive and expected_purchases are then empty).
    Returns: customer_id, clv, p_alive, expected_purchases, churn_probability, recency_days,
    spend_12m, reason_1..3 — every customer of either table (churn columns empty for customers
    not active in the feature window), sorted by customer_id; records both tables' parameters.
    """
    if values is None:
        values = pd.DataFrame({"customer_id": pd.Series(dtype="object"), "clv": pd.Series(dtype="float64"),
                               "p_alive": pd.Series(dtype="float64"),
                               "expected_purchases": pd.Series(dtype="float64")})
    v = values[["customer_id", "clv", "p_alive", "expected_purchases"]]
    s = scores[["customer_id", "churn_probability", "recency_days", "spend_12m", "reason_1", "reason_2", "reason_3"]]
    out = v.merge(s, on="customer_id", how="outer")
    out = out.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    out.attrs = {}
    return attach(out, **{**values.attrs.get("params", {}), **scores.attrs.get("params", {})})
