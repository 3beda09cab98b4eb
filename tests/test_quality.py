"""The data-quality figures (saleslab.quality) on a hand-made warehouse, checked by hand.

The inputs plant one of each thing the cleaning layer does: an exact duplicate row, an impossible
quantity of 0, an unparseable price, a missing industry, a missing region that the customer's
records fill, two customer records of one company (same phone and name), a look-alike pair
(same name after removing the city), the same order exported by two systems (once with an
external reference, once without), an outlier quantity and an order line without its order.
"""

import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import handmade
from saleslab.quality import checks as quality
from saleslab.ingest.load import ingest
from saleslab.quality import charts as charts_quality, story as narrative_quality
from saleslab.params import used
from saleslab.quality.params import Params

ORDER_COLS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel",
              "region": "region"}

MAPS = {
    "erp.yaml": "system: ERP\npriority: 1\n" + handmade.orders_yaml(),
    "shop.yaml": "system: EC\npriority: 2\n" + handmade.orders_yaml({**ORDER_COLS, "external_ref": "ref"})
    .replace("orders.csv", "shop.csv"),
    "extra.yaml": handmade.source_yaml("extra_lines.csv", "order_lines", handmade.LINE_COLUMNS),
    "products.yaml": handmade.PRODUCTS,
    "customers.yaml": "system: CRM\n" + handmade.source_yaml(
        "customers.csv", "customers", {"customer_id": "id", "name": "name", "customer_type": "type",
                                       "industry": "industry", "phone": "phone", "region": "region"}),
}

FILES = {
    # ERP, one row per order line (line numbers of the file on the right)
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-01-05,C1,direct,华东,P1,2,10\n"      # 2
                  "O1,2024-01-05,C1,direct,华东,P1,2,10\n"      # 3 exact repeat of 2: merged (duplicate_row)
                  "O1,2024-01-05,C1,direct,华东,P2,1,30\n"      # 4
                  "O2,2024-01-06,C3,direct,,P1,1,10\n"          # 5 region filled from C2/C3 (华南 -> south)
                  "O3,2024-01-07,C1,direct,华东,P1,0,10\n"      # 6 quantity 0: quarantined (impossible_value)
                  "O4,2024-01-08,C9,direct,,P2,1,30\n"          # 7 unknown customer, no region
                  "O5,2024-01-09,C1,direct,华东,P1,100,10\n"    # 8 outlier
                  "O6,2024-02-01,C2,direct,华南,P1,1,10\n"      # 9
                  "O7,2024-02-02,C2,direct,华南,P9,2,10\n",     # 10 unknown product
    # web shop: E1 names O1 (external_ref), E2 repeats O6 (C3 is C2; same date and line), E3 is new
    "shop.csv": "order,date,cust,channel,region,sku,qty,price,ref\n"
                "E1,2024-01-05,C1,online,华东,P1,2,10,O1\n"
                "E2,2024-02-01,C3,online,华南,P1,1,10,\n"
                "E3,2024-02-03,C1,online,华东,P2,3,30,\n",
    # a line whose order header no system exported
    "extra_lines.csv": "order,sku,qty,price\nO99,P1,1,10\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,x,30,12\nP3,C,x,abc,5\n",  # P3: bad price
    "customers.csv": "id,name,type,industry,phone,region\n"
                     "C1,甲机械有限公司,company,制造业,13800000001,华东\n"
                     "C2,乙贸易有限公司,company,,13800000002,华南\n"        # missing industry -> 其他
                     "C3,乙贸易有限公司,company,零售业,13800000002,华南\n"  # same phone and name as C2
                     "C4,王小明,person,,,\n"                               # a person: no industry fill
                     "C5,丁科技有限公司,company,服务业,13800000005,华北\n"
                     "C6,上海丁科技有限公司,company,服务业,13900000006,华东\n",  # same name as C5 only
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("dq"), FILES, MAPS, quarantine_ok=True)


@pytest.fixture(scope="module")
def duck(hand_warehouse, tmp_path_factory, open_engine):
    e = open_engine(hand_warehouse, "duckdb", tmp_path_factory.mktemp("duck"))
    yield e
    e.close()


def _rows(df: pd.DataFrame, cols) -> list[tuple]:
    return [tuple(r) for r in df[list(cols)].itertuples(index=False)]


# ------------------------------------------------------------------------- accounting
def test_every_file_balances_and_every_row_not_loaded_is_traced(eng):
    f = quality.file_accounting(eng).set_index("file")
    cols = ["rows_read", "rows_loaded", "rows_merged", "rows_quarantined", "values_filled", "outliers_flagged"]
    assert f.loc["orders.csv", cols].tolist() == [9, 7, 1, 1, 1, 1]
    assert f.loc["shop.csv", cols].tolist() == [3, 1, 2, 0, 0, 0]
    assert f.loc["extra_lines.csv", cols].tolist() == [1, 0, 0, 1, 0, 0]  # its order header is missing
    assert f.loc["products.csv", cols].tolist() == [3, 2, 0, 1, 0, 0]
    assert f.loc["customers.csv", cols].tolist() == [6, 6, 0, 0, 1, 0]
    assert f.loc["orders.csv", ["quarantine_kept", "merged_kept"]].tolist() == [1, 1]
    assert f["balanced"].all() and f["traced"].all()
    assert set(f["status"]) == {"loaded"}


def test_source_accounting_sums_files_and_shares(eng):
    s = quality.row_accounting(eng).set_index("source")
    assert s.loc["erp", ["files", "rows_read", "rows_merged", "rows_quarantined"]].tolist() == [1, 9, 1, 1]
    assert s.loc["erp", "quarantined_share"] == pytest.approx(1 / 9, abs=1e-6)
    assert s.loc["products", "quarantined_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert s.loc["shop", "system"] == "EC" and s["balanced"].all()
    tot = quality.accounting_totals(quality.file_accounting(eng))
    assert (tot["files"], tot["rows_read"], tot["rows_loaded"], tot["rows_merged"], tot["rows_quarantined"]) == \
        (5, 22, 16, 3, 3)
    assert tot["unbalanced_files"] == 0 and tot["untraced_files"] == 0


def test_check_column_catches_a_file_that_does_not_balance(duck):
    files = quality.file_accounting(duck)
    bad = files.copy()
    bad.loc[bad["file"] == "shop.csv", "rows_loaded"] += 1
    bad["balanced"] = bad["rows_read"] == bad["rows_loaded"] + bad["rows_merged"] + bad["rows_quarantined"]
    src = quality.source_accounting(bad).set_index("source")
    assert not src.loc["shop", "balanced"] and src.drop(index="shop")["balanced"].all()
    assert quality.accounting_totals(bad)["unbalanced_files"] == 1


def test_trace_check_fails_when_a_quarantined_row_is_missing(hand_warehouse, tmp_path, open_engine):
    wh = tmp_path / "wh"
    shutil.copytree(hand_warehouse, wh)
    part = wh / "_quarantine" / "clean.parquet"
    q = pq.read_table(part).to_pandas()
    assert q["file"].tolist() == ["extra_lines.csv", "orders.csv"]  # the line without header, the quantity-0 line
    pq.write_table(pa.Table.from_pandas(q[q["file"] != "orders.csv"], preserve_index=False,
                                        schema=pq.read_schema(part)), part)
    e = open_engine(wh, "duckdb", tmp_path)
    try:
        f = quality.file_accounting(e).set_index("file")
    finally:
        e.close()
    assert f.loc["orders.csv", "balanced"] and not f.loc["orders.csv", "traced"]
    assert f.drop(index="orders.csv")["traced"].all()


def test_table_rows_counts_final_rows_per_source_and_table(eng):
    t = quality.table_rows(eng)
    # erp: orders O1..O7 but O3 (its only line is quarantined, so its header goes too); lines: 9 - repeat - quantity 0
    assert _rows(t, ["source", "table", "rows"]) == [
        ("customers", "customers", 6), ("erp", "order_lines", 7), ("erp", "orders", 6),
        ("products", "products", 2), ("shop", "order_lines", 1), ("shop", "orders", 1)]


# ------------------------------------------------------------------------- quarantine, merges
def test_quarantine_reasons_include_the_cleaning_layer(eng):
    r = quality.quarantine_reasons(eng)
    assert sorted(_rows(r, ["source", "reason", "rows", "example_file", "example_line"])) == [
        ("erp", "impossible_value", 1, "orders.csv", 6), ("extra", "order_missing", 1, "extra_lines.csv", 2),
        ("products", "unparseable_number", 1, "products.csv", 4)]
    assert quality.reason_totals(r)["rows"].tolist() == [1, 1, 1]


def test_merged_rows_by_rule_and_the_orders_they_merged_into(eng):
    m = quality.merged_by_rule(eng)
    assert sorted(_rows(m, ["source", "table", "rule", "rows"])) == [
        ("erp", "row", "duplicate_row", 1), ("shop", "orders", "customer_date_lines", 1),
        ("shop", "orders", "external_ref", 1)]
    o = quality.merged_orders(eng)
    assert _rows(o, ["order_id", "rule", "merged_into", "merged_into_file", "merged_into_line", "line"]) == [
        ("E2", "customer_date_lines", "O6", "orders.csv", 9, 3), ("E1", "external_ref", "O1", "orders.csv", 2, 2)]


# ------------------------------------------------------------------------- coverage
def test_coverage_counts_known_customer_product_region_and_channel(eng):
    c = quality.coverage(eng).set_index("channel")
    # direct: lines 2 4 5 7 8 9 10 -> C9 (line 7) unknown, P9 (line 10) unknown, line 7 has no region
    assert c.loc["direct", "order_lines"] == 7
    assert c.loc["direct", ["known_customer", "known_product", "known_region", "known_channel"]].tolist() == \
        pytest.approx([6 / 7, 6 / 7, 6 / 7, 1.0], abs=1e-6)
    assert c.loc["online", "order_lines"] == 1 and c.loc["online", "known_customer"] == 1.0
    # the line without an order header is quarantined (order_missing), so no line lacks a channel
    assert "unknown" not in c.index
    assert c.index[-1] == "all" and c.loc["all", "order_lines"] == 8
    assert c.loc["all", ["known_customer", "known_product", "known_region", "known_channel"]].tolist() == \
        pytest.approx([7 / 8, 7 / 8, 7 / 8, 1.0], abs=1e-6)
    s = quality.coverage(eng, "source").set_index("source")
    assert s["order_lines"].to_dict() == {"erp": 7, "shop": 1, "all": 8}


def test_coverage_against_target_counts_lines_to_complete(duck):
    cov = quality.coverage(duck)
    t98 = quality.coverage_vs_target(cov).set_index("coverage_measure")
    assert t98["meets_target"].to_dict() == {"known_customer": False, "known_product": False,
                                             "known_region": False, "known_channel": True}
    # ceil(0.98 * 8) = 8 known lines needed
    assert t98["lines_missing"].to_dict() == {"known_customer": 1, "known_product": 1, "known_region": 1,
                                              "known_channel": 0}
    assert t98["lines_to_fix"].to_dict() == t98["lines_missing"].to_dict()
    assert t98.loc["known_customer", "shortfall"] == pytest.approx(0.98 - 7 / 8, abs=1e-6)
    t85 = quality.coverage_vs_target(cov, Params(coverage_target=0.85)).set_index("coverage_measure")
    # ceil(0.85 * 8) = 7: every measure has at least 7 of 8 lines
    assert t85["meets_target"].all() and (t85["lines_to_fix"] == 0).all()
    assert t85["target"].tolist() == [0.85] * 4


# ------------------------------------------------------------------------- customers, outliers, fills
def test_customer_resolution_by_rule_and_review_list(eng):
    r = quality.customer_resolution(eng)
    assert _rows(r, ["rule", "records"]) == [("self", 5), ("phone+name", 1)]
    assert r["share"].tolist() == pytest.approx([5 / 6, 1 / 6], abs=1e-6)
    assert quality.resolution_totals(eng) == {"records": 6, "customers": 5, "merged_records": 1, "review_pairs": 1}
    rv = quality.review_list(eng)
    assert _rows(rv, ["customer_id", "other_id", "signal"]) == [("C5", "C6", "name_only")]
    assert rv["other_name"].tolist() == ["上海丁科技有限公司"]


def test_outliers_listed_by_score_with_hand_computed_score(eng):
    o = quality.outliers_for_review(eng, Params(outliers_top=5))
    # P1 direct lines: 2, 1, 100, 1 -> median 1.5, MAD 0.5 -> scale max(1.4826 * 0.5, 0.75, 1) = 1
    assert _rows(o, ["order_id", "quantity", "product_typical", "outlier_score", "outlier_rule", "file", "line"]) == [
        ("O5", 100.0, 1.5, 98.5, "product", "orders.csv", 8)]
    b = quality.outliers_by_rule(eng)
    assert _rows(b, ["outlier_rule", "lines", "net_amount"]) == [("product", 1, 1000.0)]


def test_fills_by_table_and_column(eng):
    f = quality.fills_by_column(eng)
    assert _rows(f, ["table", "column", "fill_rule", "filled_value", "rows"]) == [
        ("customers", "industry", "missing industry -> marker", "其他", 1),
        ("orders", "region", "region from customer", "south", 1)]


# ------------------------------------------------------------------------- trend, headlines, accuracy
def test_trend_has_one_row_per_ingest(tmp_path, open_engine):
    wh = handmade.build_warehouse(tmp_path, FILES, MAPS, quarantine_ok=True)
    e = open_engine(wh, "duckdb", tmp_path)
    try:
        one = quality.quality_trend(e)
    finally:
        e.close()
    assert one["ingest_no"].tolist() == [1] and one["rows_read"].tolist() == [22] and one["balanced"].all()
    assert one["rows_quarantined"].tolist() == [3] and one["quarantined_share"].iloc[0] == pytest.approx(3 / 22, 1e-5)
    # the next export brings one more bad product row and one more good order line
    (tmp_path / "in" / "products.csv").write_text(FILES["products.csv"] + "P4,D,x,xyz,1\n", encoding="utf-8")
    (tmp_path / "in" / "shop.csv").write_text(FILES["shop.csv"] + "E4,2024-02-04,C1,online,华东,P1,1,10,\n",
                                              encoding="utf-8")
    ingest(tmp_path / "in", tmp_path / "src", wh)
    e = open_engine(wh, "duckdb", tmp_path)
    try:
        two = quality.quality_trend(e)
    finally:
        e.close()
    assert two["ingest_no"].tolist() == [1, 2]
    assert two["rows_read"].tolist() == [22, 24] and two["rows_quarantined"].tolist() == [3, 4]
    assert two["rows_merged"].tolist() == [3, 3] and two["duplicate_orders"].tolist() == [2, 2]
    assert two["coverage_product"].tolist() == pytest.approx([7 / 8, 8 / 9], abs=1e-4)


def test_headlines_and_narrative(duck):
    files = quality.file_accounting(duck)
    target = quality.coverage_vs_target(quality.coverage(duck))
    res = quality.resolution_totals(duck)
    h = quality.quality_headlines(files, target, res)
    # customer, product and region tie at 7/8: the first by name is reported
    assert h["coverage"] == pytest.approx(7 / 8, abs=1e-6) and h["coverage_measure"] == "known_customer"
    assert (h["rows_read"], h["rows_merged"], h["rows_quarantined"], h["unbalanced_files"]) == (22, 3, 3, 0)
    assert h["coverage_target_met"] == 1 and h["canonical_customers"] == 5 and h["review_pairs"] == 1
    trend = quality.quality_trend(duck)
    en = narrative_quality.quality_narrative(h, target, res, trend, "en")
    assert "**22** rows read" in en and "Known customer 87.50%" in en and "only one ingest" in en
    zh = narrative_quality.quality_narrative(h, target, res, trend, "zh-CN")
    assert "客户已知 87.50%（需补全 1 行）" in zh and "只有一次入库" in zh


def test_cleaning_accuracy_against_an_answer_key(duck, tmp_path):
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "duplicate_orders.csv").write_text(
        "file,line,order_id,duplicate_of_file,duplicate_of_line,duplicate_of_order_id,match\n"
        "shop.csv,2,E1,orders.csv,2,O1,external_ref\nshop.csv,3,E2,orders.csv,9,O6,customer_date_lines\n")
    # C1..C6 with C2 = C3; C5 and C6 are one company too (the look-alike pair left for review)
    (truth / "customer_entities.csv").write_text(
        "customer_id,system,entity_id,name_variant,shared_key\n"
        "C1,crm,E1,,\nC2,crm,E2,,\nC3,crm,E2,,\nC4,crm,E4,,\nC5,crm,E5,,\nC6,crm,E5,,\n")
    # the outlier line 8 is found; a planted line 9 is not
    (truth / "outliers.csv").write_text("file,line,order_id,line_no,factor\norders.csv,8,O5,1,50\n"
                                        "orders.csv,9,O6,1,20\n")
    a = quality.cleaning_accuracy(duck, Params(truth_dir=str(truth))).set_index("accuracy_measure")
    # customers: predicted pairs {C2-C3}, true pairs {C2-C3, C5-C6} -> precision 1, recall 1/2
    assert a["accuracy"].to_dict() == pytest.approx({"dup_precision": 1.0, "dup_recall": 1.0,
                                                     "customer_precision": 1.0, "customer_recall": 0.5,
                                                     "outlier_recall": 0.5})
    assert a["meets_target"].to_dict() == {"dup_precision": True, "dup_recall": True, "customer_precision": True,
                                           "customer_recall": False, "outlier_recall": False}
    assert quality.cleaning_accuracy(duck, Params()).empty
    assert "not scored" in narrative_quality.accuracy_text(quality.cleaning_accuracy(duck, Params()), "en")
    assert "**3** of 5" in narrative_quality.accuracy_text(a.reset_index(), "en")


def _ingests(trend, n):
    """``trend``'s single ingest repeated as ingests 1..n (same recorded parameters)."""
    out = pd.concat([trend] * n, ignore_index=True)
    out["ingest_no"] = range(1, n + 1)
    out.attrs = dict(trend.attrs)
    return out


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_trend_chart_needs_three_ingests_else_one_sentence(duck, lang):
    from saleslab.errors import InsufficientData

    trend = quality.quality_trend(duck)
    assert len(trend) == 1 and used(trend, "dq_trend_min_ingests") == 3
    for short in (trend, trend.iloc[0:0], _ingests(trend, 2)):
        with pytest.raises(InsufficientData) as e:
            charts_quality.trend_chart(short, lang)
        want = f"目前只有 {len(short)} 次入库，趋势图至少需要 3 次" if lang == "zh-CN" else f"{len(short)} ingest(s) so far"
        assert want in str(e.value)
    fig = charts_quality.trend_chart(_ingests(trend, 3), lang)
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [3] * 4  # rows merged, quarantined, filled, outliers
    plt.close(fig)
    two = quality.quality_trend(duck, Params(dq_trend_min_ingests=2))
    plt.close(charts_quality.trend_chart(_ingests(two, 2), lang))  # the minimum is a parameter


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_charts_draw_with_a_single_ingest_and_without_history(duck, lang):
    files = quality.file_accounting(duck)
    target = quality.coverage_vs_target(quality.coverage(duck))
    figs = [charts_quality.accounting_chart(quality.source_accounting(files), lang),
            charts_quality.coverage_target_chart(target, lang)]
    # one bar per source, and the stacked merged + quarantined lengths are the accounting's
    ax = figs[0].axes[0]
    assert len(ax.patches) == 2 * len(quality.source_accounting(files))
    for f in figs:
        plt.close(f)


def test_quality_story_and_trend_chart_use_the_targets_the_tables_were_computed_with(duck):
    cov = quality.coverage(duck)
    strict = quality.coverage_vs_target(cov, Params(coverage_target=0.999))
    assert strict.attrs["params"]["coverage_target"] == 0.999
    h = quality.quality_headlines(quality.file_accounting(duck), strict, quality.resolution_totals(duck))
    trend = quality.quality_trend(duck, Params(coverage_target=0.9))
    en = narrative_quality.quality_narrative(h, strict, quality.resolution_totals(duck), trend, "en")
    zh = narrative_quality.quality_narrative(h, strict, quality.resolution_totals(duck), trend, "zh-CN")
    assert "100% target" in en and "100% 目标" in zh  # 0.999 shown with no decimals
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    fig = charts_quality.trend_chart(_ingests(trend, 3), "en")
    assert any(list(line.get_ydata())[:1] == [0.9] for ax in fig.axes for line in ax.lines)
    plt.close(fig)


def test_the_run_file_truth_dir_reaches_the_data_quality_stage_only(tmp_path):
    """The demo's run file names its answer key (``truth_dir``); the pipeline gives it, resolved,
    to the stage that declares it (00) and to no other, so the cleaning-accuracy section shows."""
    from saleslab.config import PROJECT_ROOT, load_params

    demo = load_params(PROJECT_ROOT / "parameters" / "demo.yaml", check_input=False)
    assert demo.truth_dir is not None
    nb = demo.notebook_parameters(tmp_path, "00_data_quality")
    assert nb["truth_dir"] == str((PROJECT_ROOT / "data" / "demo" / "truth").resolve())
    assert "truth_dir" not in demo.notebook_parameters(tmp_path, "03_products")
    plain = load_params(PROJECT_ROOT / "parameters" / "monthly.yaml", check_input=False)
    assert plain.truth_dir is None and "truth_dir" not in plain.notebook_parameters(tmp_path, "00_data_quality")
