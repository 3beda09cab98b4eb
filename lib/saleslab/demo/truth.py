"""The answer key written to ``truth/``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import fmt
from .config import END, N_DAYS, START
from .regions import ALL_ALIASES, REGION_CODES


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def customer_entities(d) -> pd.DataFrame:
    rec, P, b, D = d.records, d.persons, d.b2b, d.dists
    ent = d.companies.entity_id.to_numpy()
    parts = [
        pd.DataFrame({"customer_id": rec.record_id, "system": "crm", "entity_id": ent[rec.entity],
                      "name_variant": rec.variant, "shared_key": rec.share.replace("", np.nan)}),
        pd.DataFrame({"customer_id": b.member_id, "system": "ecommerce", "entity_id": ent[b.entity],
                      "name_variant": b.variant, "shared_key": b.share}),
    ]
    on, pos = P[P.online], P[P.pos]
    parts.append(pd.DataFrame({"customer_id": on.member_id, "system": "ecommerce", "entity_id": on.entity_id,
                               "name_variant": "original", "shared_key": np.where(on.pos, "phone", None)}))
    parts.append(pd.DataFrame({"customer_id": pos.card_id, "system": "pos", "entity_id": pos.entity_id,
                               "name_variant": "original", "shared_key": np.where(pos.online, "phone", None)}))
    n0 = len(d.companies) + len(P)
    parts.append(pd.DataFrame({"customer_id": D.distributor_id, "system": "crm",
                               "entity_id": [f"E{n0 + i + 1:07d}" for i in range(len(D))],
                               "name_variant": "original", "shared_key": None}))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["system", "customer_id"]).reset_index(drop=True)


def customer_params(d) -> pd.DataFrame:
    C, P = d.companies, d.persons

    def churn(x):
        x = np.asarray(x)
        s = fmt.iso(np.minimum(x, N_DAYS - 1))
        return np.where(x < N_DAYS, s, "")

    a = pd.DataFrame({"entity_id": C.entity_id, "kind": "company", "region": np.array(REGION_CODES)[C.region_idx],
                      "created_date": fmt.iso(C.created), "churn_date": churn(C.churn),
                      "purchase_rate": C.rate.round(4), "spend_level": C.spend.round(4)})
    b = pd.DataFrame({"entity_id": P.entity_id, "kind": "person", "region": np.array(REGION_CODES)[P.region_idx],
                      "created_date": fmt.iso(P.created), "churn_date": churn(P.churn),
                      "purchase_rate": P.rate.round(4), "spend_level": P.spend.round(4)})
    return pd.concat([a, b], ignore_index=True)


def monthly_revenue(d) -> pd.DataFrame:
    """Genuine sales (no cross-system copies, no duplicate rows) by month, channel, region."""
    parts = []
    for ch in ("online", "retail", "direct", "distribution"):
        o, ln = d.O[ch], d.L[ch]
        if ch == "direct":
            g = d.direct_genuine
        elif "copy_of" in o:
            g = o.copy_of.to_numpy() == ""
        else:
            g = np.ones(len(o), bool)
        lo = ln.o.to_numpy()
        m = g[lo]
        df = pd.DataFrame({"month": fmt.month(o.day.to_numpy()[lo[m]]), "channel": ch,
                           "region": np.array(REGION_CODES)[o.region.to_numpy()[lo[m]]],
                           "order": lo[m], "qty": ln.qty.to_numpy()[m], "net": ln.net.to_numpy()[m] / 100,
                           "net_clean": np.where(ln.outlier.to_numpy()[m] > 0, 0, ln.net.to_numpy()[m]) / 100})
        agg = df.groupby(["month", "channel", "region"]).agg(
            orders=("order", "nunique"), lines=("order", "size"), quantity=("qty", "sum"),
            net_amount=("net", "sum"), net_amount_excl_outliers=("net_clean", "sum")).reset_index()
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["net_amount"] = out.net_amount.round(2)
    out["net_amount_excl_outliers"] = out.net_amount_excl_outliers.round(2)
    return out


def duplicate_orders(d, ctx) -> pd.DataFrame:
    fl = ctx.first_line
    rows = []
    for _, r in d.platform_copies.iterrows():
        y = fmt.year(np.array([r.day]))[0]
        cf, of = f"ecommerce/orders_{y}.csv", f"erp/orders_{y}.csv"
        rows.append((cf, fl.get((cf, r.oid)), r.oid, of, fl.get((of, r.copy_of)), r.copy_of,
                     "external_ref" if r.has_ref else "customer_date_lines"))
    for _, r in d.erp_dist_copies.iterrows():
        y = fmt.year(np.array([r.day]))[0]
        of = f"distributor/sell_in_{y}.csv"
        for cf in (f"erp/orders_{y}.csv", f"erp/order_lines_{y}.csv"):
            rows.append((cf, fl.get((cf, r.oid)), r.oid, of, fl.get((of, r.copy_of)), r.copy_of,
                         "external_ref" if r.has_ref else "customer_date_lines"))
    df = pd.DataFrame(rows, columns=["file", "line", "order_id", "duplicate_of_file", "duplicate_of_line",
                                     "duplicate_of_order_id", "match"])
    return df.astype({"line": "Int64", "duplicate_of_line": "Int64"})


def write(out: Path, d, ctx, scale: str, seed: int, seconds_so_far: float) -> dict:
    t = out / "truth"
    t.mkdir(parents=True, exist_ok=True)
    tr = ctx.truth
    errors = pd.DataFrame(tr.errors, columns=["file", "line", "column", "kind", "value"])
    _csv(errors.sort_values(["file", "line"]), t / "errors.csv")
    dups = pd.DataFrame(tr.duplicate_rows, columns=["file", "line", "duplicate_of_line"])
    _csv(dups.sort_values(["file", "line"]), t / "duplicate_rows.csv")
    outl = pd.DataFrame(tr.outliers, columns=["file", "line", "order_id", "line_no", "factor"])
    _csv(outl.sort_values(["file", "line"]), t / "outliers.csv")
    dor = duplicate_orders(d, ctx)
    _csv(dor, t / "duplicate_orders.csv")
    ents = customer_entities(d)
    _csv(ents, t / "customer_entities.csv")
    _csv(customer_params(d), t / "customer_params.csv")
    mr = monthly_revenue(d)
    _csv(mr, t / "monthly_revenue.csv")
    planted = dict(d.planted)
    planted["seasonality"] = {
        "spring_festival": {str(k): v.isoformat() for k, v in __import__("saleslab.demo.config", fromlist=["x"]).SPRING_FESTIVAL.items()},
        "effect": "sales ×0.15–0.45 from 14 days before to 6 days after the Spring Festival; online peaks on 618 "
                  "(June 1–18, ×4 on June 18) and Double 11 (Oct 24–Nov 11, ×7 on Nov 11); retail weekends ×1.45",
    }
    from .config import CHANNEL_GROWTH, REGION_GROWTH

    planted["trends"] = {"channel_growth_per_year": CHANNEL_GROWTH, "region_growth_per_year": REGION_GROWTH,
                         "effect": "multiplicative on the daily purchase intensity; fastest region southwest, declining northeast"}
    planted["campaigns"] = {"ids": [c["campaign_id"] for c in d.campaigns if not c.get("region")],
                            "effect": "during a campaign the channel's daily intensity ×1.3–1.8, 75 % of orders carry the campaign id "
                                      "and get 8–25 % discount plus slightly larger quantities",
                            "regional": d.regional_campaigns}
    planted["churn"] = {"effect": "customers stop buying at their churn date (truth/customer_params.csv); in the 180 days "
                                  "before it purchases thin out by up to 60 %, CRM follow-ups drop to 0.35/month and 40 % are complaints",
                        "churned_companies": int((d.companies.churn < N_DAYS).sum()),
                        "churned_persons": int((d.persons.churn < N_DAYS).sum())}
    planted["customer_heterogeneity"] = {"effect": "purchase rate ~ Gamma(0.9) companies / Gamma(0.6) persons; spend level ~ Gamma(3) / Gamma(4); BG/NBD-like"}
    planted["region_aliases"] = ALL_ALIASES
    (t / "planted.json").write_text(json.dumps(planted, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    lines_total = int(sum(len(d.L[ch]) for ch in d.L))
    genuine = int(mr.lines.sum())
    gt = {
        "scale": scale, "seed": seed, "period": {"start": START.isoformat(), "end": END.isoformat()},
        "company": "华信电器",
        "order_lines_generated": lines_total,
        "order_lines_genuine": genuine,
        "order_lines_by_channel": {ch: int(mr[mr.channel == ch].lines.sum()) for ch in ("online", "retail", "direct", "distribution")},
        "orders_genuine": int(mr.orders.sum()),
        "files": dict(sorted(tr.files.items())),
        "injected": {
            "row_errors": int(len(errors)),
            "row_errors_by_kind": {k: int(v) for k, v in errors.kind.value_counts().sort_index().items()},
            "duplicate_rows": int(len(dups)),
            "duplicate_orders": {"ecommerce_copies_of_erp": int(len(d.platform_copies)),
                                 "erp_copies_of_distributor": int(len(d.erp_dist_copies)),
                                 "with_external_ref": int(d.platform_copies.has_ref.sum() + d.erp_dist_copies.has_ref.sum())},
            "outlier_lines": int(len(outl)),
            "duplicate_customer_records": int((ents.name_variant != "original").sum()),
            "customer_records": int(len(ents)),
            "customer_entities": int(ents.entity_id.nunique()),
            "blank_industry_crm": int((d.records.industry_cell == "").sum()),
            "blank_region_crm": int((d.records.region_cell == "").sum()),
            "anonymous_pos_orders": int((d.O["retail"].member == "").sum()),
        },
    }
    (t / "ground_truth.json").write_text(json.dumps(gt, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    return gt
