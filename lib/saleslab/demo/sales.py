"""Vectorised order and order-line simulation.

Each customer buys as an inhomogeneous Poisson process: its own Gamma-distributed rate
times the channel/region daily intensity (:mod:`.calendar`), between its creation and
churn day, with purchases thinning out in the 180 days before churn. Spend per line
depends on a Gamma-distributed spend level; campaigns lower prices (discounts) and
raise volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import N_DAYS

PRICE_FACTOR = {"online": 0.95, "retail": 1.0, "direct": 0.85, "distribution": 0.65}
MAX_LINES = 15


@dataclass
class Sales:
    channel: str
    # orders (sorted by day)
    o_day: np.ndarray
    o_cust: np.ndarray  # index into the channel's customer table
    o_sec: np.ndarray  # second of day
    o_campaign: np.ndarray  # campaign index or -1
    o_amount: np.ndarray  # cents
    o_first_line: np.ndarray
    o_nlines: np.ndarray
    # lines
    l_order: np.ndarray
    l_no: np.ndarray
    l_product: np.ndarray
    l_qty: np.ndarray
    l_price: np.ndarray  # cents
    l_disc: np.ndarray  # cents
    l_net: np.ndarray  # cents
    l_outlier: np.ndarray  # factor (0 = normal)

    @property
    def n_orders(self) -> int:
        return len(self.o_day)

    @property
    def n_lines(self) -> int:
        return len(self.l_order)


def order_days(rng, region, created, churn, rate, weights, target_orders):
    """Customer index and day of every order (sorted by day)."""
    n_reg, D = weights.shape
    cdf = np.zeros((n_reg, D + 1))
    cdf[:, 1:] = np.cumsum(weights, axis=1)
    a = np.clip(created, 0, D)
    b = np.maximum(np.clip(churn, 0, D), a)
    lo, hi = cdf[region, a], cdf[region, b]
    lam = rate * (hi - lo)
    k = target_orders / max(lam.sum(), 1e-9) * 1.08  # compensates the thinning before churn
    n = rng.poisson(lam * k)
    cust = np.repeat(np.arange(len(rate)), n)
    v = lo[cust] + rng.random(len(cust)) * (hi[cust] - lo[cust])
    day = np.empty(len(cust), dtype=np.int64)
    reg = region[cust]
    for r in range(n_reg):
        m = reg == r
        day[m] = np.searchsorted(cdf[r], v[m], side="right") - 1
    day = np.clip(day, a[cust], np.maximum(b[cust] - 1, a[cust]))
    # fewer purchases in the half-year before churn
    churning = churn[cust] < D
    dist = churn[cust] - day
    p_drop = np.where(churning, 0.6 * np.clip(1 - dist / 180, 0, 1), 0.0)
    keep = rng.random(len(cust)) >= p_drop
    cust, day = cust[keep], day[keep]
    order = np.lexsort((cust, day))
    return cust[order], day[order]


def make_lines(rng, channel, o_day, o_cust, o_campaign, spend, products, pop):
    n_orders = len(o_day)
    from .config import LINES_PER_ORDER

    m = LINES_PER_ORDER[channel]
    nl = np.minimum(1 + rng.poisson(m - 1, n_orders), MAX_LINES)
    first = np.zeros(n_orders, dtype=np.int64)
    first[1:] = np.cumsum(nl)[:-1]
    L = int(nl.sum())
    l_order = np.repeat(np.arange(n_orders), nl)
    l_no = np.arange(L) - first[l_order] + 1
    prod = rng.choice(len(pop), size=L, p=pop)
    launch = products.launch_day.to_numpy()
    day = o_day[l_order]
    bad = launch[prod] > day
    if bad.any():
        old = np.flatnonzero(launch <= 0)
        p_old = pop[old] / pop[old].sum()
        prod[bad] = old[rng.choice(len(old), size=int(bad.sum()), p=p_old)]
    cons = (products.category.to_numpy() == "耗材配件")[prod]
    s = spend[o_cust[l_order]]
    if channel in ("online", "retail"):
        qty = 1 + rng.poisson(0.25 * s) + cons * rng.poisson(1.0, L)
    elif channel == "direct":
        qty = np.maximum(1, np.rint(rng.gamma(2.0, 3.0 * s))).astype(np.int64) * np.where(cons, 3, 1)
    else:
        qty = np.maximum(5, np.rint(rng.gamma(4.0, 2.5 * s))).astype(np.int64) * np.where(cons, 3, 1)
    camp = o_campaign[l_order] >= 0
    qty = qty + camp * rng.poisson(0.3, L)
    year = (day // 365.25).astype(int)
    list_price = products.list_price.to_numpy()[prod]
    price = np.rint(list_price * PRICE_FACTOR[channel] * (1.02 ** year) * 100).astype(np.int64)
    if channel in ("online", "retail"):
        price = (price // 100) * 100  # whole yuan at the shelf
    u = rng.random(L)
    if channel == "online":
        rate = np.where(camp, rng.uniform(0.10, 0.25, L), np.where(u < 0.3, rng.uniform(0.03, 0.08, L), 0))
    elif channel == "retail":
        rate = np.where(camp, rng.uniform(0.08, 0.15, L), np.where(u < 0.2, 0.05, 0))
    elif channel == "direct":
        rate = rng.uniform(0, 0.12, n_orders)[l_order]
    else:
        rate = np.where(u < 0.1, rng.uniform(0.02, 0.05, L), 0)
    qty = qty.astype(np.int64)
    gross = qty * price
    disc = np.rint(gross * rate).astype(np.int64)
    return l_order, l_no, prod, qty, price, disc, first, nl


def simulate(rng, channel, customers, weights, target_orders, products, pop, camp_windows):
    """customers: DataFrame with region_idx, created, churn, rate, spend."""
    region = customers.region_idx.to_numpy()
    cust, day = order_days(rng, region, customers.created.to_numpy(), customers.churn.to_numpy(),
                           customers.rate.to_numpy(), weights, target_orders)
    n = len(day)
    if channel in ("online", "retail"):
        sec = np.where(rng.random(n) < 0.9, rng.integers(9 * 3600, 22 * 3600, n), rng.integers(0, 86400, n))
    else:
        sec = rng.integers(9 * 3600, 18 * 3600, n)
    campaign = np.full(n, -1, dtype=np.int64)
    for ci, (s, e) in camp_windows:
        m = (day >= s) & (day <= e) & (rng.random(n) < 0.75)
        campaign[m] = ci
    l_order, l_no, prod, qty, price, disc, first, nl = make_lines(
        rng, channel, day, cust, campaign, customers.spend.to_numpy(), products, pop)
    net = qty * price - disc
    return Sales(channel, day, cust, sec, campaign, np.zeros(n, dtype=np.int64), first, nl,
                 l_order, l_no, prod, qty, price, disc, net, np.zeros(len(l_order), dtype=np.int64))


def plant_outliers(rng, s: Sales, share: float) -> None:
    """Multiply the quantity of a few lines by 20-100 (factor recorded in ``l_outlier``)."""
    k = max(2, int(round(s.n_lines * share)))
    idx = rng.choice(s.n_lines, size=k, replace=False)
    f = rng.integers(20, 101, k)
    rate = s.l_disc[idx] / np.maximum(1, s.l_qty[idx] * s.l_price[idx])
    s.l_qty[idx] *= f
    gross = s.l_qty[idx] * s.l_price[idx]
    s.l_disc[idx] = np.rint(gross * rate).astype(np.int64)
    s.l_net[idx] = gross - s.l_disc[idx]
    s.l_outlier[idx] = f


def finalize(s: Sales) -> None:
    s.o_amount = np.bincount(s.l_order, weights=s.l_net, minlength=s.n_orders).round().astype(np.int64)


def daily_seq(day: np.ndarray) -> np.ndarray:
    """1-based sequence number of each order within its day (day sorted)."""
    return np.arange(len(day)) - np.searchsorted(day, day, side="left") + 1


def product_popularity(products, channel) -> np.ndarray:
    p = products.popularity.to_numpy().copy()
    cat = products.category.to_numpy()
    if channel == "online":
        p[cat == "个护电器"] *= 1.3
    elif channel in ("direct", "distribution"):
        p[cat == "耗材配件"] *= 1.5
        p[cat == "个护电器"] *= 0.7
    return p / p.sum()


__all__ = ["Sales", "simulate", "plant_outliers", "finalize", "daily_seq", "product_popularity", "N_DAYS"]
