"""Customer clusters (聚类, domain.md §6): k-means on behaviour, as an alternative to the RFM rules.

Features per customer (the RFM customers of :func:`saleslab.customers.rfm_expr`):

- recency_days, frequency, monetary of the RFM window (:func:`saleslab.customers.rfm_expr`), and
  tenure_days = as_of − first order ever;
- category mix: share of the customer's sales in the window (``gross_sales`` of
  :func:`saleslab.facts.revenue_by_expr`: order-line net amounts, before returns) per product
  category of the facts' product master; channel mix: the same per channel.

The model works on: z-scores of recency_days, log(1 + frequency), log(1 + max(monetary, 0)) and
tenure_days, plus the mix shares as they are (0–1) times ``mix_weight``. k is the value in
[cluster_k_min, cluster_k_max] with the best silhouette (ties: the smaller k), each k fitted with
scikit-learn's KMeans (fixed ``cluster_seed``); on large data the candidates are fitted on a random sample of
``fit_sample`` customers and scored on ``sample_size`` of them, then the chosen k is fitted on
everyone. Clusters are numbered 1..k by size (largest first, ties by the first customer id).

Each cluster is described by its traits against the average customer: recency, frequency, spend
and tenure more than ``trait_z`` standard deviations from the mean, a channel holding ≥ 60 % of
the cluster's sales and a category whose share exceeds the average share by ≥ 15 points.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from .. import facts
from ..channels import first_orders
from ..engine import Engine
from ..errors import InsufficientData, SalesLabError
from ..facts import Params as FactsParams
from ..periods import as_date
from .params import Params
from .segments import RFM_CLASSES, _record, rfm_expr, window

NUMERIC = ("recency_days", "frequency", "monetary", "tenure_days")
#: Trait keys per numeric feature: (low z, high z).
TRAITS = {"recency_days": ("trait_recent", "trait_lapsed"), "frequency": ("trait_infrequent", "trait_frequent"),
          "monetary": ("trait_low_spend", "trait_high_spend"), "tenure_days": ("trait_new", "trait_long_standing")}


def _mix(df: pd.DataFrame, key: str, prefix: str) -> pd.DataFrame:
    wide = df.pivot_table(index="customer_id", columns=key, values="sales", aggfunc="sum", fill_value=0.0)
    wide = wide.clip(lower=0)
    total = wide.sum(axis=1)
    shares = wide.div(total.where(total > 0), axis=0).fillna(0.0)
    shares.columns = [f"{prefix}:{c}" for c in shares.columns]
    return shares.reset_index()


def cluster_features(eng: Engine, as_of, params: Params | None = None, facts_params: FactsParams | None = None,
                     rfm_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Behaviour features per RFM customer (Ibis aggregates, then pandas).

    Input: :func:`~saleslab.customers.rfm_expr` (or ``rfm_table``: customer_id, recency_days,
    frequency, monetary — saves a query), :func:`saleslab.facts.revenue_by_expr` per customer,
    channel and product over the RFM window, :func:`saleslab.facts.products` (category),
    :func:`saleslab.channels.first_orders` (first order ever).
    Returns: customer_id, recency_days, frequency, monetary, tenure_days, ``category:<name>`` and
    ``channel:<code>`` shares — sorted by customer_id; records ``params`` and ``facts_params``.
    Formulas: tenure_days = as_of − first order date; share of a category (channel) = the
    customer's gross_sales in it / their gross_sales (negative sales count as 0; each group sums
    to 1, or 0 for a customer without positive sales); missing category or channel → ``unknown``
    (without a product master every product's category is unknown: the category mix then adds
    nothing to the clusters).
    Raises :class:`~saleslab.errors.InsufficientData` when no customer bought in the RFM window.
    """
    p, fp = params or Params(), facts_params or FactsParams()
    as_of = as_date(as_of)
    lo, hi = window(as_of, p.rfm_window_months)
    if rfm_table is None:
        rfm_table = eng.execute(rfm_expr(eng, as_of, p, fp))
    if rfm_table.empty:
        raise InsufficientData(f"no identified customer bought in the {p.rfm_window_months} months up to {as_of}: "
                               "nothing to cluster", needed_for="clusters")
    base = rfm_table[["customer_id", "recency_days", "frequency", "monetary"]].copy()
    first = first_orders(eng, hi)
    tenure = eng.execute(first.select("customer_id", tenure_days=ibis.literal(hi).delta(first.first_date, unit="day")))
    r = facts.revenue_by_expr(eng, lo, hi, ["customer_id", "channel", "product_id"], fp.returns_basis)
    r = r.filter(r.customer_id.notnull())
    cats = facts.products(eng).select(p_product_id="product_id", category="category")
    s = r.left_join(cats, r.product_id == cats.p_product_id)
    s = s.select(customer_id=s.customer_id, channel=s.channel.fill_null(facts.UNKNOWN),
                 category=s.category.fill_null(facts.UNKNOWN), sales=s.gross_sales)
    cat = eng.execute(s.group_by(["customer_id", "category"]).aggregate(sales=s.sales.sum()))
    ch = eng.execute(s.group_by(["customer_id", "channel"]).aggregate(sales=s.sales.sum()))
    for part in (cat, ch):
        part["sales"] = part["sales"].astype(float).round(2)
    out = base.merge(tenure, on="customer_id", how="left")
    out["tenure_days"] = out["tenure_days"].fillna(out["recency_days"]).astype("int64")
    for mix in (_mix(cat, "category", "category"), _mix(ch, "channel", "channel")):
        out = out.merge(mix, on="customer_id", how="left")
    mix_cols = sorted(c for c in out.columns if ":" in c)
    out[mix_cols] = out[mix_cols].fillna(0.0)
    out = out[["customer_id", *NUMERIC, *mix_cols]]
    return _record(out.sort_values("customer_id").reset_index(drop=True), rfm_table, params=p, facts=fp)


def _transformed(features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "recency_days": features["recency_days"].astype(float),
        "frequency": np.log1p(features["frequency"].astype(float).clip(lower=0)),
        "monetary": np.log1p(features["monetary"].astype(float).clip(lower=0)),
        "tenure_days": features["tenure_days"].astype(float),
    }, index=features.index)


def feature_matrix(features: pd.DataFrame, mix_weight: float = 1.0) -> tuple[np.ndarray, list[str]]:
    """The model's input: z-scores of recency, log frequency, log money and tenure, then the mix
    shares × ``mix_weight``. Returns (matrix, column names)."""
    t = _transformed(features)
    sd = t.std(ddof=0).replace(0, 1.0)
    z = (t - t.mean()) / sd
    mix_cols = [c for c in features.columns if ":" in c]
    X = np.hstack([z.to_numpy(), features[mix_cols].to_numpy(dtype=float) * mix_weight])
    return X, [*NUMERIC, *mix_cols]


def _kmeans(X: np.ndarray, k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X)


def choose_k(X: np.ndarray, k_min: int = 2, k_max: int = 8, seed: int = 0, sample_size: int = 3000,
             fit_sample: int = 20000) -> pd.DataFrame:
    """Silhouette of k-means for each k in [k_min, k_max] (capped at n − 1).

    Returns: k, silhouette, inertia — one row per k. Candidates are fitted on at most ``fit_sample``
    random rows and scored on at most ``sample_size`` of them (fixed ``seed``).
    """
    n = len(X)
    if k_min < 2 or k_max < k_min:
        raise SalesLabError(f"cluster k range must satisfy 2 ≤ k_min ≤ k_max (got {k_min}..{k_max})")
    rng = np.random.default_rng(seed)
    Xf = X[np.sort(rng.choice(n, fit_sample, replace=False))] if n > fit_sample else X
    rows = []
    for k in range(k_min, min(k_max, len(Xf) - 1) + 1):
        km = _kmeans(Xf, k, seed)
        if len(set(km.labels_)) < 2:
            continue
        s = silhouette_score(Xf, km.labels_, sample_size=min(sample_size, len(Xf)), random_state=seed)
        rows.append({"k": k, "silhouette": round(float(s), 4), "inertia": float(km.inertia_)})
    return pd.DataFrame(rows, columns=["k", "silhouette", "inertia"])


@dataclass
class ClusterResult:
    """Fitted clusters: ``labels`` (customer_id, cluster 1..k), ``k``, ``silhouette`` (of the
    chosen k), ``scores`` (:func:`choose_k`'s table; None when k was given), ``profiles``
    (:func:`cluster_profiles`). ``labels`` and ``profiles`` record the parameters of the fit."""

    labels: pd.DataFrame
    k: int
    silhouette: float
    scores: pd.DataFrame | None
    profiles: pd.DataFrame


def fit_clusters(features: pd.DataFrame, params: Params | None = None, k: int | None = None,
                 sample_size: int = 3000, fit_sample: int = 20000, mix_weight: float = 1.0, trait_z: float = 0.5,
                 threads: int = 1) -> ClusterResult:
    """Cluster the customers of :func:`cluster_features`; k by silhouette in [``params.cluster_k_min``,
    ``params.cluster_k_max``] unless ``k`` is given; k-means seeded with ``params.cluster_seed``.

    Input columns: customer_id, :data:`NUMERIC`, the ``category:`` / ``channel:`` shares.
    Returns a :class:`ClusterResult`; clusters are numbered 1..k by size (largest first, ties by the
    first customer id). Fewer than 3 customers, no more customers than the smallest k tried (or
    than the given ``k``), or no k giving two clusters, raise :class:`~saleslab.errors.InsufficientData`.

    ``threads`` caps the OpenMP/BLAS threads of the fit: on a shared 2-core machine one thread
    was 15× faster than the default (busy-waiting threads compete with the other processes).
    """
    p = params or Params()
    with threadpool_limits(limits=threads):
        res = _fit(features, k, p.cluster_k_min, p.cluster_k_max, p.cluster_seed, sample_size, fit_sample,
                   mix_weight, trait_z)
    for df in (res.labels, res.profiles):
        _record(df, features, params=p)
    return res


def _fit(features, k, k_min, k_max, seed, sample_size, fit_sample, mix_weight, trait_z) -> ClusterResult:
    n = len(features)
    if n < 3:
        raise InsufficientData(f"clustering needs at least 3 customers (got {n})", needed_for="clusters")
    fewest = k if k is not None else k_min
    if n <= fewest:
        raise InsufficientData(f"{n} customers cannot be split into {fewest} clusters: at least {fewest + 1} are needed",
                               needed_for="clusters")
    features = features.sort_values("customer_id").reset_index(drop=True)
    X, _ = feature_matrix(features, mix_weight)
    scores = None
    if k is None:
        scores = choose_k(X, k_min, k_max, seed, sample_size, fit_sample)
        if scores.empty:
            raise InsufficientData(f"no k in {k_min}..{k_max} gives two or more clusters on {n} customers "
                                   "(their features are too alike)", needed_for="clusters")
        best = scores.sort_values(["silhouette", "k"], ascending=[False, True], kind="mergesort").iloc[0]
        k = int(best["k"])
    km = _kmeans(X, k, seed)
    raw = km.labels_
    # number clusters by size (largest first), ties by the first customer id in them
    order = (pd.DataFrame({"raw": raw, "pos": np.arange(len(raw))}).groupby("raw")
             .agg(size=("pos", "size"), first=("pos", "min")).sort_values(["size", "first"], ascending=[False, True]))
    number = {r: i + 1 for i, r in enumerate(order.index)}
    cluster = np.array([number[r] for r in raw], dtype="int64")
    sil = float(silhouette_score(X, cluster, sample_size=min(sample_size, len(X)), random_state=seed)) \
        if len(set(cluster)) > 1 else float("nan")
    labels = pd.DataFrame({"customer_id": features["customer_id"].to_numpy(), "cluster": cluster})
    return ClusterResult(labels, k, round(sil, 4), scores, cluster_profiles(features, cluster, trait_z))


def cluster_profiles(features: pd.DataFrame, cluster, trait_z: float = 0.5) -> pd.DataFrame:
    """One row per cluster: cluster, customers, customer_share, recency_days, frequency, monetary,
    tenure_days (means), main_channel, main_channel_share (its mean share of the cluster's customers'
    sales), main_category, main_category_share, traits (comma-separated trait keys, see module doc).
    """
    df = features.reset_index(drop=True).copy()
    df["cluster"] = np.asarray(cluster)
    t = _transformed(df)
    z = (t - t.mean()) / t.std(ddof=0).replace(0, 1.0)
    z["cluster"] = df["cluster"]
    zc = z.groupby("cluster").mean()
    ch_cols = [c for c in df.columns if c.startswith("channel:")]
    cat_cols = [c for c in df.columns if c.startswith("category:")]
    overall_cat = df[cat_cols].mean() if cat_cols else pd.Series(dtype=float)
    rows = []
    n = len(df)
    for c, g in df.groupby("cluster"):
        row = {"cluster": int(c), "customers": len(g), "customer_share": len(g) / n}
        for f in NUMERIC:
            row[f] = round(float(g[f].mean()), 2)
        traits = []
        for f, (low, high) in TRAITS.items():
            v = zc.loc[c, f]
            if v <= -trait_z:
                traits.append(low)
            elif v >= trait_z:
                traits.append(high)
        ch = g[ch_cols].mean() if ch_cols else pd.Series(dtype=float)
        row["main_channel"] = ch.idxmax().split(":", 1)[1] if len(ch) else None
        row["main_channel_share"] = round(float(ch.max()), 4) if len(ch) else None
        cat = g[cat_cols].mean() if cat_cols else pd.Series(dtype=float)
        row["main_category"] = cat.idxmax().split(":", 1)[1] if len(cat) else None
        row["main_category_share"] = round(float(cat.max()), 4) if len(cat) else None
        if len(ch) and ch.max() >= 0.6:
            traits.append(ch.idxmax())
        if len(cat):
            lift = cat - overall_cat
            if lift.max() >= 0.15:
                traits.append(lift.idxmax())
        row["traits"] = ",".join(traits)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("cluster").reset_index(drop=True)


def cluster_rfm_crosstab(segments: pd.DataFrame) -> pd.DataFrame:
    """Customers per cluster (rows) × RFM class (columns in :data:`~saleslab.customers.RFM_CLASSES`
    order) from a table with cluster and rfm_class; columns: cluster, <classes...>, customers (the
    row's sum)."""
    ct = pd.crosstab(segments["cluster"], segments["rfm_class"]).reindex(columns=list(RFM_CLASSES), fill_value=0)
    ct["customers"] = ct.sum(axis=1)
    return _record(ct.reset_index().rename_axis(None, axis=1), segments)
