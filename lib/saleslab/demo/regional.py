"""Regional campaigns with a known effect and control regions (issue 15, campaign effects).

The nationwide campaigns of :mod:`saleslab.demo.calendar` act on a whole channel, so nothing
untreated is left to compare with. The two campaigns here target one region's stores; the other
regions' stores are the control group:

- ``CPR2501`` (华东, 2025-04-07 .. 2025-05-04): every retail line sold in an East China store in
  the window gets ``Poisson(0.9)`` extra units (same price and discount rate) — a bigger basket.
  The planted incremental sales are the exact sum of the added net amounts (元).
- ``CPR2401`` (华南, 2024-04-15 .. 2024-05-12): runs (75 % of the region's orders in the window
  carry its id, it has spend, visits and clicks) but adds nothing: its incremental sales are 0.

Both windows are whole weeks (Monday .. Sunday) with eight clean weeks before them (after the
Spring Festival window, before the summer promotions). Everything is drawn from the separate
stream ``default_rng([seed, 1511])`` and only values of existing lines change (no row is added),
so every other draw of the generator, and every other planted fact, stays where it was.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .config import START
from .regions import REGION_CODES, REGIONS

#: The regional campaigns: id, name, channel, region, first day, last day, mean extra units per line.
SPECS = (
    ("CPR2401", "2024华南门店会员日", "retail", "south", dt.date(2024, 4, 15), dt.date(2024, 5, 12), 0.0),
    ("CPR2501", "2025华东门店以旧换新", "retail", "east", dt.date(2025, 4, 7), dt.date(2025, 5, 4), 0.9),
)
TAG_SHARE = 0.75  # share of the region's orders in the window that carry the campaign id
STREAM = 1511


def plant(d) -> list[dict]:
    """Append the regional campaigns to ``d.campaigns``, tag and lift the retail orders, and return
    the truth records (one per campaign)."""
    rng = np.random.default_rng([d.seed, STREAM])
    o, ln = d.O["retail"], d.L["retail"]
    region, day = o.region.to_numpy(), o.day.to_numpy()
    camp = o.campaign.to_numpy().copy()
    qty, price, disc, net = (ln[c].to_numpy().copy() for c in ("qty", "price", "disc", "net"))
    lo, outlier = ln.o.to_numpy(), ln.outlier.to_numpy()
    stores_by_region = np.bincount(d.stores.region_idx.to_numpy(), minlength=len(REGION_CODES))
    truth = []
    for cid, name, channel, code, first, last, uplift in SPECS:
        s, e, r = (first - START).days, (last - START).days, REGION_CODES.index(code)
        idx = len(d.campaigns)
        d.campaigns.append({"campaign_id": cid, "name": name, "channel": channel, "source": "store", "start": s,
                            "end": e, "boost": 1.0, "region": code})
        in_win = (region == r) & (day >= s) & (day <= e)
        tag = in_win & (rng.random(len(o)) < TAG_SHARE) & (camp < 0)
        camp[tag] = idx
        lines = np.flatnonzero(in_win[lo] & (outlier == 0))
        before = int(net[lines].sum())
        added = 0
        if uplift > 0:
            extra = rng.poisson(uplift, len(lines))
            gross_old = qty[lines] * price[lines]
            rate = disc[lines] / np.maximum(1, gross_old)
            qty[lines] += extra
            gross = qty[lines] * price[lines]
            disc[lines] = np.rint(gross * rate).astype(np.int64)
            new = gross - disc[lines]
            added = int((new - net[lines]).sum())
            net[lines] = new
        truth.append({
            "campaign_id": cid, "name": name, "channel": channel, "region": code,
            "control_regions": [REGION_CODES[k] for k in range(len(REGION_CODES)) if k != r and stores_by_region[k] > 0],
            "start": first.isoformat(), "end": last.isoformat(),
            "orders_in_window": int(in_win.sum()), "orders_tagged": int(tag.sum()),
            "sales_without_campaign": round(before / 100, 2),
            "incremental_sales": round(added / 100, 2),
            "effect": (f"every {channel} line sold in {REGIONS[code][1]} stores from {first} to {last} gets "
                       f"Poisson({uplift:g}) extra units at the same price and discount rate; incremental sales = "
                       "the exact sum of the added net amounts (returns of them excluded)") if uplift > 0 else
                      (f"runs in {REGIONS[code][1]} stores from {first} to {last} ({TAG_SHARE:.0%} of the region's "
                       "orders carry its id) but changes nothing: incremental sales 0"),
        })
    ln["qty"], ln["disc"], ln["net"] = qty, disc, net
    o["campaign"] = camp
    amount = np.bincount(lo, weights=net, minlength=len(o)).round().astype(np.int64)
    o["amount"] = amount
    return truth


def stats(d, seed: int, rows_by_id: dict) -> list[tuple]:
    """Spend, visits, clicks and conversions of the regional campaigns (stream ``[seed, 1511, 2]``):
    the effective one spends 40 % of its planted incremental sales (incremental ROI 2.5); the one
    without effect spends a third of the sales its tagged orders carry (attributed ROI 3, incremental 0)."""
    rng = np.random.default_rng([seed, STREAM, 2])
    out = []
    for c in d.campaigns:
        if not c.get("region"):
            continue
        t = rows_by_id[c["campaign_id"]]
        i = d.campaigns.index(c)
        o = d.O["retail"]
        m = o.campaign.to_numpy() == i
        conv = int(m.sum())
        attributed = o.amount.to_numpy()[m].sum() / 100
        spend = round(max(t["incremental_sales"] / 2.5 if t["incremental_sales"] > 0 else attributed / 3, 5000.0), -2)
        visits = int(conv / rng.uniform(0.03, 0.06)) + 100
        clicks = int(visits * rng.uniform(0.2, 0.35))
        t["spend"] = float(spend)
        out.append((c["campaign_id"], c["name"], c["region"], float(spend), visits, clicks, conv))
    return out
