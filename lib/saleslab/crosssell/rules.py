"""Cross-sell (交叉销售, domain.md §6): association rules "who bought A also buys B" and, per
customer, the next items they have not bought yet.

A *basket* is an order (``basket="order"``) or everything a customer bought in the period
(``basket="customer"``, anonymous orders left out); an *item* is a product (``item="product_id"``)
or a product category (``item="category"``). Every (basket, item) pair counts once, however many
lines or units it has; returns are not netted (a returned item was still chosen). With N baskets:

- support(A → B) = baskets holding A and B / N;
- confidence(A → B) = baskets holding A and B / baskets holding A;
- lift(A → B) = confidence / (baskets holding B / N) — above 1 when B is more likely with A than overall.

Pair counts are an Ibis self-join of the distinct (basket, item) pairs on the basket (items ordered
A < B, then mirrored), filtered to ``min_pair_baskets`` and the support threshold in the engine,
so only frequent pairs reach pandas.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import SalesLabError
from ..performance.kpis import as_date

ITEMS = ("product_id", "category")
BASKETS = ("order", "customer")


def _check(item: str, basket: str) -> None:
    if item not in ITEMS:
        raise SalesLabError(f"cross-sell item must be one of {', '.join(ITEMS)} (got {item!r})")
    if basket not in BASKETS:
        raise SalesLabError(f"cross-sell basket must be one of {', '.join(BASKETS)} (got {basket!r})")


def basket_items(eng: Engine, start, end, item: str = "product_id", basket: str = "order") -> ibis.Table:
    """Distinct (basket_id, item) pairs of the order lines dated in [start, end] (Ibis).

    Input: orders(order_id, order_date, customer_id), order_lines(order_id, product_id),
    products(product_id, category) when ``item="category"`` (products missing from the master:
    category ``unknown``). Returns columns basket_id, item (strings).
    """
    _check(item, basket)
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    o = o.filter(o.order_date.between(start, end))
    if basket == "customer":
        o = o.filter(o.customer_id.notnull())
    o = o.select("order_id", basket_id=o.customer_id if basket == "customer" else o.order_id)
    j, it = _lines_with_item(eng, o, item)
    return j.select(basket_id=j.basket_id.cast("string"), item=it.cast("string")).distinct()


def _lines_with_item(eng: Engine, orders: ibis.Table, item: str):
    """Order lines of ``orders`` (joined on order_id) and the item expression: the product id, or
    its category (``unknown`` when the product is not in the master)."""
    ln = eng.table("order_lines").select("order_id", "product_id")
    j = ln.join(orders, "order_id")
    if item == "category":
        p = eng.table("products").select("product_id", "category")
        j = j.left_join(p, j.product_id == p.product_id)
        return j, j.category.fill_null("unknown")
    return j, j.product_id


def pair_counts_expr(eng: Engine, start, end, item: str = "product_id", basket: str = "order",
                     min_pair_baskets: int = 1) -> ibis.Table:
    """Baskets holding each pair of items (Ibis): item_a, item_b (item_a < item_b), pair_baskets,
    only pairs in at least ``min_pair_baskets`` baskets."""
    bi = basket_items(eng, start, end, item, basket)
    a = bi.select(basket_a=bi.basket_id, item_a=bi.item)
    b = bi.select(basket_b=bi.basket_id, item_b=bi.item)
    j = a.join(b, (a.basket_a == b.basket_b) & (a.item_a < b.item_b))
    g = j.group_by(["item_a", "item_b"]).aggregate(pair_baskets=j.basket_a.count())
    return g.filter(g.pair_baskets >= max(1, int(min_pair_baskets)))


def association_rules(eng: Engine, start, end, item: str = "product_id", basket: str = "order",
                      min_support: float = 0.001, min_confidence: float = 0.05, min_lift: float = 1.0,
                      min_pair_baskets: int = 5) -> pd.DataFrame:
    """Rules A → B between items bought in the same basket, with support, confidence and lift.

    Parameters
    ----------
    item : ``product_id`` or ``category``; basket : ``order`` or ``customer`` (see module doc).
    min_support, min_confidence, min_lift, min_pair_baskets : a rule is kept when it reaches all four.

    Returns
    -------
    antecedent, consequent, pair_baskets, antecedent_baskets, consequent_baskets, baskets (N),
    support, confidence, lift — sorted by lift, confidence, pair_baskets (descending), then
    antecedent and consequent; ratios rounded to 6 decimals before sorting so every engine gives
    the same order.
    """
    _check(item, basket)
    bi = basket_items(eng, start, end, item, basket)
    n = int(eng.execute(bi.basket_id.nunique()))
    cols = ["antecedent", "consequent", "pair_baskets", "antecedent_baskets", "consequent_baskets", "baskets",
            "support", "confidence", "lift"]
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype="object" if c in cols[:2] else "float64") for c in cols})
    need = max(int(min_pair_baskets), int(np.ceil(min_support * n - 1e-9)))
    pairs = eng.execute(pair_counts_expr(eng, start, end, item, basket, need))
    counts = eng.execute(bi.group_by("item").aggregate(baskets=bi.basket_id.count()))
    counts = counts.set_index("item")["baskets"]
    both = pd.concat([
        pairs.rename(columns={"item_a": "antecedent", "item_b": "consequent"}),
        pairs.rename(columns={"item_b": "antecedent", "item_a": "consequent"}),
    ], ignore_index=True)
    both["pair_baskets"] = both["pair_baskets"].astype("int64")
    both["antecedent_baskets"] = both["antecedent"].map(counts).astype("int64")
    both["consequent_baskets"] = both["consequent"].map(counts).astype("int64")
    both["baskets"] = n
    both["support"] = (both["pair_baskets"] / n).round(6)
    both["confidence"] = (both["pair_baskets"] / both["antecedent_baskets"]).round(6)
    both["lift"] = (both["pair_baskets"] * n / (both["antecedent_baskets"] * both["consequent_baskets"])).round(6)
    keep = (both["support"] >= round(min_support, 6)) & (both["confidence"] >= min_confidence) & (both["lift"] >= min_lift)
    out = both[keep].sort_values(["lift", "confidence", "pair_baskets", "antecedent", "consequent"],
                                 ascending=[False, False, False, True, True], kind="mergesort")
    return out[cols].reset_index(drop=True)


def customer_items_expr(eng: Engine, end, item: str = "product_id", customers=None) -> ibis.Table:
    """Distinct (customer_id, item) a known customer bought up to ``end`` (Ibis); only ``customers``
    (a list of ids) when given."""
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.order_date <= as_date(end)))
    if customers is not None:
        o = o.filter(o.customer_id.isin(list(customers)))
    j, it = _lines_with_item(eng, o.select("order_id", "customer_id"), item)
    return j.select(customer_id=j.customer_id, item=it.cast("string")).distinct()


def recommendations(eng: Engine, rules: pd.DataFrame, end, item: str = "product_id", top_n: int = 3,
                    score: str = "confidence", customers=None) -> pd.DataFrame:
    """Per customer, the ``top_n`` items they have not bought (up to ``end``) that the rules point to.

    Input: :func:`association_rules`'s table (same ``item``), order history up to ``end``.
    A candidate item B of customer c scores max over the rules A → B with A bought by c of the
    rule's ``score`` (``confidence`` or ``lift``); ties broken by the other measure, then by the
    item id (deterministic). ``customers``: restrict to these ids (e.g. one customer's page).
    Returns customer_id, rank (1..top_n), item, score, lift, confidence, because (the antecedent
    of the best rule) — sorted by customer_id and rank.
    """
    if score not in ("confidence", "lift"):
        raise SalesLabError(f"recommendation score must be confidence or lift (got {score!r})")
    cols = ["customer_id", "rank", "item", "score", "lift", "confidence", "because"]
    if rules.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    other = "lift" if score == "confidence" else "confidence"
    r = rules[["antecedent", "consequent", "confidence", "lift"]].copy()
    r["score"] = r[score].round(6)
    r["tie"] = r[other].round(6)
    rt = ibis.memtable(r[["antecedent", "consequent", "score", "tie"]])
    ci = customer_items_expr(eng, end, item, customers)
    cand = ci.join(rt, ci.item == rt.antecedent).select(
        customer_id=ci.customer_id, item=rt.consequent, because=rt.antecedent, score=rt.score, tie=rt.tie)
    owned = ci.select(o_customer_id=ci.customer_id, o_item=ci.item)
    cand = cand.anti_join(owned, (cand.customer_id == owned.o_customer_id) & (cand.item == owned.o_item))
    # best rule per (customer, item): highest score, then tie measure, then antecedent id
    w1 = ibis.window(group_by=[cand.customer_id, cand.item],
                     order_by=[ibis.desc(cand.score), ibis.desc(cand.tie), cand.because])
    best = cand.mutate(_r=ibis.row_number().over(w1))
    best = best.filter(best._r == 0).drop("_r")
    w2 = ibis.window(group_by=best.customer_id, order_by=[ibis.desc(best.score), ibis.desc(best.tie), best.item])
    top = best.mutate(rank=ibis.row_number().over(w2) + 1)
    top = top.filter(top["rank"] <= int(top_n))
    df = eng.execute(top)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    df[other] = df["tie"]
    df[score] = df["score"]
    df["rank"] = df["rank"].astype("int64")
    return df[cols].sort_values(["customer_id", "rank"]).reset_index(drop=True)


def rule_summary(rules: pd.DataFrame) -> dict:
    """Headline figures of :func:`association_rules`: rules, best lift, the best rule's items."""
    if rules.empty:
        return {"rules": 0, "best_lift": None, "best_rule": None}
    top = rules.iloc[0]
    return {"rules": int(len(rules)), "best_lift": float(top["lift"]),
            "best_rule": (str(top["antecedent"]), str(top["consequent"]))}
