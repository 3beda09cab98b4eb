"""Labels of the churn warning part of the 07 stage (domain.md §6): evaluation against the recency
baselines, calibration and lift, scores, reasons and the call list."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"base_rate", "top_decile_precision", "flagged_precision", "flagged_recall", "churn_probability",
          "mean_predicted", "observed_rate", "churn_rate", "cumulative_capture"}

#: Columns that hold amounts in 元 (one unit per column in tables).
MONEY = {"risk_value"}

LABELS: dict[str, tuple[str, str]] = {
    # codes and columns shown in tables (issue 13)
    "owner_rep_id": ("负责销售编号", "Owner rep ID"),
    "recency": ("距上次购买天数", "Days since last purchase"),
    "spend_12m": ("近12个月采购额", "Purchases, last 12 months"),
    "frequency_3m": ("近3个月购买天数", "Buying days, last 3 months"),
    "frequency_6m": ("近6个月购买天数", "Buying days, last 6 months"),
    "frequency_12m": ("近12个月购买天数", "Buying days, last 12 months"),
    "frequency_trend": ("购买频次趋势", "Buying frequency trend"),
    "spend_trend": ("采购额趋势", "Purchases trend"),
    "followups_6m": ("近6个月跟进次数", "Follow-ups, last 6 months"),
    "followups_trend": ("跟进次数趋势", "Follow-ups trend"),
    "complaints_6m": ("近6个月投诉次数", "Complaints, last 6 months"),
    # churn evaluation
    "churn_model": ("流失模型", "Churn model"),
    "recency_score": ("基准: 最近购买天数评分", "Baseline: recency as score"),
    "recency_rule": ("基准: 超过天数未购买", "Baseline: recency rule"),
    "base_rate": ("实际流失率", "Churn base rate"),
    "auc": ("AUC", "ROC AUC"),
    "top_decile_precision": ("前10%精确率", "Top-decile precision"),
    "flagged": ("标记客户数", "Flagged"),
    "flagged_precision": ("标记精确率", "Flagged precision"),
    "flagged_recall": ("标记召回率", "Flagged recall"),
    "brier": ("Brier 分数", "Brier score"),
    "bin_lower": ("概率区间下限", "Bin from"),
    "bin_upper": ("概率区间上限", "Bin to"),
    "mean_predicted": ("平均预测流失概率", "Mean predicted"),
    "observed_rate": ("实际流失率", "Observed rate"),
    "decile": ("十分位(1=风险最高)", "Decile (1 = highest risk)"),
    "churn_rate": ("流失率", "Churn rate"),
    "churn_lift": ("提升度", "Lift"),
    "cumulative_capture": ("累计覆盖流失客户", "Cumulative capture"),
    # scores and call list
    "churn_probability": ("流失概率", "Churn probability"),
    "risk_value": ("客户价值", "Customer value"),
    "expected_loss": ("预期损失", "Expected loss"),
    "reason_1": ("原因1", "Reason 1"),
    "reason_2": ("原因2", "Reason 2"),
    "reason_3": ("原因3", "Reason 3"),
    "top_reasons": ("主要原因", "Top reasons"),
    # reasons (churn features), with the unit shown after the value
    "reason_recency_days": ("距上次购买天数", "Days since last purchase"),
    "reason_tenure_days": ("首购至今天数", "Days since first purchase"),
    "reason_frequency_3m": ("近3个月购买次数", "Purchases in last 3 months"),
    "reason_frequency_6m": ("近6个月购买次数", "Purchases in last 6 months"),
    "reason_frequency_12m": ("近12个月购买次数", "Purchases in last 12 months"),
    "reason_spend_12m": ("近12个月消费(元)", "Spend in last 12 months (CNY)"),
    "reason_followups_6m": ("近6个月跟进次数", "Follow-ups in last 6 months"),
    "reason_complaints_6m": ("近6个月投诉次数", "Complaints in last 6 months"),
    "reason_frequency_trend": ("购买频次趋势", "Purchase frequency trend"),
    "reason_spend_trend": ("消费金额趋势", "Spend trend"),
    "reason_followups_trend": ("跟进次数趋势", "Follow-up trend"),
    "reason_main_channel": ("主要购买渠道", "Main channel"),
    "reason_average": ("平均", "avg"),
    # one reason as text: {label} {value} (avg {average}); reasons joined by reason_separator
    "reason_with_average": ("{label} {value}（{average_label} {average}）", "{label} {value} ({average_label} {average})"),
    "reason_with_value": ("{label}: {value}", "{label}: {value}"),
    "reason_separator": ("；", "; "),
    # charts
    "churn_roc_chart": ("ROC 曲线(留出时点)", "ROC curve (held-out cut-off)"),
    "churn_calibration_chart": ("流失概率校准", "Churn probability calibration"),
    "churn_lift_chart": ("按风险十分位的流失率", "Churn rate by risk decile"),
    "churn_risk_threshold": ("风险阈值 {risk_min}", "Risk threshold {risk_min}"),
    "false_positive_rate": ("误报率", "False positive rate"),
    "true_positive_rate": ("命中率", "True positive rate"),
    # sections (a section that cannot be computed says so in one line under its title)
    "churn_evaluation_section": ("流失预警模型评估", "Churn model evaluation"),
    "churn_call_list_section": ("待回访客户", "Call list"),
    # headlines
    "churn_model_auc": ("流失模型AUC(留出)", "Churn model AUC (held out)"),
    "churn_recency_auc": ("基准AUC(最近购买)", "Recency baseline AUC"),
    "churn_at_risk": ("模型预测高流失风险客户数", "Customers at high predicted churn risk (model)"),
    # story templates (one per finding, both languages; thresholds from the tables' parameters)
    "story_churn_model_better": ("流失模型在留出时点的 AUC 为 **{auc}**，优于“最近购买天数”基准（{recency_auc}）；"
                                 "风险最高的 10% 客户中实际流失 {top_decile}（整体 {base_rate}）。",
                                 "The churn model reaches a held-out AUC of **{auc}** and beats the recency baseline "
                                 "({recency_auc}); {top_decile} of the riskiest 10 % did churn (overall {base_rate})."),
    "story_churn_model_not_better": ("流失模型在留出时点的 AUC 为 **{auc}**，未优于“最近购买天数”基准（{recency_auc}）；"
                                     "风险最高的 10% 客户中实际流失 {top_decile}（整体 {base_rate}）。",
                                     "The churn model reaches a held-out AUC of **{auc}** and does not beat the recency "
                                     "baseline ({recency_auc}); {top_decile} of the riskiest 10 % did churn "
                                     "(overall {base_rate})."),
    "story_churn_none": ("流失预警模型在当前数据上无法计算，原因见下方各部分。",
                         "The churn warning model cannot be computed on these data; each section below says why."),
    "story_churn_calls": ("待回访名单：**{customers}** 位流失概率不低于 {risk_min}、{basis}位于前 {share} 的客户，"
                          "预期损失合计 {loss}。",
                          "Call list: **{customers}** customers with a churn probability of at least {risk_min} and "
                          "{basis} in the top {share}, expected loss {loss}."),
    "story_churn_no_calls": ("没有流失概率不低于 {risk_min}、且{basis}位于前 {share} 的客户，待回访名单为空。",
                             "No customer has a churn probability of at least {risk_min} and {basis} in the top "
                             "{share}: the call list is empty."),
    "churn_basis_spend_12m": ("近12个月消费", "trailing 12-month spend"),
    "churn_basis_clv": ("客户终身价值", "lifetime value"),
    # the executive summary (saleslab.report.pack; issue 13)
    "story_churn_summary_risk": ("模型预测 {n} 位客户流失风险高（概率 ≥ {risk_min}）；回访名单 {calls} 位，预计可能流失 {loss}。",
                                 "{n} customers at high predicted churn risk (probability ≥ {risk_min}); {calls} on the call list, {loss} at risk of being lost."),
}
