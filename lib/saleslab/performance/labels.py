"""Labels of the overview (01_overview) and performance (02_performance) stages: KPI cube,
comparisons, shares, anomalies, drivers of change, marketing spend vs revenue, and the story
templates (``story_performance_*``, ``{name}`` placeholders, one template per finding in both
languages). Keys shared with other stages carry the same texts."""

#: Columns that hold shares or growth rates (shown as percentages).
SHARES = {"share", "share_prev", "share_change", "yoy_growth", "pop_growth", "achievement_rate",
          "collection_rate", "deviation", "pct_change", "driver_share", "share_of_change"}

#: Columns that hold amounts in 元 (one unit per column in tables).
MONEY = {"actual", "base_value", "change", "driver_change", "expected", "target", "value", "value_a", "value_b"}

LABELS: dict[str, tuple[str, str]] = {
    # codes and columns shown in tables (issue 13)
    "value_a": ("比较期销售额", "Revenue, earlier period"),
    "value_b": ("本期销售额", "Revenue, this period"),
    "share_of_change": ("占变动比例", "Share of the change"),
    "02_performance": ("业绩分析", "Sales performance"),
    # cube columns
    "volume": ("销量", "Volume"),
    "new_customers": ("新客户数", "New customers"),
    "revenue_per_customer": ("单客价值", "Revenue per customer"),
    "reps": ("人数", "Reps"),
    "rep_revenue": ("有销售代表订单销售额", "Revenue with a rep"),
    "revenue_per_rep": ("人均销售额", "Revenue per rep"),
    "revenue_last_year": ("去年同期销售额", "Revenue same period last year"),
    "yoy_growth": ("同比增长", "YoY growth"),
    "revenue_prev_period": ("上期销售额", "Revenue previous period"),
    "pop_growth": ("环比增长", "Period-over-period growth"),
    "complete": ("完整期间", "Complete period"),
    "target": ("目标", "Target"),
    "achievement_rate": ("目标达成率", "Achievement rate"),
    "target_level": ("目标层级", "Target level"),
    "gap_to_target": ("距目标差额", "Gap to target"),
    "change_vs_last_year": ("同比增减额", "Change vs last year"),
    "achievement_band": ("达成档位", "Achievement band"),
    "above": ("超额(达到奖励线)", "Above (reward tier)"),
    "on_track": ("正常", "On track"),
    "below": ("偏低(辅导线及以下)", "Below (coaching list)"),
    "no_target": ("无目标", "No target"),
    "category": ("品类", "Category"),
    "price_band": ("价格带", "Price band"),
    "product_id": ("产品编号", "Product ID"),
    "team": ("团队", "Team"),
    "rep_id": ("销售代表编号", "Rep"),
    "unknown": ("未知", "Unknown"),
    # collection
    "invoices": ("发票数", "Invoices"),
    "invoiced": ("应收金额(到期)", "Invoiced (due)"),
    "collected": ("已回款", "Collected"),
    "collection_rate": ("回款率", "Collection rate"),
    # structure
    "share": ("占比", "Share"),
    "share_prev": ("上期占比", "Share, previous period"),
    "share_change": ("占比变化", "Change of share"),
    # anomalies and drivers
    "value": ("数值", "Value"),
    "gap": ("偏离金额", "Gap to expected"),
    "expected": ("预期值", "Expected"),
    "deviation": ("偏离", "Deviation"),
    "is_anomaly": ("异常", "Anomaly"),
    "direction": ("方向", "Direction"),
    "method": ("预期方法", "Expectation"),
    "up": ("偏高", "High"),
    "down": ("偏低", "Low"),
    "seasonal": ("去年同期×趋势", "Last year × trend"),
    "median": ("滚动中位数", "Rolling median"),
    "comparison": ("对比", "Comparison"),
    "pop": ("环比", "vs previous month"),
    "yoy": ("同比", "vs last year"),
    "dimension": ("维度", "Dimension"),
    "segment": ("细分", "Segment"),
    "base_period": ("对比期间", "Base period"),
    "base_value": ("对比期数值", "Base value"),
    "change": ("变化额", "Change"),
    "pct_change": ("变化率", "Change %"),
    "driver_dimension": ("主因维度", "Driver dimension"),
    "driver_segment": ("主因细分", "Driver"),
    "driver_change": ("主因变化额", "Driver change"),
    "driver_share": ("主因贡献占比", "Driver share of change"),
    # marketing spend vs revenue
    "channel_costs": ("渠道费用", "Channel costs"),
    "campaign_spend": ("营销活动投入", "Campaign spend"),
    "spend": ("营销投入", "Marketing spend"),
    "n": ("月数", "Months"),
    "pearson": ("皮尔逊相关系数", "Pearson r"),
    "spearman": ("斯皮尔曼相关系数", "Spearman ρ"),
    # headlines and charts
    "latest_month_revenue": ("最近月份销售额", "Revenue, latest month"),
    "ytd_achievement": ("年初至今目标达成率", "Achievement, year to date"),
    "revenue_vs_last_year": ("月度销售额与去年同期", "Monthly revenue vs last year"),
    "achievement_by_region": ("各区域目标达成率(年初至今)", "Achievement by region (year to date)"),
    "target_line": ("目标线 100%", "Target 100%"),
    "channel_region_share": ("各区域渠道结构(销售额占比)", "Channel mix by region (revenue share)"),
    "anomaly_chart": ("月度销售额与预期(异常标红)", "Monthly revenue vs expected (anomalies in red)"),
    "anomaly": ("异常", "Anomaly"),
    "segment_anomalies": ("区域×渠道异常", "Anomalies by region and channel"),
    "price_band_ytd": ("各价格带业绩(年初至今)", "Price bands (year to date)"),
    "anomaly_band": ("预期 ±{threshold}", "Expected ±{threshold}"),
    "achievement_reward_line": ("奖励线 {value}", "Reward tier {value}"),
    "achievement_coaching_line": ("辅导线 {value}", "Coaching list {value}"),
    # story templates ({name} placeholders; one template per finding, both languages)
    "story_performance_empty": ("本期间没有销售数据。", "There are no sales in this period."),
    "story_performance_overview_total": (
        "{first:%Y年%m月}至{last:%Y年%m月}销售额 **{revenue}**，毛利率 **{margin}**。"
        "销售额最高的月份是 {best:%Y年%m月}（{best_revenue}）。",
        "Revenue from {first:%b %Y} to {last:%b %Y} was **{revenue}** at a gross margin of **{margin}**. "
        "The best month was {best:%b %Y} ({best_revenue})."),
    "story_performance_overview_total_no_cost": (
        "{first:%Y年%m月}至{last:%Y年%m月}销售额 **{revenue}**（本仓库没有产品单位成本，毛利率未知）。"
        "销售额最高的月份是 {best:%Y年%m月}（{best_revenue}）。",
        "Revenue from {first:%b %Y} to {last:%b %Y} was **{revenue}** (the gross margin is unknown: no "
        "source gives unit costs of the products). The best month was {best:%b %Y} ({best_revenue})."),
    "story_performance_overview_grew": ("最近12个月销售额较前12个月增长 **{growth}**。",
                                        " The last 12 months grew **{growth}** against the 12 months before."),
    "story_performance_overview_fell": ("最近12个月销售额较前12个月下降 **{growth}**。",
                                        " The last 12 months fell **{growth}** against the 12 months before."),
    "story_performance_latest": (
        "**{month:%Y年%m月}** 销售额 **{revenue}**，环比 **{pop}**，同比 **{yoy}**；毛利率 {margin}。",
        "Revenue in **{month:%b %Y}** was **{revenue}**: **{pop}** on the month before and **{yoy}** on "
        "a year earlier; gross margin {margin}."),
    "story_performance_latest_no_cost": (
        "**{month:%Y年%m月}** 销售额 **{revenue}**，环比 **{pop}**，同比 **{yoy}**（没有产品单位成本，毛利率未知）。",
        "Revenue in **{month:%b %Y}** was **{revenue}**: **{pop}** on the month before and **{yoy}** on "
        "a year earlier (gross margin unknown: no unit costs of the products)."),
    "story_performance_movements": ("**前 {n} 大变动及主因：**", "**The biggest movements and what drove them:**"),
    "story_performance_vs_pop": ("环比", "vs the previous month"),
    "story_performance_vs_yoy": ("同比", "vs last year"),
    "story_performance_movement_up": ("{i}. {segment} 销售额{comparison}增长 {pct}（+{change}）{driver}。",
                                      "{i}. {segment} revenue up {pct} {comparison} (+{change}){driver}."),
    "story_performance_movement_down": ("{i}. {segment} 销售额{comparison}下降 {pct}（−{change}）{driver}。",
                                        "{i}. {segment} revenue down {pct} {comparison} (−{change}){driver}."),
    "story_performance_movement_up_amount": ("{i}. {segment} 销售额{comparison}增加（+{change}）{driver}。",
                                             "{i}. {segment} revenue up {comparison} (+{change}){driver}."),
    "story_performance_movement_down_amount": ("{i}. {segment} 销售额{comparison}减少（−{change}）{driver}。",
                                               "{i}. {segment} revenue down {comparison} (−{change}){driver}."),
    "story_performance_driver_gain": ("，其中 {share} 的增量来自 {driver}", "; {share} of the gain came from {driver}"),
    "story_performance_driver_drop": ("，其中 {share} 的降幅来自 {driver}", "; {share} of the drop came from {driver}"),
    "story_performance_no_anomaly": ("没有偏离预期超过 {threshold} 的月份。",
                                     "No month deviated from its expected level by more than {threshold}."),
    "story_performance_anomalies": (
        "共 {n} 个月份/细分偏离预期超过 {threshold}（{expected}）。"
        "金额偏离最大的是 {month:%Y年%m月} {segment}：{deviation}（{sign}{gap}）。",
        "{n} month/segment values deviated from their expected level by more than {threshold} ({expected}). "
        "The largest in money: {segment} in {month:%b %Y}, {deviation} ({sign}{gap})."),
    "story_performance_expected_seasonal": ("预期 = 去年同期 × 近期趋势，历史不足时用滚动中位数",
                                            "expected = same month last year × recent trend, or a rolling median "
                                            "where history is short"),
    "story_performance_expected_median": ("预期 = 前几期的滚动中位数", "expected = rolling median of the previous periods"),
    "story_performance_no_spend": ("没有可比较的营销投入数据。", "There is no marketing spend to compare with revenue."),
    "story_performance_correlation": (
        "营销投入与销售额的月度相关性（皮尔逊 r / 斯皮尔曼 ρ）：{channels}。"
        "相关只说明两者同向变动，不代表投入带来了销售：预算常按预期销售安排，季节也同时推动两者。",
        "Monthly association of marketing spend with revenue (Pearson r / Spearman ρ): {channels}. "
        "Correlation says the two moved together, not that spend caused sales: budgets often follow "
        "expected sales, and seasons drive both."),
    "story_performance_list_sep": ("；", "; "),
    "story_performance_definitions": ("口径：销售额为扣除折扣与退货后的金额，{returns}。",
                                      "Definitions: revenue is net of discounts and returns, {returns}."),
    "story_performance_definitions_target": (
        "口径：销售额为扣除折扣与退货后的金额，{returns}；目标达成率 = {achievement} / 目标。",
        "Definitions: revenue is net of discounts and returns, {returns}; achievement = {achievement} / target."),
    "story_performance_returns_return_date": ("退货计入退货日期所在期间", "returns counting in the period of their return date"),
    "story_performance_returns_order_date": ("退货计入原订单日期所在期间",
                                             "returns counting in the period of their original order's date"),
    "story_performance_achievement_definition": ("口径：目标达成率 = {achievement} / 目标。",
                                                 "Definition: achievement = {achievement} / target."),
    "story_performance_achievement_net": ("扣除退货后的销售额", "revenue net of returns"),
    "story_performance_achievement_gross": ("未扣退货的销售总额", "gross sales before returns"),
    # the executive summary's year-to-date figures (kpis.year_to_date; issue 13)
    "ytd_revenue": ("年初至今销售额", "Revenue, year to date"),
    "ytd_gross_margin": ("年初至今毛利率", "Gross margin, year to date"),
    "ytd_orders": ("年初至今订单数", "Orders, year to date"),
    "ytd_active_customers": ("年初至今活跃客户数", "Active customers, year to date"),
}
