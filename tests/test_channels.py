"""Channel metrics (domain.md §5) on a hand-made warehouse (DuckDB and PySpark) and on the small demo."""

import json

import pytest

import hand_sales
from saleslab import channels
from saleslab.channels import charts as charts_channels, story as narrative_channels
from saleslab.channels.params import Params
from saleslab.engine import connect
from saleslab.report import i18n

S, E = hand_sales.START, hand_sales.END


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return hand_sales.build(tmp_path_factory.mktemp("hand_channels"))


def test_channel_revenue_is_net_of_returns_with_share_and_margin(eng):
    r = channels.channel_revenue(eng, S, E).set_index("channel")
    assert r.index.tolist() == ["distribution", "direct", "retail", "online"]  # largest revenue first
    # online: O4 10 + O5 60 + O11 10 = 80, less the returned P2 (30); cost 6 + 24 + 6 - 12 = 24
    assert r.loc["online", ["gross_sales", "returns", "revenue", "cost", "gross_profit"]].tolist() == [80, 30, 50, 24, 26]
    assert r.loc["direct", "revenue"] == 160 and r.loc["direct", "cost"] == 90  # O0 is before the period
    assert r.loc["direct", "gross_margin"] == pytest.approx(70 / 160)
    assert r.loc["distribution", "revenue_share"] == pytest.approx(300 / 580, abs=1e-6)
    assert r["revenue_share"].sum() == pytest.approx(1.0, abs=1e-5)
    assert r.loc["direct", "orders"] == 4 and r.loc["direct", "active_customers"] == 3


def test_new_customers_and_retention_use_the_first_order_ever(eng):
    r = channels.retention(eng, S, E).set_index("channel")
    # direct: C1 (again in Feb) and C8; C2 first bought in Dec 2023, so not new
    assert r.loc["direct", ["new_customers", "retained_customers"]].tolist() == [2, 1]
    # online: C3 (retail in Mar), C4, C7 (O11 < O12 on the same day; same month is not "later")
    assert r.loc["online", ["new_customers", "retained_customers"]].tolist() == [3, 1]
    assert r.loc["online", "retention_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert r.loc["retail", "new_customers"] == 1 and r.loc["retail", "retention_rate"] == 0
    assert r.loc["distribution", "new_customers"] == 2


def test_conversion_is_orders_per_visit_online_and_won_leads_per_lead_direct(eng):
    c = channels.conversion(eng, S, E).set_index("channel")
    assert c.loc["online", ["funnel_entries", "conversions"]].tolist() == [200, 3]
    assert c.loc["online", "conversion_rate"] == pytest.approx(0.015)
    assert c.loc["direct", ["conversion_basis", "funnel_entries", "conversions"]].tolist() == ["crm_leads", 4, 2]
    f = channels.conversion_funnel(eng, S, E)
    assert f[f.channel == "online"]["funnel_count"].tolist() == [200, 50, 3]


def test_channel_costs_include_campaigns_starting_in_the_period(eng):
    c = channels.channel_costs(eng, S, E).set_index("channel")
    assert c.loc["retail"].tolist() == [20, 40, 10, 70]  # Dec 2023 cost and campaign CP3 excluded
    assert c.loc["online", "channel_cost"] == 30 and c.loc["direct", "channel_cost"] == 30


def test_cac_and_roi_flag_channels_below_roi_min(eng):
    p = channels.channel_performance(eng, S, E).set_index("channel")
    assert p.loc["online", "cac"] == 5.0  # 15 / 3 new customers
    assert p.loc["direct", "cac"] == 5.0  # 10 / 2
    assert p.loc["retail", "roi"] == 1.0 and p.loc["direct", "roi"] == pytest.approx(160 / 30, abs=1e-4)
    assert p.index[p["roi_review"]].tolist() == ["retail"]
    strict = channels.channel_performance(eng, S, E, Params(roi_min=2.0))
    assert sorted(channels.flagged(strict, "roi_review")["channel"]) == ["online", "retail"]
    assert strict.attrs["params"]["roi_min"] == 2.0  # the result carries the threshold it was computed with


def test_collection_rate_counts_payments_by_invoice_up_to_period_end(eng):
    d = channels.distributor_performance(eng, S, E).set_index("distributor_id")
    # D1: 150 of 200 (the 50 paid in April is after the period); D2: 40 of 100
    assert d.loc["D1", ["invoiced", "collected", "collection_rate"]].tolist() == [200, 150, 0.75]
    assert d.loc["D2", "collection_rate"] == 0.4 and d.index.tolist() == ["D2", "D1"]
    assert d.index[d["closure_review"]].tolist() == ["D2"]
    assert d.loc["D1", "distributor_name"] == "甲经销" and d.loc["D1", "distribution_share"] == pytest.approx(2 / 3, abs=1e-6)
    on_time = channels.distributor_performance(eng, S, E, on_time_only=True).set_index("distributor_id")
    assert on_time.loc["D2", "collection_rate"] == 0.0  # paid after its due date


def test_collected_is_capped_at_the_invoice_amount(eng):
    ci = eng.execute(channels.collected_invoices(eng, S, E)).set_index("invoice_id")
    assert sorted(ci.index) == ["I1", "I2", "I3", "I4"]  # I5 falls due after the period
    assert ci.loc["I3", "collected"] == 20  # paid 25


# --- small demo: the planted patterns are found ---------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, demo_dir, tmp_path_factory):
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        perf = channels.channel_performance(e, "2023-01-01", "2025-12-31")
        dist = channels.distributor_performance(e, "2023-01-01", "2025-12-31")
        funnel = channels.conversion_funnel(e, "2023-01-01", "2025-12-31")
    return planted, perf, dist, funnel


def test_demo_weak_retail_roi_is_flagged(demo):
    planted, perf, _, _ = demo
    assert channels.flagged(perf, "roi_review")["channel"].tolist() == [planted["weak_channel_roi"]["channel"]]
    assert perf["revenue_share"].sum() == pytest.approx(1.0, abs=1e-5)
    assert set(perf["channel"]) == {"online", "retail", "direct", "distribution"}


def test_demo_weak_distributor_is_flagged_for_closure(demo):
    planted, _, dist, _ = demo
    assert sorted(channels.flagged(dist, "closure_review")["distributor_id"]) == sorted(planted["weak_distributor"]["ids"])


def test_labels_charts_and_narrative_cover_the_stage(demo):
    _, perf, dist, funnel = demo
    for col in [*perf.columns, *dist.columns, *funnel.columns, *funnel["funnel_step"]]:
        assert col in i18n.LABELS, col
    for lang in ("zh-CN", "en"):
        text = narrative_channels.channels_narrative(perf, dist, lang)
        assert text.count("\n") == 2 and i18n.t("retail", lang) in text
    figs = [charts_channels.revenue_share_chart(perf, "zh-CN"), charts_channels.roi_chart(perf, "zh-CN"),
            charts_channels.collection_chart(dist, "en"), charts_channels.conversion_chart(funnel, "en")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_story_and_chart_use_the_threshold_the_table_was_computed_with(eng):
    perf = channels.channel_performance(eng, S, E, Params(roi_min=2.0))
    dist = channels.distributor_performance(eng, S, E, Params(collection_min=0.5))
    zh = narrative_channels.channels_narrative(perf, dist, "zh-CN")
    en = narrative_channels.channels_narrative(perf, dist, "en")
    assert "低于 2 的渠道" in zh and "ROI below 2 need review" in en
    assert "less than 50%" in en
    fig = charts_channels.roi_chart(perf, "en")
    assert any(line.get_xdata()[0] == 2.0 for line in fig.axes[0].lines)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_channel_parameters_reject_wrong_values_with_the_allowed_ones():
    with pytest.raises(Exception, match="leads_channel"):
        Params(leads_channel="phone")
    with pytest.raises(Exception, match="roi_min"):
        Params(roi_min=-1)


# --- partial data: each section says which source it needs --------------------------------------

@pytest.fixture(scope="module")
def orders_only(tmp_path_factory):
    """The hand-made orders and lines alone (no products, costs, traffic, leads, invoices, distributors)."""
    import handmade

    tmp = tmp_path_factory.mktemp("channels_orders_only")
    wh = handmade.build_warehouse(tmp, {"orders.csv": hand_sales.FILES["orders.csv"]},
                                  {"orders.yaml": hand_sales.MAPS["orders.yaml"]})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp / "duck")}) as e:
        yield e


def test_without_costs_traffic_or_invoices_revenue_and_retention_stay_and_the_rest_is_unknown(orders_only):
    p = channels.channel_performance(orders_only, S, E).set_index("channel")
    # no returns source: revenue is the gross sales; no product master: margin unknown, not 100 %
    assert p.loc["online", "revenue"] == 80 and p.loc["direct", "orders"] == 4
    assert p["gross_margin"].isna().all() and p["gross_profit"].isna().all()
    assert p.loc["direct", "new_customers"] == 2 and p.loc["online", "retention_rate"] == pytest.approx(1 / 3, abs=1e-6)
    for col in ("conversion_rate", "acquisition_cost", "channel_cost", "cac", "roi", "roi_review"):
        assert p[col].isna().all(), col
    d = channels.distributor_performance(orders_only, S, E).set_index("distributor_id")
    assert d.loc["D1", "revenue"] == 200 and d["distributor_name"].isna().all()
    assert d[["invoiced", "collected", "collection_rate", "closure_review"]].isna().all().all()
    text = narrative_channels.channels_narrative(p.reset_index(), d.reset_index(), "en")
    assert text.count("\n") == 0 and "gross margin" not in text and "ROI" not in text


def test_sections_name_the_tables_they_need(orders_only):
    from saleslab.errors import MissingSource

    perf = channels.channel_performance(orders_only, S, E)
    dist = channels.distributor_performance(orders_only, S, E)
    for call, tables in ((lambda: channels.roi_table(orders_only, perf), ("channel_costs",)),
                         (lambda: channels.channel_costs(orders_only, S, E), ("channel_costs",)),
                         (lambda: channels.conversion_funnel(orders_only, S, E), ("web_traffic", "leads")),
                         (lambda: channels.collection_table(orders_only, dist), ("invoices", "payments"))):
        with pytest.raises(MissingSource) as e:
            call()
        assert e.value.tables == tables


def test_sections_say_when_the_period_holds_nothing_to_compute(eng):
    from saleslab.errors import InsufficientData

    later = ("2030-01-01", "2030-12-31")  # the sources exist, but hold nothing for this period
    with pytest.raises(InsufficientData, match="no channel has a cost in the period"):
        channels.roi_table(eng, channels.channel_performance(eng, *later))
    with pytest.raises(InsufficientData, match="no web visit and no lead created between 2030-01-01 and 2030-12-31"):
        channels.conversion_funnel(eng, *later)
    with pytest.raises(InsufficientData, match="no distributor invoice falls due in the period"):
        channels.collection_table(eng, channels.distributor_performance(eng, *later))
    # with the data, the sections' tables are channel_performance's own rows and parameters
    perf = channels.channel_performance(eng, S, E, Params(roi_min=2.0))
    roi = channels.roi_table(eng, perf)
    assert roi.columns.tolist() == channels.ROI_COLUMNS and roi["roi"].tolist() == perf["roi"].tolist()
    assert roi.attrs["params"]["roi_min"] == 2.0
