"""Readable numbers, labels everywhere, one name per figure (issue 13, items 2-4).

Every expectation below is worked out by hand from the rules in :mod:`saleslab.report.format`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from saleslab.report import format as F
from saleslab.report import glossary, i18n, tables
from saleslab.stage import Stage

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("zh-CN", "en")


# --- money ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, zh, en", [
    (0, "0 元", "CNY 0"),
    (0.4, "0 元", "CNY 0"),
    (-0.004, "0 元", "CNY 0"),                      # no "-0"
    (950, "950 元", "CNY 950"),
    (1797, "1,797 元", "CNY 1.80 K"),                # the 人均客户终身价值 (was "0.2 万元")
    (9_999.4, "9,999 元", "CNY 10.0 K"),
    (9_999.6, "1.00 万元", "CNY 10.0 K"),            # rounds to 10,000 元: the next unit
    (12_345, "1.23 万元", "CNY 12.3 K"),
    (99_999.96, "10.0 万元", "CNY 100 K"),           # 9.999996 万 rounds to 10.00: one decimal from 10
    (300_000, "30.0 万元", "CNY 300 K"),
    (999_999.96, "100.0 万元", "CNY 1.00 M"),
    (67_389_000, "6,738.9 万元", "CNY 67.4 M"),      # the "6,738.9 10k CNY"
    (99_999_999, "1.00 亿元", "CNY 100 M"),          # 9,999.9999 万 rounds to 10,000.0 万: 亿元
    (123_456_789, "1.23 亿元", "CNY 123 M"),
    (2_500_000_000, "25.0 亿元", "CNY 2.50 B"),
    (-1_234_567, "-123.5 万元", "CNY -1.23 M"),
])
def test_money_per_locale(value, zh, en):
    assert F.fmt(value, "money", "zh-CN") == zh
    assert F.fmt(value, "money", "en") == en


@pytest.mark.parametrize("value", [None, float("nan"), float("inf"), -float("inf"), pd.NA, pd.NaT])
def test_not_meaningful_money_is_a_dash_with_a_reason(value):
    for lang in LANGS:
        assert F.fmt(value, "money", lang) == F.NA
        assert F.why(value, "money", lang)  # the footnote text exists in both languages
    assert F.reason_key(value, "money") in ("na_missing", "na_division_by_zero")


def test_column_unit_is_one_for_the_whole_column():
    # median of |12,000|, |350,000|, |4,000,000| is 350,000 -> 万元, 35.0 has one decimal
    assert F.column_money_unit([12_000, 350_000, 4_000_000, None], "zh-CN") == (1e4, 1, "万元")
    assert F.column_money_unit([12_000, 350_000, 4_000_000], "en") == (1e3, 0, "CNY K")
    assert F.column_money_unit([0, 0], "zh-CN") == (1, 0, "元")  # all zero: 元
    assert F.money_in(12_000, 1e4, 1) == "1.2" and F.money_in(-4, 1e4, 1) == "0.0"


# --- other kinds ------------------------------------------------------------------------------------

def test_counts_are_integers_and_numbers_drop_decimals_when_integral():
    assert F.fmt(1252.0, "count", "zh-CN") == "1,252"   # was "1,252.00"
    assert F.fmt(1.0, "count", "en") == "1"             # a quantity, was "1.00"
    assert F.fmt(2.5, "count", "en") == "2"             # rounds half to even, as Python does
    assert F.fmt(0.7678, "number", "en") == "0.77"
    assert F.fmt(3.0, "number", "en") == "3"
    assert F.fmt(-0.001, "number", "en") == "0.00"


def test_percent_growth_and_points():
    assert F.fmt(0.12345, "percent", "en") == "12.3%"
    assert F.fmt(1.0, "percent", "zh-CN") == "100.0%"
    assert F.fmt(-0.0004, "percent", "en") == "0.0%"        # no "-0.0%"
    assert F.fmt(0.2, "growth", "en") == "+20.0%" and F.fmt(-0.05, "growth", "en") == "-5.0%"
    assert F.fmt(float("inf"), "growth", "en") == F.NA
    assert F.why(float("inf"), "growth", "zh-CN") == "基数为零，无法计算增长或比例"
    assert F.fmt(0.012, "pp", "zh-CN") == "+1.2 个百分点" and F.fmt(-0.0349, "pp", "en") == "-3.5 pp"


def test_days_with_unit_and_absurd_days_as_dash():
    assert F.fmt(885.9, "days", "zh-CN") == "886 天"           # was "885.90" without a unit
    assert F.fmt(885.9, "days", "en") == "886 days"
    assert F.fmt(3650, "days", "en") == "3,650 days"           # the cap itself is still shown
    assert F.fmt(9_692_202, "days", "zh-CN") == F.NA           # the "需 9,692,202 天才能售完"
    assert F.reason_key(9_692_202, "days") == "na_beyond_horizon"
    assert F.reason_key(float("inf"), "days") == "na_no_sales"
    assert F.fmt(4000, "days", "en", days_cap=5000) == "4,000 days"


def test_dates_months_and_times_in_the_run_zone():
    assert F.fmt(pd.Timestamp("2024-04-02 00:00:00"), "date", "zh-CN") == "2024-04-02"  # no 00:00:00
    assert F.fmt("2024-04-02", "date", "en") == "2024-04-02"
    assert F.fmt(pd.Timestamp("2024-02-01"), "month", "zh-CN") == "2024年02月"
    assert F.fmt(pd.Timestamp("2024-02-01"), "month", "en") == "Feb 2024"
    # 02:13 UTC is 10:13 in Shanghai (UTC+8, no summer time); a naive time is taken as UTC
    assert F.fmt("2026-12-02T02:13:00", "timestamp", "en", tz="Asia/Shanghai") == "2026-12-02 10:13 CST"
    assert F.fmt(pd.Timestamp("2026-07-01T12:00:00Z"), "timestamp", "en", tz="Europe/Berlin") == "2026-07-01 14:00 CEST"
    assert F.fmt(None, "date", "en") == F.NA


def test_booleans_and_unknown_kinds():
    assert [F.fmt(v, "text", "zh-CN") for v in (True, False)] == ["是", "否"]
    assert F.fmt(True, "count", "en") == "Yes"
    with pytest.raises(ValueError):
        F.fmt(1, "weird", "en")
    with pytest.raises(ValueError):
        F.fmt(1, "money", "fr")


# --- tables -----------------------------------------------------------------------------------------

def _awkward() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "C3"],
        "customer_name": ["甲公司", "乙公司", "=HYPERLINK(1)"],
        "channel": ["online", "distribution", None],
        "tags": ["tag_high_value,tag_potential", "", "tag_churn_risk"],
        "member": ["total/east/online", "east", "unknown-thing"],
        "tag_potential": [True, False, True],
        "revenue": [12_000.0, 350_000.0, 4_000_000.0],
        "orders": [3.0, 12.0, 1.0],
        "gross_margin": [0.25, 0.3, float("nan")],
        "yoy_growth": [0.1, float("inf"), -0.2],
        "days_of_inventory": [30.4, 9_692_202.0, float("inf")],
        "order_date": pd.to_datetime(["2024-04-02", "2024-04-03", None]),
    })


def test_display_frame_labels_formats_and_explains():
    frame, numeric, reasons = tables.display_frame(_awkward(), "zh-CN")
    assert list(frame.columns[:2]) == ["客户名称", "客户编号"]          # name first, id second
    row = frame.iloc[0].tolist()
    assert row[2:5] == ["线上电商", "高价值、潜力", "合计 / 华东 / 线上电商"]
    assert frame.iloc[1, 2] == "经销" and frame.iloc[2, 2] == F.NA and frame.iloc[2, 4] == "unknown-thing"
    assert frame["潜力"].tolist() == ["是", "否", "是"]
    # revenue: one unit for the column (median 350,000 -> 万元, one decimal) named in the header
    assert frame["销售额（万元）"].tolist() == ["1.2", "35.0", "400.0"]
    assert frame["订单数"].tolist() == ["3", "12", "1"]
    assert frame["毛利率"].tolist() == ["25.0%", "30.0%", F.NA]
    assert frame["同比增长"].tolist() == ["+10.0%", F.NA, "-20.0%"]
    assert frame["库存周转天数"].tolist()[0] == "30 天" and frame["库存周转天数"].tolist()[1:] == [F.NA, F.NA]
    assert frame["下单日期"].tolist() == ["2024-04-02", "2024-04-03", F.NA]
    assert "销售额（万元）" in numeric and "客户名称" not in numeric
    assert reasons == ["无数据", "基数为零，无法计算增长或比例",
                       "按当前销售速度需 10 年以上才能售完（几乎没有销售），天数无意义", "没有销售，无法计算售完天数"]
    en, _, _ = tables.display_frame(_awkward(), "en")
    assert en["Revenue (CNY K)"].tolist() == ["12", "350", "4,000"]
    assert en.iloc[0, 3] == "High value, Potential"


def test_for_display_empty_table_says_why():
    empty = _awkward().head(0)
    md = tables.for_display(empty, "en")
    assert md.data == "> " + i18n.t("empty_table", "en")
    assert tables.for_display(empty, "zh-CN", empty="na_no_sales").data == "> 没有销售，无法计算售完天数"
    html = tables.for_display(_awkward(), "en", define=["revenue"]).to_html()
    assert "Sales net of returns" in html and "“—”: no data" in html and "Customer name" in html


def test_for_display_shows_at_most_rows_and_says_how_many_there_are():
    df = pd.concat([_awkward()] * 700, ignore_index=True)  # 2,100 rows
    html = tables.for_display(df, "zh-CN", rows=200).to_html()
    assert html.count("<tr") == 201  # header + 200 rows
    assert "显示前 200 行，共 2,100 行" in html
    en = tables.for_display(df, "en", rows=200, define=["revenue"]).to_html()
    assert "The first 200 of 2,100 rows" in en and "Sales net of returns" in en
    few = tables.for_display(_awkward(), "en", rows=200).to_html()
    assert few.count("<tr") == 4 and "rows (the whole table" not in few


def test_for_people_keeps_codes_beside_labels_and_numbers_as_numbers():
    out = tables.for_people(_awkward(), "zh-CN")
    assert list(out.columns[:6]) == ["客户名称", "客户编号", "渠道", "渠道（编号）", "客户标签", "客户标签（编号）"]
    assert out["渠道"].tolist()[:2] == ["线上电商", "经销"] and out["渠道（编号）"].tolist()[:2] == ["online", "distribution"]
    assert out["潜力"].tolist() == ["是", "否", "是"]
    assert out["销售额"].tolist() == [12_000.0, 350_000.0, 4_000_000.0]  # a spreadsheet sums these
    assert str(out["下单日期"].iloc[0]) == "2024-04-02"                   # a date, not 00:00:00


def test_save_table_writes_raw_parquet_and_labelled_csv(tmp_path):
    st = Stage("99_test", tmp_path, tmp_path / "wh", "en")
    df = _awkward()
    st.save_table("t", df)
    back = pd.read_parquet(tmp_path / "data" / "99_test" / "t.parquet")
    assert back["channel"].tolist()[:2] == ["online", "distribution"] and back["tag_potential"].dtype == bool
    csv = pd.read_csv(tmp_path / "data" / "99_test" / "t.csv", encoding="utf-8-sig")
    assert "Channel" in csv.columns and "Channel (ID)" in csv.columns and "channel" not in csv.columns
    assert csv["Potential"].tolist() == ["Yes", "No", "Yes"]
    assert csv["Customer name"].tolist()[2] == "'=HYPERLINK(1)"  # still formula-safe
    xlsx = pd.read_excel(tmp_path / "data" / "99_test" / "t.xlsx")
    assert xlsx.columns.tolist() == csv.columns.tolist()
    empty = st.labelled(df.head(0), empty="na_missing")
    assert empty.data == "> no data"


# --- one name per figure ------------------------------------------------------------------------------

def _headline_keys() -> set[str]:
    keys = set()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                keys |= set(re.findall(r'st\.headline\(\s*"([^"]+)"', "".join(cell["source"])))
    return keys


def test_every_headline_figure_has_a_definition_in_both_languages():
    keys = _headline_keys()
    assert len(keys) > 40
    assert keys <= set(glossary.KEYS), sorted(keys - set(glossary.KEYS))
    for lang in LANGS:
        for key, name, text in glossary.entries(lang):
            assert name == i18n.t(key, lang) and len(text) > 40
            assert ("单位" in text and "来源" in text) if lang == "zh-CN" else ("Unit:" in text and "source:" in text)
            assert glossary.kind(key) in F.KINDS


def test_no_two_headline_figures_share_a_name():
    for lang in LANGS:
        names = [n for _, n, _ in glossary.entries(lang)]
        dupes = {n for n in names if names.count(n) > 1}
        assert not dupes, (lang, dupes)


def test_the_four_churn_measures_have_four_self_explaining_names():
    keys = ("churn_risk_tagged", "churn_at_risk", "tier_churn_risk", "lc_at_risk")
    for lang in LANGS:
        names = [i18n.t(k, lang) for k in keys]
        assert len(set(names)) == 4, names
    assert "规则" in i18n.t("churn_risk_tagged", "zh-CN") and "rule" in i18n.t("churn_risk_tagged", "en")
    assert "模型" in i18n.t("churn_at_risk", "zh-CN") and "model" in i18n.t("churn_at_risk", "en")
    assert "分层" in i18n.t("tier_churn_risk", "zh-CN") and "tier" in i18n.t("tier_churn_risk", "en")
    assert "生命周期" in i18n.t("lc_at_risk", "zh-CN") and "lifecycle" in i18n.t("lc_at_risk", "en")
    assert "not the rule tag" in glossary.definition("churn_at_risk", "en")


def test_footnote_names_the_figure_and_defines_it():
    md = glossary.footnote(["revenue", "gross_margin"], "zh-CN").data
    assert md.count("定义") == 2 and "**销售额**" in md and "退货" in md


def test_no_story_prints_ten_thousand_by_hand():
    # money in sentences goes through saleslab.report.format.money (its unit follows amount and language)
    for story in sorted((ROOT / "lib" / "saleslab").glob("*/story.py")):
        text = story.read_text(encoding="utf-8")
        assert "wan(" not in text and "/ 1e4" not in text, story
    stories = {k: v for k, v in i18n.LABELS.items() if k.startswith("story_")}
    assert not [k for k, v in stories.items() if "{unit}" in v[0] + v[1]]


def test_helpers_agree_with_fmt_on_missing_values():
    assert F.count(float("nan")) == F.NA and F.number(float("inf")) == F.NA and F.percent(None) == F.NA


def test_conventions_for_awkward_columns():
    df = pd.DataFrame({"coverage_measure": ["known_customer"], "coverage": [0.995], "target": [0.98],
                       "table": ["lead_stages"], "cohort_month": ["2025-11-01"], "monetary": [23_456.0]})
    frame, _, _ = tables.display_frame(df, "zh-CN")
    # a coverage target of 0.98 is a share, not 0.98 元; the table code is the label table_lead_stages
    assert frame.iloc[0].tolist() == ["客户已知", "99.5%", "98.0%", "线索阶段记录", "2025年11月", "2.35"]
    assert frame.columns[-1] == "消费金额（万元）"  # the label's own "(元)" gives way to the column's unit
    team = pd.DataFrame({"team": ["T1"], "target": [1_500_000.0]})
    assert tables.display_frame(team, "en")[0].columns.tolist() == ["Team", "Target (CNY M)"]
    people = tables.for_people(pd.DataFrame({"order_date": ["2024-04-02 00:00:00"]}), "en")
    assert people.iloc[0, 0] == "2024-04-02"


def test_stage_definitions_footnote_in_the_run_language(tmp_path):
    st = Stage("99_test", tmp_path, tmp_path / "wh", "en")
    text = st.definitions(["churn_at_risk", "lc_at_risk"]).data
    assert "Definition · **Customers at high predicted churn risk (model)**" in text
    assert "lifecycle_at_risk_days" in text and not re.search(r"[\u4e00-\u9fff]", text)
