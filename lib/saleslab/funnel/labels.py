"""Labels of the funnel stage (domain.md §7): stages, outcomes, cuts, lead sources, ROI."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"stage_conversion", "stage_conversion_lo", "stage_conversion_hi", "drop_off", "reach_rate", "lead_win_rate",
          "worst_conversion", "overall_conversion"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "10_funnel": ("销售漏斗", "Sales funnel"),
    # stage codes of the tables
    "funnel_lead": ("线索获取", "Lead"),
    "funnel_needs": ("需求沟通", "Needs analysis"),
    "funnel_proposal": ("方案报价", "Proposal / quote"),
    "funnel_contract": ("合同签订", "Contract"),
    "funnel_repeat": ("售后复购", "Repeat purchase"),
    # columns
    "funnel_stage": ("漏斗阶段", "Funnel stage"),
    "stage_order": ("阶段序号", "Stage no."),
    "leads_entered": ("进入线索数", "Leads entered"),
    "leads_converted": ("转入下一阶段", "Converted"),
    "leads_dropped": ("流失线索数", "Dropped"),
    "leads_open": ("未结线索数", "Still open"),
    "lost_stage_unknown": ("流失阶段未知", "Lost, stage unknown"),
    "stage_conversion": ("阶段转化率", "Stage conversion"),
    "stage_conversion_lo": ("转化率下限", "Conversion (low)"),
    "stage_conversion_hi": ("转化率上限", "Conversion (high)"),
    "drop_off": ("流失率", "Drop-off"),
    "reach_rate": ("到达率", "Reach rate"),
    "stage_median_days": ("阶段停留中位天数", "Median days in stage"),
    "stage_p90_days": ("阶段停留P90天数", "P90 days in stage"),
    "funnel_cut": ("维度", "Cut"),
    "funnel_cut_value": ("维度取值", "Value"),
    "lead_source": ("线索来源", "Lead source"),
    "industry": ("行业", "Industry"),
    "entry_month": ("进入月份", "Month of entry"),
    "cohort_leads": ("线索数", "Leads"),
    "leads_won": ("签约线索数", "Won"),
    "leads_lost": ("已流失线索数", "Lost"),
    "lead_win_rate": ("赢单率", "Win rate"),
    "cycle_median_days": ("成交周期中位天数", "Median sales cycle (days)"),
    "cycle_p90_days": ("成交周期P90天数", "P90 sales cycle (days)"),
    "closed_outcomes": ("已结阶段数", "Closed stage outcomes"),
    "expected_dropped": ("按整体转化率应流失", "Expected dropped (overall rates)"),
    "excess_dropped": ("超额流失", "Excess dropped"),
    "worst_stage": ("损失最大阶段", "Worst stage"),
    "worst_conversion": ("该阶段转化率", "Its conversion"),
    "overall_conversion": ("该阶段整体转化率", "Overall conversion there"),
    "won_unlinked": ("签约但无客户编号", "Won without customer id"),
    "won_revenue": ("签约客户销售额", "Revenue of won customers"),
    "acquisition_cost": ("获客投入", "Acquisition spend"),
    "cost_basis": ("费用来源", "Cost basis"),
    # codes
    "cost_parameter": ("参数给定", "Parameter"),
    "cost_missing": ("数据中没有", "Not in the data"),
    "展会": ("展会", "Trade show"),
    "线上推广": ("线上推广", "Online ads"),
    "转介绍": ("转介绍", "Referral"),
    "电话营销": ("电话营销", "Cold calls"),
    "官网咨询": ("官网咨询", "Website enquiry"),
    "制造业": ("制造业", "Manufacturing"),
    "零售业": ("零售业", "Retail"),
    "服务业": ("服务业", "Services"),
    "其他": ("其他", "Other"),
    # charts, sections and headlines
    "funnel_overview": ("销售漏斗总览", "Funnel overview"),
    "funnel_stages": ("各阶段", "Stages"),
    "funnel_by_cut": ("分维度漏斗", "Funnel by cut"),
    "funnel_losses": ("损失最大的来源与代表", "Where the biggest loss sits"),
    "funnel_cohorts": ("按进入月份的队列", "Cohorts by month of entry"),
    "funnel_source_roi": ("线索来源投入产出", "Lead-source ROI and CAC"),
    "funnel_source_conversion": ("各线索来源的阶段转化率", "Stage conversion by lead source"),
    "funnel_win_rate": ("线索赢单率", "Lead win rate"),
    "funnel_open_leads": ("未结线索", "Open leads"),
    "funnel_cycle_days": ("成交周期中位天数", "Median sales cycle (days)"),
    "funnel_cac": ("获客成本", "CAC"),
    "funnel_leads_axis": ("线索数", "Leads"),
    # story templates
    "story_funnel_empty": ("本期间没有进入漏斗的线索。", "No lead entered the funnel in this period."),
    "story_funnel_loss_source": (
        "1. **最大的损失在线索来源 {source}**：各阶段流失 {dropped} 条，比按整体转化率预计多 **{excess}** 条，"
        "主要在「{stage}」（转化率 {rate}，整体 {overall}）。{more}",
        "1. **The biggest loss sits with lead source {source}**: {dropped} leads dropped across the stages, "
        "**{excess}** more than the overall conversion rates would lose, mostly at \"{stage}\" ({rate} "
        "against {overall} overall). {more}"),
    "story_funnel_loss_more": ("其次：{names}。", "Next: {names}."),
    "story_funnel_loss_rep": (
        "2. 销售代表中超额流失最多的是 **{names}**。",
        "2. Among reps, the most excess loss is with **{names}**."),
    "story_funnel_no_loss": (
        "1. 没有线索来源的流失高于整体转化率（至少 {min_leads} 个已结阶段才参与排名）。",
        "1. No lead source loses more than the overall conversion rates would (ranked with at least "
        "{min_leads} closed stage outcomes)."),
    "story_funnel_no_rep_loss": ("2. 没有销售代表的流失高于整体转化率。", "2. No rep loses more than the overall rates."),
    "story_funnel_overall": (
        "3. 本期进入漏斗 {leads} 条线索：{steps}；签约 {won} 条（已结线索的赢单率 {win_rate}），"
        "**{open} 条仍未结**，不计为流失。",
        "3. {leads} leads entered the funnel in the period: {steps}; {won} were won (win rate of the closed "
        "leads {win_rate}); **{open} are still open** and not counted as lost."),
    "story_funnel_step": ("{stage} {rate}", "{stage} {rate}"),
    "story_funnel_sources": (
        "4. 转化最好的来源是 **{best}**（线索到签约 {best_rate}），最差的是 **{worst}**（{worst_rate}）。",
        "4. The best-converting source is **{best}** (lead to contract {best_rate}), the worst **{worst}** "
        "({worst_rate})."),
    "story_funnel_cycle": (
        "5. 成交周期（进入漏斗到签约）中位数 {median} 天，90% 的签约在 {p90} 天内。",
        "5. The sales cycle (entry to contract) has a median of {median} days; 90 % of the wins took at most "
        "{p90} days."),
    "story_funnel_roi_missing": (
        "按线索来源的获客费用不在数据中（渠道费用只按销售渠道记录，活动按销售渠道记录），来源的 ROI 与 CAC "
        "需要参数 `funnel_source_costs`。{channel} 渠道的获客费用 {cost} 对应 {new} 个新客户："
        "整体获客成本 {cac} 元，签约客户至今销售额 {revenue}，投入产出比 {roi}。",
        "The acquisition cost per lead source is not in the data (channel costs are recorded per sales "
        "channel, campaigns per sales channel): the sources' ROI and CAC need the parameter "
        "`funnel_source_costs`. The {channel} channel's acquisition spend of {cost} won {new} new "
        "customers: an overall CAC of {cac} CNY; the won customers have bought {revenue} since, an "
        "ROI of {roi}."),
    "story_funnel_roi_no_costs": (
        "按线索来源的获客费用不在数据中，也没有渠道费用数据：ROI 与 CAC 无法计算（可用参数 `funnel_source_costs` 给出）。"
        "签约客户至今销售额 {revenue}。",
        "Neither a cost per lead source nor channel costs are in the data: ROI and CAC cannot be computed "
        "(the parameter `funnel_source_costs` can give them). The won customers have bought {revenue} since."),
    "story_funnel_roi": (
        "按参数给定的来源费用：{items}。", "With the source costs given as parameters: {items}."),
    "story_funnel_roi_item": ("{source} CAC {cac} 元、ROI {roi}", "{source} CAC {cac} CNY, ROI {roi}"),
    "story_funnel_open_cohorts": (
        "{months} 个进入月份（最近为 {last}）还有 {open} 条未结线索：这些队列的赢单率尚未成熟（签约比流失来得慢）。",
        "{months} entry months (the latest {last}) still hold {open} open leads: their win rate is not final "
        "yet (wins come later than losses)."),
}
