"""Labels of the campaign stage (domain.md §10): funnel counts, association vs effect, intervals, placebo."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"ctr", "conversion_rate", "lift_pct", "lift_pct_lo", "lift_pct_hi"}

LABELS: dict[str, tuple[str, str]] = {
    # codes and columns shown in tables (issue 13)
    "post": ("活动期", "Campaign period"),
    "week": ("周次", "Week"),
    # stage
    "11_campaigns": ("营销活动效果", "Campaign effects"),
    # columns
    "campaign_id": ("活动编号", "Campaign"),
    "campaign_name": ("活动名称", "Campaign name"),
    "name": ("名称", "Name"),
    "start_date": ("开始日期", "Start"),
    "end_date": ("结束日期", "End"),
    "visits": ("访问量", "Visits"),
    "clicks": ("点击量", "Clicks"),
    "ctr": ("点击率", "Click-through rate"),
    "attributed_orders": ("带活动编号的订单", "Orders carrying the campaign"),
    "attributed_revenue": ("关联销售额(带活动编号)", "Attributed revenue (orders carrying the campaign)"),
    "attributed_roi": ("关联投入产出比", "Attributed ROI"),
    "lift_abs": ("增量销售额", "Incremental revenue"),
    "lift_lo": ("增量下限", "Incremental, low"),
    "lift_hi": ("增量上限", "Incremental, high"),
    "lift_pct": ("增幅", "Lift"),
    "lift_pct_lo": ("增幅下限", "Lift, low"),
    "lift_pct_hi": ("增幅上限", "Lift, high"),
    "lift_method": ("估计方法", "Method"),
    "actual": ("实际销售额", "Actual revenue"),
    "counterfactual": ("反事实销售额(无活动时)", "Counterfactual revenue (without the campaign)"),
    "treated_units": ("活动区域数", "Reached regions"),
    "control_units": ("对照区域数", "Control regions"),
    "pre_periods": ("活动前周数", "Weeks before"),
    "post_periods": ("活动周数", "Campaign weeks"),
    "incremental_roi": ("增量投入产出比", "Incremental ROI"),
    "roi_lo": ("增量ROI下限", "Incremental ROI, low"),
    "roi_hi": ("增量ROI上限", "Incremental ROI, high"),
    "effect": ("效果判断", "Effect"),
    "review": ("需复盘", "Review"),
    "note": ("说明", "Note"),
    "fake_start": ("假活动开始周", "Fake start week"),
    "fake_end": ("假活动结束周", "Fake end week"),
    "holds_zero": ("区间包含0", "Interval holds 0"),
    "ds": ("周", "Week"),
    "nationwide": ("全国", "Nationwide"),
    # codes
    "did_cluster": ("双重差分(按区域聚类稳健误差)", "Difference-in-differences (cluster-robust)"),
    "did_few": ("双重差分(对照区域差值序列)", "Difference-in-differences (difference series)"),
    "its": ("中断时间序列(活动前趋势)", "Interrupted time series (pre-period trend)"),
    "effect_up": ("有正向效果", "Positive effect"),
    "effect_none": ("未见效果", "No effect detectable"),
    "effect_down": ("负向效果", "Negative effect"),
    # charts, tables, headlines
    "campaign_count": ("活动数", "Campaigns"),
    "campaign_spend_total": ("活动投入合计", "Campaign spend"),
    "campaign_incremental_total": ("增量销售额合计", "Incremental revenue"),
    "campaigns_with_effect": ("有正向效果的活动数", "Campaigns with a positive effect"),
    "campaigns_to_review": ("需复盘的活动数", "Campaigns to review"),
    "campaign_lift_chart": ("各活动增量销售额及区间", "Incremental revenue per campaign, with interval"),
    "campaign_weekly_chart": ("活动区域每周销售额与反事实", "Weekly revenue of the reached regions vs counterfactual"),
    "placebo_chart": ("安慰剂检验：假活动日期的增量", "Placebo check: incremental revenue at fake dates"),
    "campaign_window": ("活动期", "Campaign weeks"),
    "zero_line": ("零效果", "No effect"),
    "campaign_effects_table": ("活动效果", "Campaign effects"),
    "placebo_table": ("安慰剂检验", "Placebo check"),
    # story templates
    "story_campaigns_words": (
        "**关联与效果不是一回事。** 带活动编号的订单销售额只是“关联”：这些订单没有活动也可能发生。"
        "“效果”是与反事实（没有活动时会卖多少）相比多卖的部分：有对照区域时用双重差分（活动区域与其他区域活动前后之差），"
        "全国性活动没有对照，只能用活动前的趋势外推，可信度更低。区间为 {level} 置信区间。",
        "**Association is not effect.** Revenue of orders carrying a campaign's id is an association: those orders "
        "might have been placed anyway. The effect is what was sold beyond the counterfactual (what would have been "
        "sold without the campaign): with control regions, difference-in-differences (the reached region's change "
        "from before to during the campaign, minus the other regions' change); a nationwide campaign has no control "
        "group and only its pre-period trend carried on, which is weaker evidence. Intervals are {level} intervals."),
    "story_campaigns_best": (
        "1. 有对照区域的活动中，**{name}**（{region}）增量销售额 **{lift}**（区间 {lo} ~ {hi}，增幅 {pct}），"
        "投入 {spend}，增量投入产出比 {roi}（区间 {roi_lo} ~ {roi_hi}）。",
        "1. Among campaigns with control regions, **{name}** ({region}) added **{lift}** (interval {lo} to "
        "{hi}, lift {pct}) on a spend of {spend}: incremental ROI {roi} (interval {roi_lo} to {roi_hi})."),
    "story_campaigns_none_controlled": (
        "1. 没有带对照区域的活动：所有效果估计都只靠活动前趋势（中断时间序列）。",
        "1. No campaign has control regions: every estimate rests on the pre-period trend alone (interrupted time series)."),
    "story_campaigns_null": (
        "2. **{name}**（{region}）的区间包含 0（{lo} ~ {hi}）：看不出效果，尽管带其编号的订单关联销售额达 {attributed}"
        "（关联投入产出比 {att_roi}）——这正是关联不等于效果的例子。",
        "2. **{name}** ({region}) shows no effect the data can tell from noise (interval {lo} to {hi}), although "
        "orders carrying its id brought {attributed} (attributed ROI {att_roi}): association, not effect."),
    "story_campaigns_no_null": (
        "2. 每个有对照区域的活动的区间都不含 0。",
        "2. Every campaign with control regions has an interval away from 0."),
    "story_campaigns_counts": (
        "3. {n} 个活动中 {up} 个有正向效果（区间在 0 以上），{none} 个看不出效果，{down} 个为负；"
        "增量投入产出比低于 {roi_min} 需复盘：{review}。",
        "3. Of {n} campaigns {up} show a positive effect (interval above 0), {none} no detectable effect and {down} a "
        "negative one; incremental ROI below {roi_min}, to review: {review}."),
    "story_campaigns_placebo": (
        "安慰剂检验：把活动日期挪到活动前（那时没有活动，真实效果为 0），{held} / {n} 个区间包含 0"
        "（{level} 区间，约 1/20 会因偶然不含 0）。未通过的：{failed}——其活动效果估计应谨慎看待。",
        "Placebo check: with the campaign moved to fake dates before it (when nothing ran, the true effect is 0), "
        "{held} of {n} intervals hold 0 ({level} intervals: about 1 in 20 misses by chance). Failed: {failed}; read "
        "those campaigns' estimates with caution."),
    "story_campaigns_placebo_all": (
        "安慰剂检验：把活动日期挪到活动前（真实效果为 0），全部 {n} 个区间都包含 0。",
        "Placebo check: with the campaign moved to fake dates before it (true effect 0), all {n} intervals hold 0."),
    "story_campaigns_none": ("本期间没有可估计效果的活动。", "No campaign in this period has an estimate of its effect."),
}
