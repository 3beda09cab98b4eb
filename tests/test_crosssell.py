"""Cross-sell rules and recommendations (domain.md §6) on a hand-made basket set, checked against
brute-force counts (itertools) on DuckDB and PySpark.

Orders in 2024 (O10 is before the period; O5 has P2 on two lines; O7 is anonymous):
  O1 C1 P1 P2 P3 | O2 C1 P1 P2 | O3 C2 P1 P3 | O4 C2 P2 P4 | O5 C3 P1 P2 P2 | O6 C3 P5
  O7 -- P1 P4    | O8 C4 P3 P4 | O9 C5 P2    | O10 C1 P4 P5 (2023-12-01)
Categories: P1, P2 -> x; P3 -> y; P4, P5 -> z. Product names: "Item P1" ... "Item P5".
"""

import itertools
import re

import pandas as pd
import pytest
from pydantic import ValidationError

import handmade
from saleslab import crosssell as cs
from saleslab.crosssell import story as cs_story
from saleslab.crosssell.params import Params
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
             "products.csv": "sku,name,cat,price,cost\n" + "".join(f"{p},Item {p},{c},10,6\n" for p, c in CATEGORY.items())}
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


NO_LIMITS = {"crosssell_min_support": 0.0, "crosssell_min_confidence": 0.0, "crosssell_min_lift": 0.0,
             "crosssell_min_pair_baskets": 1}
OPEN = Params(**NO_LIMITS)


@pytest.mark.parametrize("item", cs.ITEMS)
@pytest.mark.parametrize("basket", cs.BASKETS)
def test_rules_equal_brute_force_counts(eng, item, basket):
    got = cs.association_rules(eng, S, E, Params(crosssell_item=item, crosssell_basket=basket, **NO_LIMITS))
    _same(got, brute_force(item, basket))
    assert got.attrs["params"]["crosssell_item"] == item and got.attrs["params"]["crosssell_basket"] == basket


def test_thresholds_filter_like_brute_force(eng):
    got = cs.association_rules(eng, S, E, Params(crosssell_min_support=0.2, crosssell_min_confidence=0.5,
                                                 crosssell_min_lift=1.0, crosssell_min_pair_baskets=2))
    assert got.attrs["params"]["crosssell_min_support"] == 0.2
    bf = brute_force("product_id", "order")
    want = bf[(bf["support"] >= 0.2) & (bf["confidence"] >= 0.5) & (bf["lift"] >= 1.0) & (bf["pair_baskets"] >= 2)]
    _same(got, want)
    assert len(got) >= 2  # P1 <-> P2 (3 of 9 orders) is in


def test_rules_show_product_names_next_to_the_ids(eng):
    r = cs.association_rules(eng, S, E, OPEN)
    assert (r["antecedent_name"] == "Item " + r["antecedent"]).all()
    assert (r["consequent_name"] == "Item " + r["consequent"]).all()
    assert r.columns.tolist() == cs.RULE_COLUMNS
    # names first, each id in the column after its name
    assert r.columns[:4].tolist() == ["antecedent_name", "antecedent", "consequent_name", "consequent"]
    rec = cs.recommendations(eng, r, E, Params(**NO_LIMITS))
    assert rec.columns.tolist()[2:4] == ["item_name", "item"] and rec.columns.tolist()[-2:] == ["because_name", "because"]
    from saleslab.crosssell.story import crosssell_narrative, item_label

    assert item_label("P1", "Item P1", "zh-CN") == "Item P1（P1）" and item_label("P1", "Item P1", "en") == "Item P1 (P1)"
    assert item_label("x", "x", "en") == "x"  # a category is its own name: once
    top = r.iloc[0]
    for lang in ("zh-CN", "en"):
        text = crosssell_narrative(r, lang)
        assert item_label(top["antecedent"], top["antecedent_name"], lang) in text
    cat = cs.association_rules(eng, S, E, Params(crosssell_item="category", **NO_LIMITS))
    assert (cat["antecedent_name"] == cat["antecedent"]).all()  # a category is its own name


def test_one_rule_by_hand(eng):
    r = cs.association_rules(eng, S, E, OPEN).set_index(["antecedent", "consequent"])
    # 9 orders in 2024; P1 in 5, P2 in 5 (O5's two P2 lines count once), both in O1, O2, O5
    row = r.loc[("P1", "P2")]
    assert (row["pair_baskets"], row["antecedent_baskets"], row["baskets"]) == (3, 5, 9)
    assert row["support"] == pytest.approx(3 / 9, abs=1e-6) and row["confidence"] == 0.6
    assert row["lift"] == pytest.approx(1.08, abs=1e-6)


def test_rules_are_sorted_deterministically(eng):
    r = cs.association_rules(eng, S, E, OPEN)
    keys = list(zip(-r["lift"], -r["confidence"], -r["pair_baskets"], r["antecedent"], r["consequent"]))
    assert keys == sorted(keys)


def test_recommendations_skip_bought_items_and_break_ties(eng):
    rules = cs.association_rules(eng, S, E, OPEN)
    rec = cs.recommendations(eng, rules, E, Params(**NO_LIMITS, crosssell_top_n=3))
    assert rec.attrs["params"]["crosssell_top_n"] == 3
    by = {c: g for c, g in rec.groupby("customer_id")}
    # C4 owns P3, P4: P1 via P3 (2/3) beats P1 via P4 (1/3); P2 ties at 1/3 and lift 0.6 -> antecedent P3
    c4 = by["C4"]
    assert c4["item"].tolist() == ["P1", "P2"] and c4["because"].tolist() == ["P3", "P3"]
    assert c4["item_name"].tolist() == ["Item P1", "Item P2"] and c4["because_name"].tolist() == ["Item P3"] * 2
    assert c4["score"].tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-6) and c4["rank"].tolist() == [1, 2]
    # C5 owns P2: P1 (0.6), then P3 and P4 tie on confidence 0.2 and lift 0.6 -> by item id
    assert by["C5"]["item"].tolist() == ["P1", "P3", "P4"]
    # C1 bought everything (P4, P5 before the period still count as bought)
    assert "C1" not in by
    two = Params(**NO_LIMITS, crosssell_top_n=2)
    assert cs.recommendations(eng, rules, E, two, customers=["C5"])["item"].tolist() == ["P1", "P3"]
    # without params: those the rules record (top 5; C5 has three candidates)
    assert len(cs.recommendations(eng, rules, E, customers=["C5"])) == 3
    lift = cs.recommendations(eng, rules, E, score="lift", customers=["C4"])
    assert lift["item"].tolist() == ["P1", "P2"] and lift["score"].tolist() == pytest.approx([1.2, 0.6], abs=1e-6)


def test_bad_parameters_raise(eng):
    with pytest.raises(ValidationError, match="crosssell_item"):
        Params(crosssell_item="brand")
    with pytest.raises(ValidationError, match="crosssell_basket"):
        Params(crosssell_basket="week")
    with pytest.raises(SalesLabError, match="score"):
        cs.recommendations(eng, brute_force("product_id", "order"), E, score="support")
    rules = cs.association_rules(eng, S, E, OPEN)
    with pytest.raises(SalesLabError, match="same item"):
        cs.recommendations(eng, rules, E, Params(crosssell_item="category"))


CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


def test_story_shows_the_thresholds_the_rules_were_mined_with(eng):
    rules = cs.association_rules(eng, S, E, Params(crosssell_min_support=0.2, crosssell_min_confidence=0.5,
                                                   crosssell_min_pair_baskets=2))
    top = rules.iloc[0]
    zh, en = cs_story.crosssell_narrative(rules, "zh-CN"), cs_story.crosssell_narrative(rules, "en")
    assert "支持度不低于 0.2、置信度不低于 0.5" in zh and "support of 0.2 and a confidence of 0.5" in en
    assert f"**Item {top['antecedent']} ({top['antecedent']})**" in en and f"**{len(rules)}** rules" in en
    assert f"**Item {top['antecedent']}（{top['antecedent']}）**" in zh  # the name first, its id after it
    assert not CHINESE.search(en) and not ENGLISH_SENTENCE.search(zh)
    none = cs.association_rules(eng, S, E, Params(crosssell_min_support=0.9))
    assert none.empty and "minimum support 0.9" in cs_story.crosssell_narrative(none, "en")
    assert "最小支持度 0.9" in cs_story.crosssell_narrative(none, "zh-CN")


# --- partial data ------------------------------------------------------------------------------

def test_rules_need_baskets_with_two_items_and_categories_need_the_product_master(tmp_path):
    from saleslab.engine import connect
    from saleslab.errors import InsufficientData, MissingSource

    rows = "order,date,cust,channel,region,sku,qty,price\nO1,2024-01-10,C1,online,east,P1,1,10\n" \
           "O2,2024-02-10,C1,online,east,P2,1,10\nO3,2024-03-10,C2,online,east,P1,1,10\n" \
           "O4,2024-03-11,C2,online,east,P1,2,10\n"
    wh = handmade.build_warehouse(tmp_path, {"orders.csv": rows}, {"orders.yaml": handmade.ORDERS})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e:
        with pytest.raises(InsufficientData, match="4 basket.s. between 2024-01-01 and 2024-12-31, none with two "
                                                   "different items: cross-sell rules need baskets with at least two"):
            cs.association_rules(e, S, E, OPEN)
        with pytest.raises(MissingSource) as err:
            cs.association_rules(e, S, E, Params(crosssell_item="category"))
        assert err.value.tables == ("products",)
        # a customer's purchases are one basket: C1 bought P1 and P2; no product master, so no names
        rules = cs.association_rules(e, S, E, Params(crosssell_basket="customer", **NO_LIMITS))
        assert sorted(zip(rules["antecedent"], rules["consequent"])) == [("P1", "P2"), ("P2", "P1")]
        assert rules["antecedent_name"].isna().all()
        with pytest.raises(InsufficientData, match="0 basket.s. between 2030-01-01 and 2030-12-31"):
            cs.association_rules(e, "2030-01-01", "2030-12-31", OPEN)
