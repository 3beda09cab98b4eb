"""Cross-sell rules and recommendations (domain.md §6) on a hand-made basket set, checked against
brute-force counts (itertools) on DuckDB and PySpark.

Orders in 2024 (O10 is before the period; O5 has P2 on two lines; O7 is anonymous):
  O1 C1 P1 P2 P3 | O2 C1 P1 P2 | O3 C2 P1 P3 | O4 C2 P2 P4 | O5 C3 P1 P2 P2 | O6 C3 P5
  O7 -- P1 P4    | O8 C4 P3 P4 | O9 C5 P2    | O10 C1 P4 P5 (2023-12-01)
Categories: P1, P2 -> x; P3 -> y; P4, P5 -> z.
"""

import itertools

import pandas as pd
import pytest

import handmade
from saleslab.crosssell import rules as cs
from saleslab.errors import SalesLabError

S, E = "2024-01-01", "2024-12-31"
ORDERS = [("O1", "2024-01-10", "C1", ["P1", "P2", "P3"]), ("O2", "2024-02-10", "C1", ["P1", "P2"]),
          ("O3", "2024-03-10", "C2", ["P1", "P3"]), ("O4", "2024-04-10", "C2", ["P2", "P4"]),
          ("O5", "2024-05-10", "C3", ["P1", "P2", "P2"]), ("O6", "2024-06-10", "C3", ["P5"]),
          ("O7", "2024-07-10", "", ["P1", "P4"]), ("O8", "2024-08-10", "C4", ["P3", "P4"]),
          ("O9", "2024-09-10", "C5", ["P2"]), ("O10", "2023-12-01", "C1", ["P4", "P5"])]
CATEGORY = {"P1": "x", "P2": "x", "P3": "y", "P4": "z", "P5": "z"}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    rows = ["order,date,cust,channel,region,sku,qty,price"]
    rows += [f"{o},{d},{c},online,east,{p},{i + 1},10" for o, d, c, ps in ORDERS for i, p in enumerate(ps)]
    files = {"orders.csv": "\n".join(rows) + "\n",
             "products.csv": "sku,name,cat,price,cost\n" + "".join(f"{p},n,{c},10,6\n" for p, c in CATEGORY.items())}
    maps = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS}
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_crosssell"), files, maps)


def brute_force(item: str, basket: str) -> pd.DataFrame:
    """Every rule A -> B from the raw order list, by counting baskets with itertools."""
    baskets: dict[str, set] = {}
    for o, d, c, ps in ORDERS:
        if not (S <= d <= E) or (basket == "customer" and not c):
            continue
        key = c if basket == "customer" else o
        baskets.setdefault(key, set()).update(CATEGORY[p] if item == "category" else p for p in ps)
    n = len(baskets)
    items = sorted(set().union(*baskets.values()))
    count = {i: sum(i in b for b in baskets.values()) for i in items}
    rows = []
    for a, b in itertools.permutations(items, 2):
        both = sum(a in s and b in s for s in baskets.values())
        if both:
            rows.append({"antecedent": a, "consequent": b, "pair_baskets": both, "antecedent_baskets": count[a],
                         "consequent_baskets": count[b], "baskets": n, "support": both / n,
                         "confidence": both / count[a], "lift": both / count[a] / (count[b] / n)})
    return pd.DataFrame(rows)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    key = ["antecedent", "consequent"]
    g = got.sort_values(key).reset_index(drop=True)
    w = want.sort_values(key).reset_index(drop=True)
    assert g[key].values.tolist() == w[key].values.tolist()
    for c in ("pair_baskets", "antecedent_baskets", "consequent_baskets", "baskets"):
        assert g[c].tolist() == w[c].tolist(), c
    for c in ("support", "confidence", "lift"):
        assert g[c].tolist() == pytest.approx(w[c].tolist(), abs=1e-6), c


NO_LIMITS = {"min_support": 0.0, "min_confidence": 0.0, "min_lift": 0.0, "min_pair_baskets": 1}


@pytest.mark.parametrize("item", cs.ITEMS)
@pytest.mark.parametrize("basket", cs.BASKETS)
def test_rules_equal_brute_force_counts(eng, item, basket):
    _same(cs.association_rules(eng, S, E, item, basket, **NO_LIMITS), brute_force(item, basket))


def test_thresholds_filter_like_brute_force(eng):
    got = cs.association_rules(eng, S, E, "product_id", "order", min_support=0.2, min_confidence=0.5, min_lift=1.0,
                               min_pair_baskets=2)
    bf = brute_force("product_id", "order")
    want = bf[(bf["support"] >= 0.2) & (bf["confidence"] >= 0.5) & (bf["lift"] >= 1.0) & (bf["pair_baskets"] >= 2)]
    _same(got, want)
    assert len(got) >= 2  # P1 <-> P2 (3 of 9 orders) is in


def test_one_rule_by_hand(eng):
    r = cs.association_rules(eng, S, E, **NO_LIMITS).set_index(["antecedent", "consequent"])
    # 9 orders in 2024; P1 in 5, P2 in 5 (O5's two P2 lines count once), both in O1, O2, O5
    row = r.loc[("P1", "P2")]
    assert (row["pair_baskets"], row["antecedent_baskets"], row["baskets"]) == (3, 5, 9)
    assert row["support"] == pytest.approx(3 / 9, abs=1e-6) and row["confidence"] == 0.6
    assert row["lift"] == pytest.approx(1.08, abs=1e-6)


def test_rules_are_sorted_deterministically(eng):
    r = cs.association_rules(eng, S, E, **NO_LIMITS)
    keys = list(zip(-r["lift"], -r["confidence"], -r["pair_baskets"], r["antecedent"], r["consequent"]))
    assert keys == sorted(keys)


def test_recommendations_skip_bought_items_and_break_ties(eng):
    rules = cs.association_rules(eng, S, E, **NO_LIMITS)
    rec = cs.recommendations(eng, rules, E, top_n=3)
    by = {c: g for c, g in rec.groupby("customer_id")}
    # C4 owns P3, P4: P1 via P3 (2/3) beats P1 via P4 (1/3); P2 ties at 1/3 and lift 0.6 -> antecedent P3
    c4 = by["C4"]
    assert c4["item"].tolist() == ["P1", "P2"] and c4["because"].tolist() == ["P3", "P3"]
    assert c4["score"].tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-6) and c4["rank"].tolist() == [1, 2]
    # C5 owns P2: P1 (0.6), then P3 and P4 tie on confidence 0.2 and lift 0.6 -> by item id
    assert by["C5"]["item"].tolist() == ["P1", "P3", "P4"]
    # C1 bought everything (P4, P5 before the period still count as bought)
    assert "C1" not in by
    assert cs.recommendations(eng, rules, E, top_n=2, customers=["C5"])["item"].tolist() == ["P1", "P3"]
    lift = cs.recommendations(eng, rules, E, score="lift", customers=["C4"])
    assert lift["item"].tolist() == ["P1", "P2"] and lift["score"].tolist() == pytest.approx([1.2, 0.6], abs=1e-6)


def test_bad_parameters_raise(eng):
    with pytest.raises(SalesLabError, match="item"):
        cs.association_rules(eng, S, E, item="brand")
    with pytest.raises(SalesLabError, match="basket"):
        cs.association_rules(eng, S, E, basket="week")
    with pytest.raises(SalesLabError, match="score"):
        cs.recommendations(eng, brute_force("product_id", "order"), E, score="support")
