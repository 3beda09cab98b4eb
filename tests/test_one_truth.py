"""One truth: every stage's revenue for a period is the same sum, to the cent.

A tiny hand-made warehouse with the awkward rows — a return dated after the period, a return in
the period of an order placed before it, a return of an order no system exported (quarantined at
ingest), a product missing from the master — and the small demo. Each area's own function is
asked for the period's revenue; all must agree with the facts layer and with the hand sum.
"""

import pytest

import hand_sales
import handmade
from saleslab import channels, facts, products, team
from saleslab.customer360 import card
from saleslab.engine import connect
from saleslab.facts import Params as FactsParams
from saleslab.performance import kpis

S, E = hand_sales.START, hand_sales.END

FILES = dict(hand_sales.FILES)
FILES["orders.csv"] += "O14,2024-03-20,C1,direct,S1,,P9,1,50\n"  # P9: not in the product master
FILES["returns.csv"] += ("R2,O1,P1,2024-04-05,2,20\n"     # after the period, of an order in it
                         "R3,O0,P1,2024-01-10,1,10\n"     # in the period, of an order before it
                         "R4,O99,P1,2024-02-10,1,999\n")  # of an order no system exported
# sales in the period 610 + 50 (O14) = 660; returns dated in the period: R1 30 + R3 10
BY_RETURN_DATE = 660 - 40
# returns of the period's orders, whenever returned: R1 30 + R2 20
BY_ORDER_DATE = 660 - 50


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("truth"), FILES, hand_sales.MAPS, quarantine_ok=True)


@pytest.fixture(scope="module")
def eng(wh, tmp_path_factory):
    e = connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path_factory.mktemp("d"))})
    yield e
    e.close()


def _totals(eng, start, end, fp: FactsParams) -> dict[str, float]:
    """The period's revenue as each area computes it."""
    out = {
        "facts": float(eng.execute(facts.revenue_by_expr(eng, start, end, [], fp.returns_basis))["revenue"].iloc[0]),
        "01 monthly overview": kpis.monthly_overview(eng, start, end, fp)["revenue"].sum(),
        "02 kpi cube": kpis.kpi_cube(eng, start, end, "month", (), fp, targets=False)["revenue"].sum(),
        "02 cube by channel x region": kpis.kpi_cube(eng, start, end, "quarter", ("channel", "region"), fp)["revenue"].sum(),
        "02 cube by price band": kpis.kpi_cube(eng, start, end, "year", ("price_band",), fp)["revenue"].sum(),
        "03 products": products.product_performance(eng, start, end, fp)["revenue"].sum(),
        "04 channels": channels.channel_performance(eng, start, end, None, fp)["revenue"].sum(),
    }
    return {k: round(float(v), 2) for k, v in out.items()}


def test_the_return_of_an_unknown_order_is_quarantined_not_loaded(wh):
    import pandas as pd

    assert "R4" not in set(pd.read_parquet(wh / "returns")["return_id"])
    q = pd.read_parquet(wh / "_quarantine")
    assert q[q["raw"].str.contains("R4")]["reason"].tolist() == ["return_order_unknown"]


@pytest.mark.parametrize("basis, expected", [("return_date", BY_RETURN_DATE), ("order_date", BY_ORDER_DATE)])
def test_every_stage_counts_the_same_revenue_to_the_cent(eng, basis, expected):
    totals = _totals(eng, S, E, FactsParams(returns_basis=basis))
    assert totals == {k: expected for k in totals}, totals


def test_team_achievement_is_measured_on_the_same_revenue_as_the_cube(eng):
    fp = FactsParams()
    reps = team.rep_performance(eng, S, E, None, fp).set_index("rep_id")
    cube = kpis.kpi_cube(eng, S, E, "year", ("rep_id",), fp).set_index("rep_id")
    for rep in ("S1", "S2", "S3"):
        assert reps.loc[rep, "revenue"] == pytest.approx(cube.loc[rep, "revenue"], abs=0.005), rep
        assert reps.loc[rep, "achievement_rate"] == pytest.approx(cube.loc[rep, "achievement_rate"], abs=1e-6), rep
    # S2's revenue carries R3, the return in the period of his December order O0
    assert reps.loc["S2", "revenue"] == 100 - 10


def test_the_customer_page_shows_the_same_revenue_as_the_stages(eng):
    fp = FactsParams()
    c1 = card.customer_revenue(eng, "C1", S, E, fp)
    # C1: O1 20 + O2 30 + O14 50; R2 (O1) falls after the period
    assert (c1["gross_sales"], c1["returns"], c1["revenue"]) == (100, 0, 100)
    c4 = card.customer_revenue(eng, "C4", S, E, fp)
    assert c4["revenue"] == 60 - 30


def test_on_the_demo_every_stage_counts_the_same_revenue(demo_warehouse, tmp_path):
    with connect(demo_warehouse, "duckdb", {"memory_limit": "2GB", "temp_directory": str(tmp_path)}) as e:
        totals = _totals(e, "2023-01-01", "2025-12-31", FactsParams())
    assert len(set(totals.values())) == 1, totals
