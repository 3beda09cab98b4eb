"""Derived records: invoices and payments, returns, inventory, targets, traffic, costs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt
from .config import N_DAYS
from .regions import REGION_CODES, REGIONS

END = N_DAYS - 1


def _pay(rng, inv_day, due_day, amount, weak):
    """Payments against invoices: most on time, some late or partial, a few unpaid.
    ``weak`` marks invoices of a customer with poor collections."""
    n = len(amount)
    u = rng.random(n)
    ok_p = np.where(weak, 0.25, 0.86)
    late_p = np.where(weak, 0.10, 0.08)
    part_p = np.where(weak, 0.25, 0.04)
    status = np.select([u < ok_p, u < ok_p + late_p, u < ok_p + late_p + part_p], [0, 1, 2], 3)
    day = np.where(status == 1, due_day + rng.integers(30, 150, n), due_day + rng.integers(-20, 10, n))
    day = np.maximum(day, inv_day + 1)
    frac = np.where(status == 2, rng.uniform(0.3, 0.7, n), 1.0)
    amt = np.rint(amount * frac).astype(np.int64)
    inv = np.flatnonzero((status < 3) & (day <= END))
    # partial payments sometimes come in two instalments
    split = inv[(status[inv] == 0) & (rng.random(len(inv)) < 0.1)]
    first = np.rint(amt[split] * rng.uniform(0.3, 0.7, len(split))).astype(np.int64)
    rows = [(inv, day[inv], amt[inv].copy())]
    a0 = rows[0][2]
    pos = np.searchsorted(inv, split)
    a0[pos] = first
    d2 = day[split] + rng.integers(10, 60, len(split))
    m = d2 <= END
    rows.append((split[m], d2[m], amt[split][m] - first[m]))
    i = np.concatenate([r[0] for r in rows])
    d = np.concatenate([r[1] for r in rows])
    a = np.concatenate([r[2] for r in rows])
    o = np.lexsort((i, d))
    return i[o], d[o], a[o]


def erp_invoices(rng, demo):
    o = demo.O["direct"]
    g = o[demo.direct_genuine]
    n = len(g)
    terms = np.array([30, 60, 90])[rng.choice(3, size=len(demo.companies), p=[0.5, 0.35, 0.15])]
    inv_day = g.day.to_numpy() + rng.integers(0, 6, n)
    keep = inv_day <= END
    g, inv_day = g[keep], inv_day[keep]
    due = inv_day + terms[g.cust.to_numpy()]
    order = np.lexsort((g.oid.to_numpy().astype(str), inv_day))
    g, inv_day, due = g.iloc[order], inv_day[order], due[order]
    inv = pd.DataFrame({"invoice_id": [f"FP{i + 1:08d}" for i in range(len(g))], "oid": g.oid.to_numpy(),
                        "customer": g.customer.to_numpy(), "day": inv_day, "due": due, "amount": g.amount.to_numpy()})
    i, d, a = _pay(rng, inv_day, due, inv.amount.to_numpy(), np.zeros(len(inv), bool))
    pay = pd.DataFrame({"payment_id": [f"HK{k + 1:08d}" for k in range(len(i))], "invoice_id": inv.invoice_id.to_numpy()[i],
                        "customer": inv.customer.to_numpy()[i], "day": d, "amount": a})
    return inv, pay


def dist_receivables(rng, demo):
    o = demo.O["distribution"]
    n = len(o)
    inv_day = o.day.to_numpy() + rng.integers(1, 8, n)
    keep = inv_day <= END
    g, inv_day = o[keep], inv_day[keep]
    due = inv_day + 60
    inv = pd.DataFrame({"invoice_id": [f"DI{i + 1:07d}" for i in range(len(g))], "oid": g.oid.to_numpy(),
                        "dist": demo.dists.distributor_id.to_numpy()[g.dist], "day": inv_day, "due": due,
                        "amount": g.amount.to_numpy()})
    weak = demo.dists.weak.to_numpy()[g.dist.to_numpy()]
    i, d, a = _pay(rng, inv_day, due, inv.amount.to_numpy(), weak)
    pay = pd.DataFrame({"payment_id": [f"DP{k + 1:07d}" for k in range(len(i))], "invoice_id": inv.invoice_id.to_numpy()[i],
                        "dist": inv.dist.to_numpy()[i], "day": d, "amount": a})
    return inv, pay


def returns(rng, demo):
    parts = []
    hr = (demo.products.kind.to_numpy() == "high_return")
    for ch, p in (("online", 0.04), ("retail", 0.01), ("direct", 0.015)):
        o, ln = demo.O[ch], demo.L[ch]
        genuine = (o.copy_of.to_numpy() == "") if "copy_of" in o else np.ones(len(o), bool)
        if ch == "direct":
            genuine = demo.direct_genuine
        prod = ln["product"].to_numpy()
        prob = np.where(hr[prod] & (ch != "direct"), 0.15, p)
        m = (rng.random(len(ln)) < prob) & genuine[ln.o.to_numpy()] & (ln.outlier.to_numpy() == 0)
        sel = ln[m]
        day = o.day.to_numpy()[sel.o] + rng.integers(2, 31, len(sel))
        qty = sel.qty.to_numpy()
        rq = np.where(rng.random(len(sel)) < 0.8, qty, np.maximum(1, (qty * rng.random(len(sel))).astype(np.int64)))
        amt = np.rint(sel.net.to_numpy() * rq / qty).astype(np.int64)
        parts.append(pd.DataFrame({"oid": o.oid.to_numpy()[sel.o], "product": sel["product"].to_numpy(), "day": day,
                                   "qty": rq, "amount": amt}))
    r = pd.concat(parts, ignore_index=True)
    r = r[r.day <= END]
    r = r.iloc[np.lexsort((r.oid.to_numpy().astype(str), r.day.to_numpy()))].reset_index(drop=True)
    r["return_id"] = [f"TH{i + 1:08d}" for i in range(len(r))]
    return r


WAREHOUSES = (("WH-SH", 0.4), ("WH-GZ", 0.25), ("WH-BJ", 0.2), ("WH-CD", 0.15))


def inventory(rng, demo):
    """Month-end stock per product and warehouse: about 1.5-2.5 months of cover;
    slow movers sit on 800-3,000 units per warehouse."""
    P = demo.products
    n_prod = len(P)
    months = np.unique(fmt.month(np.arange(N_DAYS)))
    month_of_day = np.searchsorted(months, fmt.month(np.arange(N_DAYS)))
    units = np.zeros((len(months), n_prod))
    for ch in ("online", "retail", "direct", "distribution"):
        o, ln = demo.O[ch], demo.L[ch]
        m = month_of_day[o.day.to_numpy()[ln.o.to_numpy()]]
        np.add.at(units, (m, ln["product"].to_numpy()), np.minimum(ln.qty.to_numpy(), 500))
    last_day = np.array([np.flatnonzero(month_of_day == k).max() for k in range(len(months))])
    slow = P.kind.to_numpy() == "slow"
    rows = []
    base_slow = rng.uniform(800, 3000, (n_prod, len(WAREHOUSES)))
    for k in range(len(months)):
        live = P.launch_day.to_numpy() <= last_day[k]
        for w, (wh, share) in enumerate(WAREHOUSES):
            cover = rng.uniform(1.2, 2.5, n_prod)
            q = np.rint(units[min(k + 1, len(months) - 1)] * share * cover + rng.integers(0, 20, n_prod))
            q = np.where(slow, np.rint(base_slow[:, w] * (1 - 0.005 * k)), q)
            for p in np.flatnonzero(live):
                rows.append((last_day[k], p, wh, int(q[p])))
    return pd.DataFrame(rows, columns=["day", "product", "warehouse", "qty"])


def targets(rng, demo):
    """Monthly targets by rep (from a smoothed version of the rep's actual direct sales times a
    rep factor), team (sum of its reps) and region (a smoothed version of the region's sales in
    all channels times a region factor of 0.92–1.08: a regional target covers every channel)."""
    o = demo.O["direct"][demo.direct_genuine]
    reps = demo.reps
    months = np.unique(fmt.month(np.arange(N_DAYS)))
    mi = np.searchsorted(months, fmt.month(o.day.to_numpy()))
    actual = np.zeros((len(reps), len(months)))
    np.add.at(actual, (o.rep.to_numpy(), mi), o.amount.to_numpy() / 100)
    yearly = actual.reshape(len(reps), 3, 12).sum(axis=2)
    order = np.argsort(-actual.sum(axis=1))
    active = order[: max(4, len(reps) - 2)]
    k = 2 if len(reps) < 40 else 3
    pick = rng.choice(active, size=2 * k, replace=False)
    above, below = np.sort(pick[:k]), np.sort(pick[k:])
    factor = rng.uniform(0.88, 1.12, len(reps))
    factor[above] = 0.65
    factor[below] = 2.0
    smooth = 0.5 * actual + 0.5 * np.repeat(yearly / 12, 12, axis=1)
    tgt = np.maximum(np.round(smooth * factor[:, None] * rng.uniform(0.97, 1.03, actual.shape), -2), 1_000)
    reg_actual = np.zeros((len(REGION_CODES), len(months)))
    for ch, oc in demo.O.items():
        oc = oc[demo.direct_genuine] if ch == "direct" else oc
        np.add.at(reg_actual, (oc.region.to_numpy(), np.searchsorted(months, fmt.month(oc.day.to_numpy()))),
                  oc.amount.to_numpy() / 100)
    reg_yearly = reg_actual.reshape(len(REGION_CODES), 3, 12).sum(axis=2)
    reg_smooth = 0.5 * reg_actual + 0.5 * np.repeat(reg_yearly / 12, 12, axis=1)
    reg_tgt = np.round(reg_smooth * rng.uniform(0.92, 1.08, (len(REGION_CODES), 1)), -2)
    rows = []
    for m in range(len(months)):
        day = int(np.flatnonzero(fmt.month(np.arange(N_DAYS)) == months[m])[0])
        serial = day + fmt.EXCEL_START
        team_sum = {}
        for r in range(len(reps)):
            rows.append((serial, "销售代表", reps.rep_id[r], reps.name[r], float(tgt[r, m])))
            team_sum[reps.team[r]] = team_sum.get(reps.team[r], 0) + tgt[r, m]
        for t in sorted(team_sum):
            rows.append((serial, "团队", t, t, float(team_sum[t])))
        for g in sorted(REGION_CODES):
            if reg_tgt[REGION_CODES.index(g), m] > 0:
                rows.append((serial, "区域", g, REGIONS[g][0], float(reg_tgt[REGION_CODES.index(g), m])))
    ach = actual.sum(axis=1) / tgt.sum(axis=1)
    planted = {
        "reps_above_target": {"ids": reps.rep_id.to_numpy()[above].tolist(),
                              "achievement": [round(float(ach[i]), 3) for i in above],
                              "effect": "targets set at 65 % of the rep's actual direct sales -> achievement ≈ 150 % (≥ 120 %)"},
        "reps_below_target": {"ids": reps.rep_id.to_numpy()[below].tolist(),
                              "achievement": [round(float(ach[i]), 3) for i in below],
                              "effect": "targets set at 200 % of actual direct sales -> achievement ≈ 50 % (≤ 60 %)"},
    }
    return rows, planted


def traffic(rng, demo):
    """Daily visits / clicks per traffic source, consistent with online orders."""
    o = demo.O["online"]
    g = o[o.copy_of.to_numpy() == ""]
    from .build import TRAFFIC_SOURCES

    cnt = np.zeros((N_DAYS, len(TRAFFIC_SOURCES)))
    np.add.at(cnt, (g.day.to_numpy(), g.source.to_numpy()), 1)
    conv = np.array([0.035, 0.02, 0.05, 0.03, 0.045, 0.015])
    visits = np.rint((cnt + rng.poisson(2, cnt.shape)) / conv * rng.uniform(0.9, 1.1, cnt.shape)).astype(np.int64)
    clicks = np.rint(visits * rng.uniform(0.25, 0.4, cnt.shape)).astype(np.int64)
    d, s = np.meshgrid(np.arange(N_DAYS), np.arange(len(TRAFFIC_SOURCES)), indexing="ij")
    return pd.DataFrame({"day": d.ravel(), "source": np.array(TRAFFIC_SOURCES, dtype=object)[s.ravel()],
                         "visits": visits.ravel(), "clicks": clicks.ravel(), "orders": cnt.ravel().astype(np.int64)})


def campaign_stats(rng, demo):
    """Spend, visits, clicks and conversions per campaign; ROI differs by campaign. The regional
    campaigns (:mod:`saleslab.demo.regional`) come last, drawn from their own stream."""
    from . import regional
    from .regions import REGIONS

    rows = []
    for i, c in enumerate(demo.campaigns):
        if c.get("region"):
            continue
        o = demo.O["online" if c["channel"] == "online" else "retail"]
        m = o.campaign.to_numpy() == i
        if "copy_of" in o:
            m &= o.copy_of.to_numpy() == ""
        rev = o.amount.to_numpy()[m].sum() / 100
        conv = int(m.sum())
        roi = rng.uniform(2.0, 6.0)
        if c["name"].endswith("99划算节"):
            roi = rng.uniform(0.6, 1.0)  # a campaign that does not pay back
        spend = round(max(rev / roi, 5000.0), -2)
        visits = int(conv / rng.uniform(0.02, 0.05)) + 100
        clicks = int(visits * rng.uniform(0.2, 0.35))
        rows.append((c["campaign_id"], c["name"], "线上" if c["channel"] == "online" else "门店", "",
                     fmt.to_date(c["start"]), fmt.to_date(c["end"]), float(spend), visits, clicks, conv))
    truth = {t["campaign_id"]: t for t in demo.regional_campaigns}
    by_id = {c["campaign_id"]: c for c in demo.campaigns}
    for cid, name, code, spend, visits, clicks, conv in regional.stats(demo, demo.seed, truth):
        c = by_id[cid]
        rows.append((cid, name, "门店", REGIONS[code][0], fmt.to_date(c["start"]), fmt.to_date(c["end"]), spend,
                     visits, clicks, conv))
    return rows


def channel_costs(rng, demo):
    """Monthly costs per channel; retail's store costs make its ROI ≈ 1.1 (< 1.2)."""
    months = np.unique(fmt.month(np.arange(N_DAYS)))
    rates = {"online": (0.10, 0.06), "retail": (0.15, 0.75), "direct": (0.04, 0.08), "distribution": (0.015, 0.04)}
    zh = {"online": "线上", "retail": "门店", "direct": "直销", "distribution": "经销"}
    rows = []
    for ch in ("online", "retail", "direct", "distribution"):
        o = demo.O[ch]
        m = np.searchsorted(months, fmt.month(o.day.to_numpy()))
        genuine = demo.direct_genuine if ch == "direct" else (o.copy_of.to_numpy() == "" if "copy_of" in o else np.ones(len(o), bool))
        rev = np.bincount(m[genuine], weights=o.amount.to_numpy()[genuine] / 100, minlength=len(months))
        acq, opx = rates[ch]
        for k, mon in enumerate(months):
            rows.append((mon, zh[ch], "获客", round(rev[k] * acq * rng.uniform(0.85, 1.15), 2)))
            rows.append((mon, zh[ch], "运营", round(rev[k] * opx * rng.uniform(0.9, 1.1), 2)))
    planted = {"weak_channel_roi": {"channel": "retail", "effect": "retail costs ≈ 90 % of retail revenue -> ROI ≈ 1.1 (< 1.2)"},
               "weak_campaigns": {"ids": [c["campaign_id"] for c in demo.campaigns if c["name"].endswith("99划算节")],
                                  "effect": "spend above attributed revenue (ROI 0.6–1.0)"}}
    return rows, planted
