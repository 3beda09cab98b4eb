"""Customer clusters: recovery of planted clusters, silhouette choice of k, profiles in words."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pydantic import ValidationError

from saleslab.customers import clusters as cl
from saleslab.customers import segments as sg
from saleslab.customers.params import Params
from saleslab.errors import InsufficientData
from saleslab.params import used
from saleslab.report import i18n
from saleslab.customers import story as narrative_customers

# three planted groups: loyal online big spenders, lapsed small retail buyers, new direct buyers
PLANTED = {
    "loyal": dict(recency=10, frequency=20, monetary=50_000, tenure=1500, channel="online", category="厨房电器"),
    "lapsed": dict(recency=300, frequency=1, monetary=300, tenure=900, channel="retail", category="耗材配件"),
    "new": dict(recency=40, frequency=3, monetary=4_000, tenure=60, channel="direct", category="生活电器"),
}
CHANNELS = ("online", "retail", "direct")
CATEGORIES = ("厨房电器", "耗材配件", "生活电器")


def simulate(sizes=(300, 200, 100), seed=1, groups=PLANTED) -> tuple[pd.DataFrame, np.ndarray]:
    """Features of well-separated customer groups (multiplicative noise on R, F, M, tenure)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for g, (name, p) in enumerate(list(groups.items())[:len(sizes)]):
        for _ in range(sizes[g]):
            row = {"recency_days": int(p["recency"] * rng.uniform(0.8, 1.2)),
                   "frequency": max(1, int(round(p["frequency"] * rng.uniform(0.8, 1.2)))),
                   "monetary": round(p["monetary"] * rng.uniform(0.8, 1.2), 2),
                   "tenure_days": int(p["tenure"] * rng.uniform(0.8, 1.2))}
            main = rng.uniform(0.8, 1.0)
            for c in CHANNELS:
                row[f"channel:{c}"] = main if c == p["channel"] else (1 - main) / 2
            for c in CATEGORIES:
                row[f"category:{c}"] = main if c == p["category"] else (1 - main) / 2
            rows.append(row)
            truth.append(g)
    df = pd.DataFrame(rows)
    df.insert(0, "customer_id", [f"C{i:05d}" for i in rng.permutation(len(df))])
    order = np.argsort(df["customer_id"].to_numpy())
    return df.iloc[order].reset_index(drop=True), np.asarray(truth)[order]


def test_recovers_planted_clusters_and_silhouette_picks_their_number():
    feats, truth = simulate()
    res = cl.fit_clusters(feats, Params(cluster_k_min=2, cluster_k_max=6, cluster_seed=0))
    assert res.k == 3
    assert res.scores["k"].tolist() == [2, 3, 4, 5, 6]
    assert res.scores.set_index("k")["silhouette"].idxmax() == 3
    assert adjusted_rand_score(truth, res.labels["cluster"]) == pytest.approx(1.0)
    assert res.silhouette > 0.6


def test_silhouette_picks_two_and_four_when_planted():
    four = dict(PLANTED, big=dict(recency=150, frequency=8, monetary=400_000, tenure=3000, channel="online",
                                  category="耗材配件"))
    for sizes in ((250, 150), (150, 150, 100, 100)):
        feats, truth = simulate(sizes, seed=2, groups=four)
        res = cl.fit_clusters(feats, Params(cluster_k_min=2, cluster_k_max=6, cluster_seed=0))
        assert res.k == len(sizes)
        assert adjusted_rand_score(truth, res.labels["cluster"]) == pytest.approx(1.0)


def test_structureless_data_separates_worse_than_planted_groups():
    feats, _ = simulate()
    rng = np.random.default_rng(5)
    noise = feats.copy()
    for c in noise.columns[1:]:
        noise[c] = rng.permutation(noise[c].to_numpy())  # destroys the joint structure
    p = Params(cluster_k_max=6)
    assert cl.fit_clusters(noise, p).silhouette < cl.fit_clusters(feats, p).silhouette - 0.3


def test_clusters_are_numbered_by_size_and_fit_is_deterministic():
    feats, _ = simulate()
    a = cl.fit_clusters(feats, Params(cluster_seed=4), k=3)
    b = cl.fit_clusters(feats.sample(frac=1, random_state=3), Params(cluster_seed=4), k=3)
    assert a.labels.equals(b.labels)  # input order does not matter
    assert a.profiles["customers"].tolist() == [300, 200, 100]
    assert a.scores is None


def test_profiles_describe_each_cluster_against_the_average():
    feats, _ = simulate()
    p = cl.fit_clusters(feats, k=3).profiles.set_index("cluster")
    loyal, lapsed, new = p.loc[1], p.loc[2], p.loc[3]
    assert set(loyal["traits"].split(",")) >= {"trait_recent", "trait_frequent", "trait_high_spend",
                                               "trait_long_standing", "channel:online", "category:厨房电器"}
    assert set(lapsed["traits"].split(",")) >= {"trait_lapsed", "trait_infrequent", "trait_low_spend",
                                                "channel:retail"}
    assert "trait_new" in new["traits"].split(",") and "channel:direct" in new["traits"]
    assert lapsed["main_channel"] == "retail" and lapsed["main_category"] == "耗材配件"
    assert loyal["recency_days"] == pytest.approx(10, rel=0.15) and lapsed["recency_days"] == pytest.approx(300, rel=0.1)
    assert new["monetary"] == pytest.approx(4000, rel=0.1)
    zh = narrative_customers.cluster_description(loyal["traits"], "zh-CN")
    en = narrative_customers.cluster_description(loyal["traits"], "en")
    assert "近期购买" in zh and "线上电商" in zh and "厨房电器" in zh
    assert "recent" in en and "Online" in en
    assert narrative_customers.cluster_description("", "en") == i18n.t("trait_average", "en")


def test_feature_matrix_scales_rfm_and_keeps_mix_shares():
    feats, _ = simulate((30, 20))
    X, cols = cl.feature_matrix(feats, mix_weight=2.0)
    assert cols[:4] == list(cl.NUMERIC) and X.shape == (50, len(feats.columns) - 1)
    assert np.allclose(X[:, :4].mean(axis=0), 0) and np.allclose(X[:, :4].std(axis=0), 1)
    assert np.allclose(X[:, 4], feats[cols[4]] * 2.0)
    # money enters as log(1 + monetary)
    z = np.log1p(feats["monetary"])
    assert np.allclose(X[:, 2], (z - z.mean()) / z.std(ddof=0))


def test_k_range_is_validated_and_too_few_customers_are_insufficient_data():
    feats, _ = simulate((10, 10))
    with pytest.raises(ValidationError, match="cluster_k_min"):
        Params(cluster_k_min=1)
    with pytest.raises(ValidationError, match="cluster_k_max"):
        Params(cluster_k_min=5, cluster_k_max=4)
    with pytest.raises(InsufficientData, match="at least 3 customers"):
        cl.fit_clusters(feats.head(2))


def test_a_fit_records_the_parameters_it_used():
    feats, _ = simulate((20, 20))
    res = cl.fit_clusters(feats, Params(cluster_k_min=2, cluster_k_max=3, cluster_seed=5))
    assert res.scores["k"].tolist() == [2, 3]
    for df in (res.labels, res.profiles):
        assert (used(df, "cluster_k_min"), used(df, "cluster_k_max"), used(df, "cluster_seed")) == (2, 3, 5)


def test_crosstab_counts_clusters_by_rfm_class():
    seg = pd.DataFrame({"customer_id": list("abcde"), "cluster": [1, 1, 2, 2, 2],
                        "rfm_class": ["rfm_important_value", "rfm_important_value", "rfm_general_winback",
                                      "rfm_important_value", "rfm_general_winback"]})
    ct = cl.cluster_rfm_crosstab(seg).set_index("cluster")
    assert ct.columns.tolist() == [*sg.RFM_CLASSES, "customers"]
    assert ct.loc[1, "rfm_important_value"] == 2 and ct.loc[2, "rfm_general_winback"] == 2
    assert ct["customers"].tolist() == [2, 3] and ct["rfm_general_value"].sum() == 0


# --- features from the warehouse (hand-made, DuckDB and PySpark) ---------------------------------
# as of 2024-12-31 (window 2024-01-01 .. 2024-12-31); P1 category a (10 元), P2 category b (20 元)
#  X  X1 2024-06-01 online: P1 3 (30), P2 1 (20); X2 2024-07-01 retail: P2 1 (20); X1's P2 returned 08-01
#  Y  Y0 2023-01-01 direct P1 1 (before the window); Y1 2024-03-01 direct P1 1 (10)
#  Z  Z1 2024-12-01 online P2 2 (40), all returned 2024-12-10
# The mix is of sales (before returns); monetary nets the returns.

HAND_FILES = {
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "X1,2024-06-01,X,online,east,P1,3,10\nX1,2024-06-01,X,online,east,P2,1,20\n"
                  "X2,2024-07-01,X,retail,east,P2,1,20\nY0,2023-01-01,Y,direct,east,P1,1,10\n"
                  "Y1,2024-03-01,Y,direct,east,P1,1,10\nZ1,2024-12-01,Z,online,east,P2,2,20\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,a,10,6\nP2,B,b,20,12\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,X1,P2,2024-08-01,1,20\nR2,Z1,P2,2024-12-10,2,40\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    import handmade

    maps = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS, "returns.yaml": handmade.RETURNS}
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_clusters"), HAND_FILES, maps)


def test_features_take_sales_mix_from_the_facts_and_net_returns_in_monetary(eng):
    f = cl.cluster_features(eng, "2024-12-31").set_index("customer_id")
    assert f.index.tolist() == ["X", "Y", "Z"]
    assert f[["recency_days", "frequency", "monetary", "tenure_days"]].to_dict("index") == {
        "X": {"recency_days": 183, "frequency": 2, "monetary": 50.0, "tenure_days": 213},
        "Y": {"recency_days": 305, "frequency": 1, "monetary": 10.0, "tenure_days": 730},
        "Z": {"recency_days": 30, "frequency": 1, "monetary": 0.0, "tenure_days": 30}}
    assert f.loc["X", ["category:a", "category:b"]].tolist() == pytest.approx([3 / 7, 4 / 7])
    assert f.loc["X", ["channel:online", "channel:retail", "channel:direct"]].tolist() == pytest.approx([5 / 7, 2 / 7, 0])
    assert f.loc["Z", ["category:b", "channel:online"]].tolist() == [1.0, 1.0]  # fully returned: still its sales
    assert used(f, "returns_basis") == "return_date" and used(f, "rfm_window_months") == 12


# --- features from the warehouse (small demo) ---------------------------------------------------

def test_demo_features_and_clusters(demo_warehouse, open_engine, tmp_path):
    with open_engine(demo_warehouse, "duckdb", tmp_path) as e:
        rfm = e.execute(sg.rfm_expr(e, "2025-12-31"))
        feats = cl.cluster_features(e, "2025-12-31", rfm_table=rfm)
        again = cl.cluster_features(e, "2025-12-31")
    pd.testing.assert_frame_equal(feats, again)
    assert feats["customer_id"].tolist() == sorted(rfm["customer_id"])
    ch = [c for c in feats.columns if c.startswith("channel:")]
    cat = [c for c in feats.columns if c.startswith("category:")]
    assert {"channel:online", "channel:retail", "channel:direct"} <= set(ch) and len(cat) >= 3
    ok = feats["monetary"] > 0
    assert np.allclose(feats.loc[ok, ch].sum(axis=1), 1) and np.allclose(feats.loc[ok, cat].sum(axis=1), 1)
    assert (feats["tenure_days"] >= feats["recency_days"]).all()
    res = cl.fit_clusters(feats, Params(cluster_k_min=2, cluster_k_max=5, cluster_seed=7))
    assert 2 <= res.k <= 5 and res.labels["cluster"].nunique() == res.k
    assert res.profiles["customers"].sum() == len(feats)


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")
def test_clustering_needs_more_customers_than_clusters_and_someone_to_cluster(eng):
    feats, _ = simulate((2, 2))  # 4 customers
    with pytest.raises(InsufficientData, match="4 customers cannot be split into 4 clusters: at least 5 are needed"):
        cl.fit_clusters(feats, Params(cluster_k_min=4, cluster_k_max=6))
    with pytest.raises(InsufficientData, match="4 customers cannot be split into 5 clusters: at least 6 are needed"):
        cl.fit_clusters(feats, k=5)
    assert cl.fit_clusters(feats, Params(cluster_k_min=3, cluster_k_max=6)).k == 3  # k capped at n − 1
    same = feats.assign(**{c: feats[c].iloc[0] for c in feats.columns if c != "customer_id"})
    with pytest.raises(InsufficientData, match="no k in 2..8 gives two or more clusters on 4 customers"):
        cl.fit_clusters(same)
    # nobody of the hand warehouse bought in the 12 months up to 2022-12-31
    with pytest.raises(InsufficientData, match="no identified customer bought in the 12 months up to 2022-12-31"):
        cl.cluster_features(eng, "2022-12-31")
