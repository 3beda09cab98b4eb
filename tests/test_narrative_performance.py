"""The performance narrative names the latest month, the biggest movements and their drivers in both languages."""

import datetime as dt

import pandas as pd

from saleslab.performance import analysis
from saleslab.performance import story

D = dt.date


def test_headline_names_movements_and_drivers_in_both_languages():
    monthly = pd.DataFrame({"period": [D(2024, 1, 1), D(2024, 2, 1)], "revenue": [400.0, 300.0],
                            "pop_growth": [None, -0.25], "yoy_growth": [None, 0.2], "gross_margin": [0.4, 0.3]})
    cube = pd.DataFrame([(D(2024, 1, 1), "east", "retail", 200.0), (D(2024, 1, 1), "south", "online", 200.0),
                         (D(2024, 2, 1), "east", "retail", 60.0), (D(2024, 2, 1), "south", "online", 240.0)],
                        columns=["period", "region", "channel", "revenue"])
    mv = analysis.biggest_movements(cube, D(2024, 2, 1), ("region", "channel"), top=1, comparisons=("pop",))
    zh = story.performance_headline(monthly, mv, "zh-CN")
    en = story.performance_headline(monthly, mv, "en")
    assert "2024年02月" in zh and "环比 **-25.0%**" in zh and "华东 销售额环比下降 70.0%" in zh and "门店零售" in zh
    assert "Feb 2024" in en and "East China revenue down 70.0% vs the previous month" in en
    assert "100% of the drop came from Retail stores" in en


def test_correlation_text_says_association_not_cause():
    corr = pd.DataFrame({"channel": ["online"], "n": [12], "pearson": [0.81], "spearman": [0.7]})
    assert "not that spend caused" in story.correlation_text(corr, "en")
    assert "不代表投入带来了销售" in story.correlation_text(corr, "zh-CN")
    assert "r=0.81" in story.correlation_text(corr, "en")
