"""Labels of the lifecycle, cohort, cross-sell and customer 360° stage (domain.md §6)."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"retention_m1", "retention_m3", "retention_m6", "retention_m12", "repurchase_rate", "new_repeat_rate", "churn_rate", "retention_rate", "support", "confidence",
          "p_alive", "churn_probability"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "08_customer_360": ("客户生命周期与360°视图", "Customer lifecycle and 360° view"),
    # lifecycle stages and why
    "stage": ("生命周期阶段", "Lifecycle stage"),
    "stage_reason": ("阶段依据", "Why this stage"),
    "stage_prospect": ("潜在客户", "Prospect"),
    "stage_new": ("新客", "New"),
    "stage_mature": ("成熟客户", "Mature"),
    "stage_at_risk": ("预警客户", "At risk"),
    "stage_churned": ("流失客户", "Churned"),
    "stage_absent": ("不在名单", "Not listed"),
    "why_no_orders": ("已知但从未下单", "Known, never ordered"),
    "why_inactive_churned": ("长期未下单(达到流失天数)", "No order for the churn period"),
    "why_inactive_at_risk": ("较长时间未下单(达到预警天数)", "No order for the warning period"),
    "why_falling_frequency": ("购买频次下降一半以上", "Purchase frequency fell by half or more"),
    "why_recent_first_order": ("首单在新客期内", "First order within the new-customer period"),
    "why_regular_buyer": ("持续购买", "Buying regularly"),
    "known_from": ("来源", "Known from"),
    "from_customers": ("客户主数据", "Customer master"),
    "from_leads": ("CRM线索(有客户编号)", "CRM lead with customer id"),
    "from_open_lead": ("未关闭线索", "Open lead"),
    "from_orders": ("仅订单", "Orders only"),
    # lifecycle columns
    "first_order_date": ("首单日期", "First order"),
    "last_order_date": ("最近下单日期", "Last order"),
    "orders_recent": ("近期订单数", "Recent orders"),
    "orders_prior": ("前期订单数", "Earlier orders"),
    "days_since_last_order": ("距上次下单(天)", "Days since last order"),
    "from_stage": ("上期阶段", "From stage"),
    "to_stage": ("本期阶段", "To stage"),
    "moved": ("阶段变化", "Moved"),
    # cohorts and rates
    "cohort_month": ("首单月份(同期群)", "Cohort (first-order month)"),
    "months_since": ("首单后月数", "Months since first order"),
    "cohort_size": ("同期群人数", "Cohort size"),
    "cohorts": ("同期群数", "Cohorts"),
    "retention_m1": ("第1个月留存", "Retention month 1"),
    "retention_m3": ("第3个月留存", "Retention month 3"),
    "retention_m6": ("第6个月留存", "Retention month 6"),
    "retention_m12": ("第12个月留存", "Retention month 12"),
    "returning_customers": ("老客户数", "Returning customers"),
    "repurchase_rate": ("复购率", "Repurchase rate"),
    "new_repeat_rate": ("新客复购率", "New-customer repeat rate"),
    "customers_at_start": ("月初活跃客户", "Active at month start"),
    "churned_customers": ("流失客户数", "Churned customers"),
    "previous_run": ("上一次运行", "The previous run"),
    "one_month_earlier": ("一个月前", "One month earlier"),
    # charts, headlines, tables
    "lifecycle_by_stage": ("各生命周期阶段客户数", "Customers by lifecycle stage"),
    "lifecycle_by_stage_title": ("各生命周期阶段客户数（新客 <{new_days} 天，预警 ≥{at_risk_days} 天，流失 ≥{churned_days} 天）",
                                 "Customers by lifecycle stage (new < {new_days} days, at risk ≥ {at_risk_days}, "
                                 "churned ≥ {churned_days} days without an order)"),
    "churn_rate_days": ("流失率（{days} 天未下单）", "Churn rate ({days} days without an order)"),
    "stage_flow": ("阶段迁移(上期→本期)", "Stage movements (from → to)"),
    "cohort_heatmap": ("同期群留存率", "Cohort retention"),
    "retention_curves": ("留存曲线", "Retention curves"),
    "all_cohorts": ("全部同期群(加权)", "All cohorts (weighted)"),
    "monthly_customer_rates": ("月度复购率与流失率", "Monthly repurchase and churn rates"),
    "customer_monthly_orders": ("客户月度销售额", "Customer revenue by month"),
    "lifecycle_prospects": ("潜在客户", "Prospects"),
    "lc_active_buyers": ("在册购买客户数", "Buying customers"),
    "lc_at_risk": ("生命周期预警阶段客户数", "Customers in the at-risk lifecycle stage"),
    "lc_churned": ("流失客户数", "Churned customers"),
    "lc_repurchase_rate": ("近12个月复购率", "Repurchase rate (12 months)"),
    "lc_monthly_churn_rate": ("近12个月平均月流失率", "Monthly churn rate (12 months)"),
    "cs_rules": ("交叉销售规则数", "Cross-sell rules"),
    # story templates ({name} placeholders; one template per finding, both languages; numbered by the story)
    "story_lifecycle_stages": ("有购买记录的客户 **{buying}** 位：新客 {new}、成熟客户 {mature}、预警客户 **{at_risk}**、"
                               "流失客户 {churned}（超过 {churned_days} 天未下单）；另有潜在客户 {prospects} 位。",
                               "**{buying}** customers have bought: {new} new, {mature} mature, **{at_risk} at risk** "
                               "and {churned} churned (no order for {churned_days} days); {prospects} more are "
                               "prospects."),
    "story_lifecycle_stages_buyers": ("有购买记录的客户 **{buying}** 位：新客 {new}、成熟客户 {mature}、预警客户 **{at_risk}**、"
                                      "流失客户 {churned}（超过 {churned_days} 天未下单）。",
                                      "**{buying}** customers have bought: {new} new, {mature} mature, **{at_risk} at "
                                      "risk** and {churned} churned (no order for {churned_days} days)."),
    "story_lifecycle_since_previous_run": ("与上一次运行相比", "Since the previous run"),
    "story_lifecycle_since_month_earlier": ("未找到上一次运行的结果，与一个月前相比",
                                            "No previous run was found; compared with one month earlier"),
    "story_lifecycle_movements": ("{since}：新进入预警 **{to_risk}** 位，新流失 **{to_churn}** 位，从预警或流失恢复 {back} 位。",
                                  "{since}: **{to_risk}** customers became at risk, **{to_churn}** churned and {back} "
                                  "came back from at risk or churned."),
    "story_lifecycle_rates": ("近{months}个月复购率（当月购买客户中的老客户占比）**{repurchase}**，平均月流失率 **{churn}**。",
                              "Over the last {months} months the repurchase rate (returning customers among the "
                              "month's buyers) was **{repurchase}** and the monthly churn rate **{churn}**."),
    "story_lifecycle_retention": ("首单后第1个月仍购买的客户占 **{m1}**，第12个月占 {m12}。",
                                  "**{m1}** of customers buy again in the month after their first order; {m12} in "
                                  "the 12th month."),
    "story_lifecycle_customer_who": ("{name}（{customer_id}）", "{name} ({customer_id})"),
    "story_lifecycle_customer_days": ("，距上次下单 {days} 天", ", last order {days} days ago"),
    "story_lifecycle_customer": ("**{who}** 处于 **{stage}** 阶段（{reason}{since}）。分析期内下单 {orders} 笔，销售额 "
                                 "{revenue}；RFM类别 {rfm_class}，分层 {tier}；预计客户终身价值 {clv}，流失概率 "
                                 "{churn}。\n\n**建议行动：{action}**（{action_reason}）。",
                                 "**{who}** is **{stage}** ({reason}{since}). In the period: {orders} orders, revenue "
                                 "{revenue}; RFM class {rfm_class}, tier {tier}; expected CLV {clv}, churn "
                                 "probability {churn}.\n\n**Next action: {action}** ({action_reason})."),
}
