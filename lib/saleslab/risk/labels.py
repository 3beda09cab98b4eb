"""Labels of the risk stage (domain.md §10): receivables, credit, bad debt, turnover watch,
concentration, alerts. Column names shared with other areas (customer_id, distributor_name,
invoiced, collected, collection_rate, customers, invoices, revenue, share, category, channel)
are labelled there."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"unpaid_share", "late_share", "bad_debt_rate", "turnover_deviation", "top_share", "largest_share"}

LABELS: dict[str, tuple[str, str]] = {
    # codes and columns shown in tables (issue 13)
    "0-30": ("逾期0-30天", "0-30 days past due"),
    "31-60": ("逾期31-60天", "31-60 days past due"),
    "61-90": ("逾期61-90天", "61-90 days past due"),
    ">90": ("逾期90天以上", "Over 90 days past due"),
    # stage
    "12_risk": ("风险管理", "Risk"),
    # receivables and ageing
    "invoices_open": ("未结发票数", "Open invoices"),
    "outstanding": ("逾期未回款", "Outstanding past due"),
    "max_days_overdue": ("最长逾期天数", "Oldest days past due"),
    "ageing_bucket": ("账龄(逾期天数)", "Ageing (days past due)"),
    "scope": ("范围", "Scope"),
    "mature_invoices": ("到期超过坏账天数的发票数", "Invoices past the bad-debt age"),
    "bad_debt_invoices": ("坏账发票数", "Bad-debt invoices"),
    "bad_debt": ("坏账金额", "Bad debt"),
    "bad_debt_rate": ("坏账率", "Bad-debt rate"),
    "above_target": ("超出目标", "Above target"),
    "collection_status": ("回款状态", "Collection status"),
    "collection_low": ("回款差(预警)", "Poor (alert)"),
    "collection_watch": ("回款偏低(关注)", "Low (watch)"),
    "collection_ok": ("正常", "Normal"),
    # credit rating
    "unpaid_share": ("未回款占比", "Unpaid share"),
    "late_share": ("未按期回款占比", "Share not paid on time"),
    "days_overdue": ("加权逾期天数", "Days overdue (weighted)"),
    "points_unpaid": ("未回款得分", "Points: unpaid"),
    "points_late": ("逾期回款得分", "Points: late"),
    "points_overdue": ("逾期天数得分", "Points: days overdue"),
    "points_exposure": ("敞口得分", "Points: exposure"),
    "credit_points": ("信用风险分", "Credit risk points"),
    "credit_grade": ("信用等级", "Credit grade"),
    "credit_a": ("A 低风险", "A low risk"),
    "credit_b": ("B 较低风险", "B moderate risk"),
    "credit_c": ("C 关注", "C watch"),
    "credit_d": ("D 高风险", "D high risk"),
    "risk_owner_type": ("负责人类型", "Owner type"),
    "risk_owner": ("负责人", "Owner"),
    "risk_owner_name": ("负责人姓名", "Owner name"),
    "owner_rep": ("销售代表", "Sales rep"),
    "owner_role": ("岗位", "Role"),
    "role_channel_manager": ("渠道经理", "Channel manager"),
    "role_credit_manager": ("信用管理", "Credit control"),
    "role_finance_manager": ("财务经理", "Finance manager"),
    "role_inventory_manager": ("库存主管", "Inventory manager"),
    # inventory turnover watch
    "snapshot_date": ("快照日期", "Snapshot date"),
    "stock_value": ("库存金额(成本)", "Stock value (at cost)"),
    "cogs_window": ("窗口内销售成本", "Cost of goods in the window"),
    "turnover": ("库存周转率(年化)", "Inventory turnover (annualised)"),
    "expected_turnover": ("预期周转率", "Expected turnover"),
    "turnover_deviation": ("周转率偏离", "Turnover deviation"),
    "turnover_alert": ("超出阈值", "Beyond threshold"),
    "turnover_direction": ("偏离方向", "Direction"),
    "turnover_down": ("周转放缓(积压)", "Slower (stock building up)"),
    "turnover_up": ("周转加快(缺货风险)", "Faster (stock-out risk)"),
    "turnover_steady": ("正常范围", "Within range"),
    "watch_frequency": ("监控频率", "Watch frequency"),
    "freq_daily": ("每日", "daily"),
    "freq_weekly": ("每周", "weekly"),
    "freq_monthly": ("每月(月末快照)", "monthly (month-end snapshots)"),
    "freq_irregular": ("不规则间隔", "irregular intervals"),
    "flagged_observations": ("超阈值观测数", "Observations beyond threshold"),
    "judged_observations": ("可判断观测数", "Observations judged"),
    # concentration
    "top_revenue": ("前N名客户销售额", "Top-N customers' revenue"),
    "top_share": ("前N名客户占比", "Top-N customers' share"),
    "hhi": ("HHI 指数(0–1)", "HHI (0–1)"),
    "equivalent_customers": ("等效客户数(1/HHI)", "Equivalent customers (1/HHI)"),
    "largest_customer": ("最大客户", "Largest customer"),
    "largest_share": ("最大客户占比", "Largest customer's share"),
    # alerts
    "alert": ("预警类型", "Alert"),
    "severity": ("严重程度", "Severity"),
    "severity_high": ("高", "High"),
    "severity_medium": ("中", "Medium"),
    "entity_type": ("对象类型", "Subject type"),
    "entity_id": ("对象", "Subject"),
    "entity_name": ("对象名称", "Subject name"),
    "entity_distributor": ("经销商", "Distributor"),
    "entity_customer": ("客户", "Customer"),
    "entity_company": ("公司整体", "Company"),
    "entity_category": ("品类", "Category"),
    "entity_channel": ("渠道", "Channel"),
    "alert_metric": ("触发指标", "Metric"),
    "alert_value": ("指标值", "Value"),
    "alert_threshold": ("阈值", "Threshold"),
    "at_stake": ("涉及金额", "Amount at stake"),
    "observed_on": ("数据日期", "As of"),
    "evidence": ("依据", "Evidence"),
    "alert_distributor_collection": ("经销商回款差", "Distributor with poor collection"),
    "alert_credit_grade": ("客户信用风险", "Customer credit risk"),
    "alert_bad_debt": ("坏账率超标", "Bad-debt rate above target"),
    "alert_turnover": ("库存周转偏离", "Inventory turnover deviation"),
    "alert_concentration": ("客户集中度高", "High customer concentration"),
    # charts, tables and headlines
    "risk_ageing_title": ("逾期应收账龄分布", "Receivables past due by age"),
    "risk_ageing_by_customer": ("客户账龄", "Ageing by customer"),
    "risk_ageing_by_distributor": ("经销商账龄", "Ageing by distributor"),
    "risk_ageing_by_rep": ("销售代表账龄", "Ageing by rep"),
    "risk_credit_title": ("客户信用等级分布(按敞口)", "Credit grades (by exposure)"),
    "risk_collection_title": ("经销商回款率", "Distributor collection rate"),
    "risk_collection_min_line": ("预警线", "Alert line"),
    "risk_collection_watch_line": ("关注线", "Watch line"),
    "risk_turnover_title": ("库存周转率与预期", "Inventory turnover against its expected level"),
    "risk_turnover_band": ("预期 ± 阈值", "Expected ± threshold"),
    "risk_concentration_title": ("各渠道客户集中度", "Customer concentration by channel"),
    "risk_bad_debt_by_channel": ("各渠道坏账率", "Bad-debt rate by channel"),
    "risk_receivables_overdue": ("逾期应收合计", "Receivables past due"),
    "risk_high_alerts": ("高风险预警数", "High alerts"),
    "risk_credit_grades": ("信用等级分布", "Credit grades"),
    "risk_alerts_table": ("风险预警清单", "Risk alerts"),
    "risk_credit_table": ("客户信用评级", "Customer credit rating"),
    "risk_section_credit": ("客户信用评级", "Customer credit rating"),
    "risk_section_ageing": ("应收账款账龄", "Receivables ageing"),
    "risk_section_bad_debt": ("坏账率", "Bad-debt rate"),
    "risk_section_distributors": ("经销商回款", "Distributor collection"),
    "risk_section_turnover": ("库存周转监控", "Inventory turnover watch"),
    "risk_section_concentration": ("客户集中度", "Customer concentration"),
    "risk_section_alerts": ("风险预警", "Risk alerts"),
    # story templates ({name} placeholders; one template per finding, both languages)
    "story_risk_alerts": ("共 **{total}** 条风险预警，其中高 **{high}** 条、中 {medium} 条（明细见下方预警清单）。",
                          "**{total}** risk alerts, **{high}** high and {medium} medium (listed below)."),
    "story_risk_no_alerts": ("没有触发任何风险预警。", "No risk alert was raised."),
    "story_risk_weak_distributors": (
        "回款率低于 {collection_min} 的经销商：**{names}**，逾期未回款合计 **{amount}**，建议清退复核。",
        "Distributors collecting less than {collection_min}: **{names}**, with **{amount}** outstanding; "
        "they are flagged for closure review."),
    "story_risk_no_weak_distributors": ("没有经销商的回款率低于 {collection_min}。",
                                        "No distributor collects less than {collection_min}."),
    "story_risk_bad_debt": (
        "坏账率 **{rate}**（逾期超过 {days} 天仍未回款 {bad}，占这些到期发票 {invoiced}），{verdict}目标 {target}。",
        "The bad-debt rate is **{rate}** ({bad} more than {days} days past due and unpaid, of {invoiced} "
        "invoiced and due that long), {verdict} the {target} target."),
    "story_risk_verdict_above": ("高于", "above"),
    "story_risk_verdict_within": ("未超过", "within"),
    "story_risk_ageing": (
        "截至 {as_of}，逾期应收 **{total}**，其中逾期超过 {last} 天 {over}（{share}）。",
        "On {as_of}, **{total}** is past due, {over} of it ({share}) more than {last} days."),
    "story_risk_credit": ("信用等级 D（高风险）客户 {n} 家，敞口 {exposure}：{names}。",
                          "{n} customers are rated D (high risk), with {exposure} exposure: {names}."),
    "story_risk_no_credit_d": ("没有客户的信用等级为 D（高风险）。", "No customer is rated D (high risk)."),
    "story_risk_turnover": (
        "库存周转按 **{frequency}** 监控（{n} 个观测点，快照间隔中位数 {gap} 天；数据源若提供每日快照则每日监控）。"
        "最近一次 {date}：周转率 {turnover}，预期 {expected}，偏离 **{deviation}**（阈值 ±{threshold}）；"
        "期间 {flagged}/{judged} 个观测点超出阈值。",
        "Inventory turnover was watched **{frequency}** ({n} observations, median gap {gap} days; it is watched daily "
        "when a source sends daily snapshots). Last observation {date}: turnover {turnover} against {expected} expected, "
        "a deviation of **{deviation}** (threshold ±{threshold}); {flagged} of {judged} observations of the period were "
        "beyond the threshold."),
    "story_risk_concentration": (
        "客户集中度最高的渠道是 **{channel}**：HHI {hhi}（相当于 {equivalent} 家同等规模客户），前 {n} 名客户占 {top}。",
        "The most concentrated channel is **{channel}**: HHI {hhi} (as if {equivalent} equal customers), the top {n} "
        "customers hold {top}."),
    # evidence of an alert (the figures that triggered it)
    "evidence_alert_distributor_collection": (
        "回款率 {value} 低于 {threshold}；逾期未回款 {at_stake}，最长逾期 {days} 天",
        "collection rate {value} below {threshold}; {at_stake} outstanding, oldest {days} days past due"),
    "evidence_alert_credit_grade": (
        "信用风险分 {value} 分（≥ {threshold} 分）；敞口 {at_stake}，加权逾期 {days} 天",
        "{value} credit risk points (≥ {threshold}); exposure {at_stake}, {days} days overdue (weighted)"),
    "evidence_alert_bad_debt": (
        "坏账率 {value} 高于目标 {threshold}；逾期超过 {days} 天未回款 {at_stake}",
        "bad-debt rate {value} above the {threshold} target; {at_stake} unpaid more than {days} days past due"),
    "evidence_alert_turnover": (
        "周转率偏离预期 {value}（阈值 ±{threshold}）；库存 {at_stake}",
        "turnover {value} off its expected level (threshold ±{threshold}); stock {at_stake}"),
    "evidence_alert_concentration_hhi": (
        "HHI {value} 高于 {threshold}；渠道销售额 {at_stake}",
        "HHI {value} above {threshold}; channel revenue {at_stake}"),
    "evidence_alert_concentration_top_share": (
        "前N名客户占比 {value} 高于 {threshold}；渠道销售额 {at_stake}",
        "top-N customers' share {value} above {threshold}; channel revenue {at_stake}"),
    # the executive summary (saleslab.report.pack; issue 13)
    "story_risk_top_alert": ("【{severity}】{alert}：{who}，{evidence}", "[{severity}] {alert}: {who} — {evidence}"),
}
