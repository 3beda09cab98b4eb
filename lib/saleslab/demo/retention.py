"""A retention programme with a known response (issue 14, from findings to actions).

On the decision date (2025-06-30, the first monthly run of the strategy loop) the company's at-risk
valuable B2B customers are those whose genuine direct orders add up to at least
:data:`MIN_SPEND` 元 in the 365 days up to that date and whose last order is at least
:data:`MIN_RECENCY` days old (the ``retention_callback`` rule of ``parameters/strategy.yaml`` uses
the same two figures from the churn stage). A random :data:`CALL_RATE` of them get a call-back
(挽留回访) from their rep between 2025-07-07 and 2025-07-18, logged as a CRM follow-up; a called
customer places one extra order, with probability :data:`RESPONSE_RATE`, 7–45 days after the
call (a copy of the lines of its last order before the decision date: same products,
quantities, prices and discounts), invoiced and paid like the ERP's other orders.

Everything is drawn from the separate stream ``default_rng([seed, 1414])`` and written **after**
every other export: the call-backs and the extra orders (with their invoices and payments) are
appended at the end of ``crm/followups.csv``, ``erp/orders_2025.csv``, ``erp/order_lines_2025.csv``,
``erp/invoices.csv`` and ``erp/payments.csv``, so every existing row stays byte-identical.
The answer key: ``truth/retention_callbacks.csv`` (every eligible customer: called or not, when,
whether it responded, whether it bought again within :data:`OUTCOME_DAYS` days of the decision
date with and without the programme) and ``planted.json`` → ``retention_programme``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd

from . import fmt
from .config import day_index
from .regions import REGIONS, REGION_CODES

STREAM = 1414
DECISION = dt.date(2025, 6, 30)
CALL_FIRST, CALL_DAYS = dt.date(2025, 7, 7), 12  # call-backs on 2025-07-07 .. 2025-07-18
MIN_SPEND = 20_000.0  # 元 in the 365 days up to the decision date
MIN_RECENCY = 60  # days since the last order, at the decision date
CALL_RATE = 0.7
RESPONSE_RATE = 0.6
RESPONSE_DELAY = (7, 46)  # days after the call (upper bound exclusive)
OUTCOME_DAYS = 90  # outcome: bought again within this many days after the decision date
CALL_TEXT = "挽留回访：专属客服回访，提供限时折扣"
ORDER_SEQ_OFFSET = 60_000


def _row(values, encoding: str, terminator: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=terminator).writerow(values)
    return buf.getvalue().encode(encoding)


def _append(ctx, rel: str, rows: list[list], encoding: str, terminator: str) -> None:
    with open(ctx.exports / rel, "ab") as fh:
        for r in rows:
            fh.write(_row(r, encoding, terminator))
    ctx.truth.files[rel] = ctx.truth.files.get(rel, 0) + len(rows)


def eligible(d) -> pd.DataFrame:
    """The at-risk valuable companies at the decision date: entity index ``cust``, ``recency_days``,
    ``spend_12m`` (元), ``last_order`` (row of the last genuine direct order before the date)."""
    o = d.O["direct"][d.direct_genuine]
    dec = day_index(DECISION)
    past = o[o.day.to_numpy() <= dec]
    last = past.groupby("cust").day.max()
    win = past[past.day.to_numpy() > dec - 365]
    spend = win.groupby("cust").amount.sum() / 100
    df = pd.DataFrame({"recency_days": dec - last, "spend_12m": spend.reindex(last.index).fillna(0.0)})
    df = df[(df.recency_days >= MIN_RECENCY) & (df.spend_12m >= MIN_SPEND)]
    last_row = past.reset_index().sort_values(["cust", "day", "oid"]).groupby("cust").tail(1).set_index("cust")["index"]
    df["last_order"] = last_row.reindex(df.index).to_numpy()
    return df.rename_axis("cust").reset_index()


def plant(ctx, d) -> dict:
    """Call back, respond, append the rows and extend ``d.O/L["direct"]`` (so the truth's monthly
    revenue counts the extra orders); return the ``retention_programme`` planted record."""
    rng = np.random.default_rng([d.seed, STREAM])
    E = eligible(d)
    n = len(E)
    called = rng.random(n) < CALL_RATE
    call_day = day_index(CALL_FIRST) + rng.integers(0, CALL_DAYS, n)
    responded = called & (rng.random(n) < RESPONSE_RATE)
    order_day = call_day + rng.integers(*RESPONSE_DELAY, n)
    E["called"], E["call_day"], E["responded"], E["order_day"] = called, call_day, responded, order_day
    orig = d.records[d.records.variant == "original"]
    rec_of = np.empty(len(d.companies), dtype=object)
    rec_of[orig.entity.to_numpy()] = orig.record_id.to_numpy()
    rec_row = np.empty(len(d.companies), dtype=np.int64)
    rec_row[orig.entity.to_numpy()] = np.flatnonzero(d.records.variant.to_numpy() == "original")
    rep_ids = d.reps.rep_id.to_numpy()
    owner = d.companies.owner_rep.to_numpy()
    E["customer_id"] = rec_of[E.cust.to_numpy()]
    E["rep_id"] = rep_ids[owner[E.cust.to_numpy()]]

    # call-backs: CRM follow-ups, appended
    C = E[E.called].sort_values(["call_day", "customer_id"])
    _append(ctx, "crm/followups.csv", [
        [f"FR{i + 1:07d}", r.customer_id, "", r.rep_id, fmt.iso(np.array([r.call_day]))[0], "电话", CALL_TEXT]
        for i, r in enumerate(C.itertuples())], "utf-8", "\n")

    # the extra orders: a copy of the customer's last order's lines, on the response day
    o, ln = d.O["direct"], d.L["direct"]
    R = E[E.responded].sort_values(["order_day", "customer_id"]).reset_index(drop=True)
    seq = fmt.compact(R.order_day.to_numpy()).astype(str)
    R["oid"] = ["SO" + s + f"{ORDER_SEQ_OFFSET + k:05d}" for s, k in
                zip(seq, pd.Series(seq).groupby(seq).cumcount().to_numpy() + 1)]
    lines_by_order = ln.groupby("o")
    new_o, new_l = [], []
    P = d.products
    names = d.records.name.to_numpy()
    for r in R.itertuples():
        src = lines_by_order.get_group(r.last_order)
        amount = int(src.net.sum())
        new_o.append({"day": r.order_day, "cust": r.cust, "sec": 0, "campaign": -1, "amount": amount,
                      "nlines": len(src), "oid": r.oid, "customer": r.customer_id, "rep": owner[r.cust],
                      "region": int(d.companies.region_idx.to_numpy()[r.cust]), "kind": "direct", "dist": -1,
                      "ext_ref": "", "copy_of": "", "record": rec_row[r.cust]})
        for s in src.itertuples():
            new_l.append({"oid": r.oid, "line_no": s.line_no, "product": s.product, "qty": s.qty, "price": s.price,
                          "disc": s.disc, "net": s.net, "outlier": 0})
    NO, NL = pd.DataFrame(new_o), pd.DataFrame(new_l)
    if len(NO):
        region_zh = np.array([REGIONS[c][0] for c in REGION_CODES], dtype=object)
        _append(ctx, "erp/orders_2025.csv", [
            [x.oid, fmt.slash(np.array([x.day]))[0], x.customer, names[x.record], rep_ids[x.rep], region_zh[x.region],
             "直销", "", "", fmt.cents(np.array([x.amount]))[0]] for x in NO.itertuples()], "gbk", "\r\n")
        _append(ctx, "erp/order_lines_2025.csv", [
            [x.oid, str(x.line_no), P.product_id.to_numpy()[x.product], P.name.to_numpy()[x.product], str(x.qty),
             fmt.cents(np.array([x.price]))[0], fmt.cents(np.array([x.disc]))[0], fmt.cents(np.array([x.net]))[0]]
            for x in NL.itertuples()], "gbk", "\r\n")
        # invoiced 0-5 days later, 30 days' terms, paid in full 5-40 days after the invoice
        inv_day = NO.day.to_numpy() + rng.integers(0, 6, len(NO))
        pay_day = inv_day + rng.integers(5, 41, len(NO))
        inv_ids = [f"FPR{i + 1:07d}" for i in range(len(NO))]
        _append(ctx, "erp/invoices.csv", [
            [inv_ids[i], x.oid, x.customer, fmt.slash(np.array([inv_day[i]]))[0],
             fmt.slash(np.array([inv_day[i] + 30]))[0], fmt.cents(np.array([x.amount]))[0]]
            for i, x in enumerate(NO.itertuples())], "gbk", "\r\n")
        _append(ctx, "erp/payments.csv", [
            [f"HKR{i + 1:07d}", inv_ids[i], x.customer, fmt.slash(np.array([pay_day[i]]))[0],
             fmt.cents(np.array([x.amount]))[0]] for i, x in enumerate(NO.itertuples())], "gbk", "\r\n")
        # the truth's monthly revenue counts them: extend the direct orders
        base = len(o)
        NL["o"] = base + NL.oid.map({k: i for i, k in enumerate(NO.oid)}).to_numpy()
        d.O["direct"] = pd.concat([o, NO[o.columns]], ignore_index=True)
        d.L["direct"] = pd.concat([ln, NL[ln.columns]], ignore_index=True)
        d.direct_genuine = np.concatenate([d.direct_genuine, np.ones(len(NO), bool)])

    # outcome: bought again within OUTCOME_DAYS after the decision date, with and without the programme
    dec = day_index(DECISION)
    g = d.O["direct"][d.direct_genuine]
    base_days = g[(g.day > dec) & (g.day <= dec + OUTCOME_DAYS) & ~g.oid.isin(R.oid if len(R) else [])]
    without = E.cust.isin(base_days.cust.unique()).to_numpy()
    extra_in = E.responded.to_numpy() & (E.order_day.to_numpy() <= dec + OUTCOME_DAYS)
    with_prog = without | extra_in
    E["bought_again_without"], E["bought_again"] = without, with_prog
    iso = lambda a: np.where(E.called, fmt.iso(np.asarray(a)), "")  # noqa: E731
    out = pd.DataFrame({
        "customer_id": E.customer_id, "entity_id": d.companies.entity_id.to_numpy()[E.cust.to_numpy()],
        "rep_id": E.rep_id, "recency_days": E.recency_days.astype(int), "spend_12m": E.spend_12m.round(2),
        "called": E.called, "call_date": iso(E.call_day), "responded": E.responded,
        "extra_order_id": E.customer_id.map(dict(zip(R.customer_id, R.oid)) if len(R) else {}).fillna(""),
        "extra_order_date": np.where(E.responded, fmt.iso(E.order_day.to_numpy()), ""),
        f"bought_again_{OUTCOME_DAYS}d_without_programme": without,
        f"bought_again_{OUTCOME_DAYS}d": with_prog,
    }).sort_values("customer_id").reset_index(drop=True)
    t = ctx.exports.parent / "truth"
    t.mkdir(parents=True, exist_ok=True)
    out.to_csv(t / "retention_callbacks.csv", index=False, lineterminator="\n")
    c, nc = E.called.to_numpy(), ~E.called.to_numpy()
    rate = lambda m, v: round(float(v[m].mean()), 4) if m.any() else None  # noqa: E731
    return {"retention_programme": {
        "decision_date": DECISION.isoformat(), "call_backs": f"{CALL_FIRST} .. {CALL_FIRST + dt.timedelta(CALL_DAYS - 1)}",
        "eligible_rule": f"genuine direct orders ≥ {MIN_SPEND:,.0f} 元 in the 365 days to {DECISION} and the last one "
                         f"≥ {MIN_RECENCY} days before it",
        "eligible": int(n), "called": int(c.sum()), "responded": int(E.responded.sum()),
        "call_rate": CALL_RATE, "response_rate": RESPONSE_RATE, "outcome_days": OUTCOME_DAYS,
        "repurchase_rate_called": rate(c, with_prog), "repurchase_rate_called_without_programme": rate(c, without),
        "repurchase_rate_not_called": rate(nc, with_prog),
        # the effect on the called (in sample, exact): with − without the programme
        "effect_on_called": round(float(with_prog[c].mean() - without[c].mean()), 4) if c.any() else None,
        "effect": (f"{CALL_RATE:.0%} of the eligible customers get a call-back (CRM follow-up '{CALL_TEXT}'); a called "
                   f"customer places one extra order (a copy of its last order) with probability {RESPONSE_RATE:.0%}, "
                   f"{RESPONSE_DELAY[0]}–{RESPONSE_DELAY[1] - 1} days after the call (truth/retention_callbacks.csv)"),
    }}
