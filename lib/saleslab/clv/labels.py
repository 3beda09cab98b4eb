"""Labels of the customer value part of the 07 stage (domain.md §6): CLV (BG/NBD, Gamma-Gamma),
hold-out check, LTV/CAC. The churn warning's labels are in :mod:`saleslab.churn.labels`. Generic
column names (customer_id, frequency, recency_days ...) are left to the customer modules' label
files; keys here are specific to customer value."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"p_alive", "total_relative_error"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "07_clv_churn": ("客户价值与流失预警", "Customer value and churn warning"),
    # CLV summary and value columns
    "T": ("首购至今(周)", "T: weeks since first purchase"),
    "monetary_value": ("复购平均金额", "Mean repeat purchase value"),
    "expected_purchases": ("预期购买次数", "Expected purchases"),
    "p_alive": ("仍活跃概率", "Probability alive"),
    "expected_spend": ("预期单次金额", "Expected value per purchase"),
    "clv": ("客户终身价值(CLV)", "CLV"),
    # model parameters
    "clv_model": ("模型", "Model"),
    "clv_parameter": ("参数", "Parameter"),
    "clv_estimate": ("估计值", "Estimate"),
    "log_likelihood": ("对数似然", "Log-likelihood"),
    "converged": ("已收敛", "Converged"),
    "fitted_customers": ("拟合客户数", "Customers fitted"),
    "bg_nbd": ("BG/NBD 购买次数模型", "BG/NBD (purchases)"),
    "gamma_gamma": ("Gamma-Gamma 金额模型", "Gamma-Gamma (spend)"),
    # hold-out check
    "frequency_group": ("校准期复购次数", "Calibration repeat purchases"),
    "customer_count": ("客户数", "Customers"),
    "actual_mean": ("实际人均购买", "Actual per customer"),
    "predicted_mean": ("预测人均购买", "Predicted per customer"),
    "naive_mean": ("朴素预测人均", "Naive per customer"),
    "actual_total": ("实际购买合计", "Actual total"),
    "predicted_total": ("预测购买合计", "Predicted total"),
    "mae": ("平均绝对误差(人均)", "MAE per customer"),
    "total_relative_error": ("合计相对误差", "Total relative error"),
    "scorer": ("方法", "Method"),
    "naive_rate": ("朴素基准(按校准期频率)", "Naive (calibration rate)"),
    # LTV / CAC
    "mean_clv": ("平均CLV", "Mean CLV"),
    "total_clv": ("CLV合计", "Total CLV"),
    "ltv_cac": ("LTV/CAC", "LTV/CAC"),
    # charts ({months}: the horizon or hold-out the table was computed with)
    "clv_holdout_title": ("预测与实际购买次数(留出期：最近 {months} 个月)",
                          "Predicted vs actual purchases (hold-out: the last {months} months)"),
    "clv_distribution_title": ("客户终身价值分布(未来 {months} 个月)", "CLV distribution (next {months} months)"),
    "clv_top_customers_chart": ("CLV最高的客户", "Top customers by CLV"),
    "ltv_cac_chart": ("各获客渠道 LTV/CAC", "LTV/CAC by acquisition channel"),
    "ltv_cac_breakeven": ("LTV/CAC = 1", "LTV/CAC = 1"),
    "customers_axis": ("客户数", "Customers"),
    # sections (a section that cannot be computed says so in one line under its title)
    "clv_parameters_section": ("模型参数", "Model parameters"),
    "clv_holdout_section": ("留出期检验", "Hold-out check"),
    "clv_section": ("客户终身价值", "Customer lifetime value"),
    # headlines
    "clv_total": ("客户终身价值合计", "Total CLV"),
    "clv_mean": ("人均客户终身价值", "Mean CLV"),
    "clv_holdout_error": ("留出期预测合计误差", "Hold-out total error"),
    # story templates (one per finding, both languages; {months} etc. from the tables' parameters)
    "story_clv_empty": ("没有可计算客户终身价值的客户。", "There are no customers to compute a lifetime value for."),
    "story_clv_none": ("本部分的客户价值模型在当前数据上无法计算，原因见下方各部分。",
                       "The customer value models cannot be computed on these data; each section below says why."),
    "story_clv_total": ("未来 {months} 个月客户终身价值(毛利、折现)合计 **{total}**，价值最高的 20% 客户占 **{top20}**。",
                        "Customer lifetime value over the next {months} months (margin, discounted) totals "
                        "**{total}**; the top 20 % of customers hold **{top20}** of it."),
    "story_clv_ltv_cac": ("LTV/CAC 最高的获客渠道是 **{best}**（{best_ratio}），最低的是 **{worst}**（{worst_ratio}）。",
                          "The best LTV/CAC is in **{best}** ({best_ratio}), the lowest in **{worst}** ({worst_ratio})."),
    "story_clv_holdout": ("购买次数模型在留出期(最近 {months} 个月)的预测合计误差为 {error}，朴素基准为 {naive_error}。",
                          "Over the hold-out (the last {months} months) the purchase model's total error is {error}, "
                          "the naive baseline's {naive_error}."),
}
