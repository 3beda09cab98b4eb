"""Cross-sell (交叉销售, domain.md §6): association rules "who bought A also buys B" and, per
customer, the next items they have not bought yet.

A *basket* is an order (``crosssell_basket="order"``) or everything a customer bought in the
period (``"customer"``, anonymous orders left out); an *item* is a product
(``crosssell_item="product_id"``) or a product category (``"category"``). Baskets are made of the
facts layer's sales lines (:func:`saleslab.facts.sales_lines`: order lines of the orders dated in
the period); categories and product names come from :func:`saleslab.facts.products` (a product
missing from the master: category ``unknown``, no name). Every (basket, item) pair counts once,
however many lines or units it has; returns are not netted (a returned item was still chosen).
With N baskets:

- support(A → B) = baskets holding A and B / N;
- confidence(A → B) = baskets holding A and B / baskets holding A;
- lift(A → B) = confidence / (baskets holding B / N) — above 1 when B is more likely with A than overall.

A rule is kept when it reaches ``crosssell_min_support``, ``crosssell_min_confidence``,
``crosssell_min_lift`` and ``crosssell_min_pair_baskets`` (:class:`saleslab.crosssell.params.Params`;
the rules table records them). Pair counts are an Ibis self-join of the distinct (basket, item)
pairs on the basket (items ordered A < B, then mirrored), filtered to the pair-basket and support
thresholds in the engine, so only frequent pairs reach pandas.

Rules need baskets holding at least two different items (:class:`~saleslab.errors.InsufficientData`
otherwise); rules on categories need the product master (:class:`~saleslab.errors.MissingSource`);
without it product rules carry no names.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, SalesLabError
from ..params import attach
from ..periods import as_date
from .params import Params

ITEMS = ("product_id", "category")
BASKETS = ("order", "customer")
SCORES = ("confidence", "lift")
#: Names first, the id in the column after it (a person reads names; the id is for looking up).
RULE_COLUMNS = ["antecedent_name", "antecedent", "consequent_name", "consequent", "pair_baskets",
                "antecedent_baskets", "consequent_baskets", "baskets", "support", "confidence", "lift"]
RECOMMENDATION_COLUMNS = ["customer_id", "rank", "item_name", "item", "score", "lift", "confidence", "because_name",
                          "because"]
_EARLIEST = dt.date(1900, 1, 1)


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _lines_with_item(eng: Engine, lines: ibis.Table, item: str):
    """``lines`` (with product_id) and the item expression: the product id, or its category
    (``unknown`` when the product is not in the master)."""
    if item == "category":
        p = facts.products(eng).select(p_product_id="product_id", category="category")
        j = lines.left_join(p, lines.product_id == p.p_product_id)
        return j, j.category.fill_null(facts.UNKNOWN)
    return lines, lines.product_id


def basket_items(eng: Engine, start, end, params: Params | None = None) -> ibis.Table:
    """Distinct (basket_id, item) pairs of the sales lines dated in [start, end] (Ibis).

    Input: :func:`saleslab.facts.sales_lines` (order_id, customer_id, product_id),
    :func:`saleslab.facts.products` (category) when ``crosssell_item="category"``.
    Returns columns basket_id (order_id, or customer_id for ``crosssell_basket="customer"``), item (strings).
    """
    params = params or Params()
    s = facts.sales_lines(eng, start, end)
    if params.crosssell_basket == "customer":
        s = s.filter(s.customer_id.notnull())
    s = s.select("product_id", basket_id=s.customer_id if params.crosssell_basket == "customer" else s.order_id)
    j, it = _lines_with_item(eng, s, params.crosssell_item)
    return j.select(basket_id=j.basket_id.cast("string"), item=it.cast("string")).distinct()


def pair_counts_expr(eng: Engine, start, end, params: Params | None = None,
                     min_pair_baskets: int | None = None) -> ibis.Table:
    """Baskets holding each pair of items (Ibis): item_a, item_b (item_a < item_b), pair_baskets,
    only pairs in at least ``min_pair_baskets`` baskets (default ``crosssell_min_pair_baskets``)."""
    params = params or Params()
    need = params.crosssell_min_pair_baskets if min_pair_baskets is None else min_pair_baskets
    bi = basket_items(eng, start, end, params)
    a = bi.select(basket_a=bi.basket_id, item_a=bi.item)
    b = bi.select(basket_b=bi.basket_id, item_b=bi.item)
    j = a.join(b, (a.basket_a == b.basket_b) & (a.item_a < b.item_b))
    g = j.group_by(["item_a", "item_b"]).aggregate(pair_baskets=j.basket_a.count())
    return g.filter(g.pair_baskets >= max(1, int(need)))


def item_names(eng: Engine, items, item: str = "product_id") -> dict:
    """``{item: name}`` for display: the product name of each product id
    (:func:`saleslab.facts.products`; None for a product not in the master), a category is its own name."""
    items = sorted({str(i) for i in items if isinstance(i, str)})
    if item == "category":
        return {i: i for i in items}
    if not items:
        return {}
    p = facts.products(eng)
    names = eng.execute(p.filter(p.product_id.isin(items)).select("product_id", "product_name"))
    found = dict(zip(names["product_id"].astype(str), names["product_name"]))
    return {i: found.get(i) for i in items}


def association_rules(eng: Engine, start, end, params: Params | None = None) -> pd.DataFrame:
    """Rules A → B between items bought in the same basket, with support, confidence and lift.

    Input: :func:`basket_items` over [start, end] (sales lines of the facts layer).
    Returns: antecedent_name, antecedent, consequent_name, consequent (product names, or the
    category), pair_baskets, antecedent_baskets, consequent_baskets, baskets (N), support,
    confidence, lift — the rules reaching every threshold of ``params``, sorted by lift,
    confidence, pair_baskets (descending), then antecedent and consequent; ratios rounded to 6
    decimals before sorting so every engine gives the same order. The result records ``params``.
    Formula: support = pair_baskets / N; confidence = pair_baskets / antecedent_baskets;
    lift = pair_baskets × N / (antecedent_baskets × consequent_baskets).
    Raises :class:`~saleslab.errors.MissingSource` for category rules without a product master,
    :class:`~saleslab.errors.InsufficientData` when no basket of the period holds two different
    items (nothing to associate). No rule reaching the thresholds is an empty table.
    """
    params = params or Params()
    eng.require("orders", "order_lines", needed_for="cross-sell baskets")
    if params.crosssell_item == "category":
        eng.require("products", needed_for="cross-sell by category")
    bi = basket_items(eng, start, end, params)
    sizes = bi.group_by("basket_id").aggregate(items=bi.item.count())
    counts = eng.execute(sizes.aggregate(baskets=sizes.basket_id.count(),
                                         multi=(sizes["items"] >= 2).cast("int64").sum())).iloc[0]
    n, multi = (0 if pd.isna(counts[k]) else int(counts[k]) for k in ("baskets", "multi"))
    if multi == 0:
        raise InsufficientData(f"{n:,} basket(s) between {as_date(start)} and {as_date(end)}, none with two different "
                               f"items: cross-sell rules need baskets with at least two", needed_for="cross-sell")
    need = max(params.crosssell_min_pair_baskets, int(np.ceil(params.crosssell_min_support * n - 1e-9)))
    pairs = eng.execute(pair_counts_expr(eng, start, end, params, need))
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
    keep = ((both["support"] >= round(params.crosssell_min_support, 6))
            & (both["confidence"] >= params.crosssell_min_confidence) & (both["lift"] >= params.crosssell_min_lift))
    out = both[keep].sort_values(["lift", "confidence", "pair_baskets", "antecedent", "consequent"],
                                 ascending=[False, False, False, True, True], kind="mergesort")
    names = item_names(eng, pd.concat([out["antecedent"], out["consequent"]]), params.crosssell_item)
    out = out.assign(antecedent_name=out["antecedent"].map(names), consequent_name=out["consequent"].map(names))
    return attach(out[RULE_COLUMNS].reset_index(drop=True), params)


def customer_items_expr(eng: Engine, end, params: Params | None = None, customers=None) -> ibis.Table:
    """Distinct (customer_id, item) a known customer bought up to ``end`` (Ibis, sales lines of the
    facts layer); only ``customers`` (a list of ids) when given."""
    params = params or Params()
    s = facts.sales_lines(eng, _EARLIEST, end)
    s = s.filter(s.customer_id.notnull())
    if customers is not None:
        s = s.filter(s.customer_id.isin(list(customers)))
    j, it = _lines_with_item(eng, s.select("customer_id", "product_id"), params.crosssell_item)
    return j.select(customer_id=j.customer_id, item=it.cast("string")).distinct()


def _params_of(rules: pd.DataFrame) -> Params:
    recorded = rules.attrs.get("params", {})
    return Params(**{k: v for k, v in recorded.items() if k in Params.model_fields})


def recommendations(eng: Engine, rules: pd.DataFrame, end, params: Params | None = None, score: str = "confidence",
                    customers=None) -> pd.DataFrame:
    """Per customer, the ``crosssell_top_n`` items they have not bought (up to ``end``) that the rules point to.

    Input: :func:`association_rules`'s table (its recorded ``crosssell_item`` is the item used), the
    customers' sales lines up to ``end``; ``params`` None: the parameters the rules record.
    A candidate item B of customer c scores max over the rules A → B with A bought by c of the
    rule's ``score`` (``confidence`` or ``lift``); ties broken by the other measure, then by the
    item id (deterministic). ``customers``: restrict to these ids (e.g. one customer's page).
    Returns customer_id, rank (1..top_n), item_name, item, score, lift, confidence, because_name,
    because (the antecedent of the best rule) — sorted by customer_id and rank; records ``params``.
    """
    if score not in SCORES:
        raise SalesLabError(f"recommendation score must be confidence or lift (got {score!r})")
    recorded = _params_of(rules)
    params = params or recorded
    if "crosssell_item" in rules.attrs.get("params", {}) and params.crosssell_item != recorded.crosssell_item:
        raise SalesLabError(f"the rules were mined on crosssell_item={recorded.crosssell_item!r}, the "
                            f"recommendations asked for {params.crosssell_item!r}: use the same item")
    if rules.empty:
        return attach(_empty(RECOMMENDATION_COLUMNS), params)
    other = "lift" if score == "confidence" else "confidence"
    r = rules[["antecedent", "consequent", "confidence", "lift"]].copy()
    r["score"] = r[score].round(6)
    r["tie"] = r[other].round(6)
    rt = ibis.memtable(r[["antecedent", "consequent", "score", "tie"]])
    ci = customer_items_expr(eng, end, params, customers)
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
    top = top.filter(top["rank"] <= int(params.crosssell_top_n))
    df = eng.execute(top)
    if df.empty:
        return attach(_empty(RECOMMENDATION_COLUMNS), params)
    df[other] = df["tie"]
    df[score] = df["score"]
    df["rank"] = df["rank"].astype("int64")
    names = dict(zip(rules["antecedent"], rules["antecedent_name"])) | dict(zip(rules["consequent"],
                                                                                rules["consequent_name"]))
    df["item_name"] = df["item"].map(names)
    df["because_name"] = df["because"].map(names)
    out = df[RECOMMENDATION_COLUMNS].sort_values(["customer_id", "rank"]).reset_index(drop=True)
    return attach(out, params)


def rule_summary(rules: pd.DataFrame) -> dict:
    """Headline figures of :func:`association_rules`: rules, best lift, the best rule's items and names."""
    if rules.empty:
        return {"rules": 0, "best_lift": None, "best_rule": None, "best_rule_names": None}
    top = rules.iloc[0]
    return {"rules": int(len(rules)), "best_lift": float(top["lift"]),
            "best_rule": (str(top["antecedent"]), str(top["consequent"])),
            "best_rule_names": (top["antecedent_name"], top["consequent_name"])}
