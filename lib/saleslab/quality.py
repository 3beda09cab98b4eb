"""Data-quality figures: row accounting, quarantine reasons and coverage of the order lines."""

from __future__ import annotations

import ibis
import pandas as pd

from .engine import Engine


def row_accounting(eng: Engine) -> pd.DataFrame:
    """Per source: files, rows read / loaded / quarantined and whether the accounting balances.

    Columns: source, system, files, rows_read, rows_loaded, rows_quarantined, rejected_files, balanced.
    """
    a = eng.table("_accounting")
    expr = a.group_by(["source", "system"]).aggregate(
        files=a.file.count(),
        rows_read=a.rows_read.sum(),
        rows_loaded=a.rows_loaded.sum(),
        rows_quarantined=a.rows_quarantined.sum(),
        rejected_files=(a.status == "rejected").cast("int64").sum(),
    ).order_by("source")
    df = eng.execute(expr)
    df["balanced"] = df["rows_read"] == df["rows_loaded"] + df["rows_quarantined"]
    return df


def quarantine_reasons(eng: Engine) -> pd.DataFrame:
    """Quarantined rows by source and reason code. Columns: source, reason, rows, example_file, example_line."""
    q = eng.table("_quarantine")
    expr = q.group_by(["source", "reason"]).aggregate(
        rows=q.count(), example_file=q.file.min(), example_line=q.line.min(),
    ).order_by([ibis.desc("rows"), "source", "reason"])
    return eng.execute(expr)


def coverage(eng: Engine) -> pd.DataFrame:
    """Share of order lines with a known customer, product and region, per channel and overall.

    known customer = the order's customer_id exists in ``customers``; known product = the
    line's product_id exists in ``products``; known region = the order has a region code.
    Columns: channel, order_lines, known_customer, known_product, known_region (shares in [0, 1]).
    """
    o = eng.table("orders").select("order_id", "customer_id", "channel", "region")
    ln = eng.table("order_lines").select("order_id", "product_id")
    c = eng.table("customers").select(known_customer_id="customer_id").distinct()
    p = eng.table("products").select(known_product_id="product_id").distinct()
    j = ln.join(o, "order_id")
    j = j.left_join(c, j.customer_id == c.known_customer_id)
    j = j.left_join(p, j.product_id == p.known_product_id)
    per = j.group_by("channel").aggregate(
        order_lines=j.count(),
        known_customer=j.known_customer_id.notnull().cast("int64").sum(),
        known_product=j.known_product_id.notnull().cast("int64").sum(),
        known_region=j.region.notnull().cast("int64").sum(),
    ).order_by("channel")
    df = eng.execute(per)
    shares = ["known_customer", "known_product", "known_region"]
    total = df[["order_lines", *shares]].sum()
    df = pd.concat([df, pd.DataFrame([{"channel": "all", **total.to_dict()}])], ignore_index=True)
    for k in shares:
        df[k] = (df[k] / df["order_lines"]).where(df["order_lines"] > 0).round(6)
    df["order_lines"] = df["order_lines"].astype("int64")
    return df


def reason_totals(reasons: pd.DataFrame) -> pd.DataFrame:
    """:func:`quarantine_reasons` summed over sources: reason, rows (largest first)."""
    out = reasons.groupby("reason", as_index=False)["rows"].sum()
    return out.sort_values(["rows", "reason"], ascending=[False, True]).reset_index(drop=True)


def overall_coverage(cov: pd.DataFrame) -> dict:
    """The ``all`` row of :func:`coverage` as a dict (order_lines, known_customer, known_product, known_region)."""
    row = cov[cov["channel"] == "all"].iloc[0]
    return {k: row[k] for k in ("order_lines", "known_customer", "known_product", "known_region")}
