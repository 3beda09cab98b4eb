"""The overview and performance stories and charts: templates in both languages, the thresholds
and definitions the tables were computed with."""

import datetime as dt
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from saleslab.facts import Params as FactsParams
from saleslab.params import attach
from saleslab.performance import analysis, charts, story
from saleslab.performance.params import Params
from saleslab.team.params import Params as TeamParams

D = dt.date
LANGS = ("zh-CN", "en")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def months(n, first=D(2023, 1, 1)):
    return [(pd.Timestamp(first) + pd.DateOffset(months=i)).date() for i in range(n)]


@pytest.fixture
def headline_inputs():
    monthly = pd.DataFrame({"period": [D(2024, 1, 1), D(2024, 2, 1)], "revenue": [400_000.0, 300_000.0],
                            "pop_growth": [None, -0.25], "yoy_growth": [None, 0.2], "gross_margin": [0.4, 0.3]})
    cube = pd.DataFrame([(D(2024, 1, 1), "east", "retail", 200_000.0), (D(2024, 1, 1), "south", "online", 200_000.0),
                         (D(2024, 2, 1), "east", "retail", 60_000.0), (D(2024, 2, 1), "south", "online", 240_000.0)],
                        columns=["period", "region", "channel", "revenue"])
    mv = analysis.biggest_movements(cube, D(2024, 2, 1), ("region", "channel"), Params(top_movements=2),
                                    comparisons=("pop",))
    return monthly, mv


def test_headline_names_movements_and_drivers_in_both_languages(headline_inputs):
    monthly, mv = headline_inputs
    zh = story.performance_headline(monthly, mv, "zh-CN")
    en = story.performance_headline(monthly, mv, "en")
    assert zh.startswith("**2024年02月** 销售额 **30.0 万元**，环比 **-25.0%**，同比 **+20.0%**；毛利率 30.0%。")
    assert "**前 2 大变动及主因：**" in zh
    assert "1. 华东 销售额环比下降 70.0%（−14.0 万元），其中 100% 的降幅来自 门店零售。" in zh
    assert en.startswith("Revenue in **Feb 2024** was **CNY 300 K**: **-25.0%** on the month before")
    assert "1. East China revenue down 70.0% vs the previous month (−CNY 140 K); 100% of the drop came " \
           "from Retail stores." in en
    # the second movement (retail, the same change) is kept out: one movement per segment and dimension
    assert mv["segment"].tolist() == ["east", "retail"]


def test_english_stories_have_no_chinese_and_chinese_stories_no_english(headline_inputs):
    monthly, mv = headline_inputs
    overview = pd.DataFrame({"month": months(24), "revenue": [100.0] * 12 + [120.0] * 12,
                             "gross_profit": [40.0] * 24})
    overview = attach(overview, FactsParams())
    anoms = analysis.anomalies(pd.DataFrame({"period": months(8), "region": "east", "channel": "online",
                                             "revenue": [100.0] * 6 + [150.0, 90.0]}),
                               by=("region", "channel"), method="median")
    corr = pd.DataFrame({"channel": ["online", "retail"], "n": [12, 2], "pearson": [0.81, float("nan")],
                         "spearman": [0.7, float("nan")]})
    for lang in LANGS:
        texts = [story.performance_headline(monthly, mv, lang), story.overview_narrative(overview, lang),
                 story.anomaly_text(analysis.flagged(anoms), lang), story.correlation_text(corr, lang),
                 story.definitions_text(overview, lang), story.performance_headline(monthly.iloc[:0], mv, lang)]
        for text in texts:
            if lang == "en":
                assert not CHINESE.search(text), text
            else:
                assert not ENGLISH_WORD.search(text), text


def test_overview_narrative_states_total_best_month_and_twelve_month_growth():
    overview = pd.DataFrame({"month": months(24), "revenue": [100_000.0] * 12 + [110_000.0] * 11 + [200_000.0],
                             "gross_profit": [40_000.0] * 24})
    zh = story.overview_narrative(overview, "zh-CN")
    en = story.overview_narrative(overview, "en")
    # total 1200000 + 1210000 + 200000 = 2610000 元 = 261.0 万元; margin 960000 / 2610000
    assert zh.startswith("2023年01月至2024年12月销售额 **261.0 万元**，毛利率 **36.8%**。")
    assert "销售额最高的月份是 2024年12月（20.0 万元）" in zh and "增长 **17.5%**" in zh  # 1410000 / 1200000 - 1
    assert "Revenue from Jan 2023 to Dec 2024 was **CNY 2.61 M**" in en
    assert "The best month was Dec 2024 (CNY 200 K). The last 12 months grew **17.5%**" in en
    short = story.overview_narrative(overview.iloc[:12], "en")
    assert "last 12 months" not in short  # fewer than 24 months: no growth sentence


def test_anomaly_story_and_chart_use_the_threshold_the_table_was_computed_with():
    series = pd.DataFrame({"period": months(8), "revenue": [100_000.0] * 6 + [135_000.0, 100_000.0]})
    strict = analysis.anomalies(series, Params(anomaly_threshold=0.3), method="median")
    loose = analysis.anomalies(series, Params(anomaly_threshold=0.4), method="median")
    assert strict["is_anomaly"].tolist() == [False, False, False, True, False]  # +35 % > 30 %
    assert not loose["is_anomaly"].any()
    zh = story.anomaly_text(analysis.flagged(strict), "zh-CN")
    en = story.anomaly_text(analysis.flagged(strict), "en")
    assert zh.startswith("共 1 个月份/细分偏离预期超过 30%（预期 = 前几期的滚动中位数）。")
    assert "2023年07月" in zh and "+35.0%（+3.50 万元）" in zh
    assert en.startswith("1 month/segment values deviated from their expected level by more than 30% "
                         "(expected = rolling median of the previous periods).")
    assert story.anomaly_text(analysis.flagged(loose), "en") == \
        "No month deviated from its expected level by more than 40%."
    fig = charts.anomaly_chart(strict, "en")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "Expected ±30%" in labels
    band = [c for c in fig.axes[0].collections if c.get_label() == "Expected ±30%"][0]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(130_000.0) and ys.min() == pytest.approx(70_000.0)  # expected 100000 ± 30 %
    plt.close(fig)


def test_achievement_chart_draws_the_reward_and_coaching_lines_of_the_bands():
    cube = pd.DataFrame([(D(2024, 1, 1), "east", 2400.0, 2000.0, "region"), (D(2024, 1, 1), "south", 100.0, 500.0,
                                                                            "region")],
                        columns=["period", "region", "revenue", "target", "target_level"]).assign(
        revenue_last_year=float("nan"))
    vs = analysis.comparison(cube, "region", TeamParams(reward_min=1.3, coaching_max=0.5))
    fig = charts.achievement_chart(vs, "zh-CN")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln.get_ydata()[0] for ln in ax.lines}
    assert lines == {"目标线 100%": 1.0, "奖励线 130%": 1.3, "辅导线 50%": 0.5}
    assert [p.get_height() for p in ax.patches] == [pytest.approx(1.2), pytest.approx(0.2)]
    assert [tx.get_text() for tx in ax.get_xticklabels()] == ["华东", "华南"]
    plt.close(fig)


def test_correlation_text_says_association_not_cause():
    corr = pd.DataFrame({"channel": ["online", "retail"], "n": [12, 2], "pearson": [0.81, float("nan")],
                         "spearman": [0.7, float("nan")]})
    en = story.correlation_text(corr, "en")
    zh = story.correlation_text(corr, "zh-CN")
    assert "Online r=0.81 / ρ=0.70; Retail stores –." in en and "not that spend caused" in en
    assert "线上电商 r=0.81 / ρ=0.70；门店零售 –。" in zh and "不代表投入带来了销售" in zh
    assert story.correlation_text(corr.iloc[:0], "en") == "There is no marketing spend to compare with revenue."


def test_definitions_say_which_returns_and_achievement_basis_were_used():
    table = attach(pd.DataFrame({"achievement_rate": [1.0]}), FactsParams(returns_basis="order_date",
                                                                          achievement_basis="gross"))
    assert story.definitions_text(table, "en") == (
        "Definitions: revenue is net of discounts and returns, returns counting in the period of their original "
        "order's date; achievement = gross sales before returns / target.")
    assert story.definitions_text(table.drop(columns="achievement_rate"), "zh-CN") == \
        "口径：销售额为扣除折扣与退货后的金额，退货计入原订单日期所在期间。"
